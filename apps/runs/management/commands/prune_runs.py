"""`manage.py prune_runs`: delete what is older than each project's retention period (apps.runs.retention)."""

import sys
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from apps.runs import retention
from apps.runs.tasks import prune_schedule


class Command(BaseCommand):
    help = "Delete runs, steps, test runs, breakpoint hits and MCP logs older than each project's retention."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would be deleted, delete nothing.")
        parser.add_argument("--chunk", type=int, default=settings.RETENTION_CHUNK_STEPS, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (none without a terminal).")
        parser.add_argument(
            "--schedule", action="store_true", help="Queue the daily prune in the task worker (if not queued yet)."
        )

    def handle(self, *args, dry_run=False, chunk=5000, no_progress=False, schedule=False, **options):
        if schedule:
            when = prune_schedule()
            self.stdout.write(f"The daily prune runs at {when:%Y-%m-%d %H:%M} UTC." if when else "Not queued.")
            return
        now = timezone.now()
        plans = [
            (p, cutoff, retention.prune_plan(project=p, cutoff=cutoff))
            for p, cutoff in retention.projects_with_retention(now=now)
        ]
        plans = [plan for plan in plans if plan[2].total()]
        total = sum((plan for *_, plan in plans), Counter())
        for project, cutoff, plan in plans:
            self.stdout.write(f"{project.name} ({project.pk}), before {cutoff:%Y-%m-%d %H:%M} UTC: {_counts(plan)}")
        if not plans or dry_run:
            self.stdout.write(f"Would delete {_counts(total)}" if plans else "Nothing to delete.")
            return
        deleted = Counter()
        with tqdm(total=total.total(), unit="rows", disable=True if no_progress else None, file=sys.stderr) as bar:
            for project, cutoff, _ in plans:
                deleted += retention.project_prune(
                    project=project, cutoff=cutoff, chunk_steps=chunk, progress=bar.update
                )
        self.stdout.write(self.style.SUCCESS(f"Deleted {_counts(deleted)}"))


def _counts(counter: Counter) -> str:
    return ", ".join(f"{table} {count:,}" for table, count in sorted(counter.items())) or "nothing"
