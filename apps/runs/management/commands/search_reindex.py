from django.core.management.base import BaseCommand

from apps.runs.services import search_reindex


class Command(BaseCommand):
    help = "Makes runs and steps written before full-text search existed searchable (once, after upgrading)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument(
            "--all", dest="everything", action="store_true", help="every run and step, not only those without words"
        )

    def handle(self, *args, batch, everything, **options):
        runs, steps = search_reindex(batch=batch, everything=everything)
        self.stdout.write(f"Indexed {runs:,} runs and {steps:,} steps.")
