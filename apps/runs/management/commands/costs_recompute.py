"""`manage.py costs_recompute --project ID --since DATE`: reprices stored steps after a price change."""

import uuid
from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from apps.projects.models import Project
from apps.runs.prices import costs_recompute


class Command(BaseCommand):
    help = "Reprice the LLM steps of a project's runs started since DATE, in chunks, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="The project's id.")
        parser.add_argument("--since", required=True, help="A date (YYYY-MM-DD, UTC) or an ISO 8601 time.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, project, since, no_progress, **options):
        try:
            found = Project.objects.get(pk=uuid.UUID(project))
        except (ValueError, Project.DoesNotExist):
            raise CommandError(f"No project {project!r}.") from None
        start = _since(since)
        with tqdm(total=0, unit="run", disable=no_progress, file=self.stderr._out) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            counts = costs_recompute(project=found, since=start, progress=progress)
        self.stdout.write(
            f"Repriced {counts['runs']} runs since {start.isoformat()}: "
            f"{counts['steps']} steps looked at, {counts['changed']} changed."
        )


def _since(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--since {text!r}: give a date (YYYY-MM-DD) or an ISO 8601 time.")
        return datetime.combine(day, time.min, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
