"""Indexes for the dashboard's cost at a million runs.

- `run_steps_priced_idx`: the priced steps of a run, with their model and cost included, so the
  live cost by model (today's runs) and a day's rollup look up only their runs' steps from the
  index instead of scanning all of run_steps.
- `runs_dashboard_cover_idx` (created by dashboard 0002, PostgreSQL only) gains `cost_usd` in its
  INCLUDE, so summing today's runs' cost stays an index-only scan. Dropped and created again;
  reversing puts the previous columns back.
"""

from django.db import migrations, models

COVER = "runs_dashboard_cover_idx"
COVER_COLUMNS = "status, duration_ms, agent_name"


def _cover(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {COVER}")
        schema_editor.execute(f"CREATE INDEX {COVER} ON runs (project_id, started_at) INCLUDE ({include})")


def cover_with_cost(apps, schema_editor):
    _cover(schema_editor, f"{COVER_COLUMNS}, cost_usd")


def cover_without_cost(apps, schema_editor):
    _cover(schema_editor, COVER_COLUMNS)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0010_cost_filter_index"),
        ("dashboard", "0002_runs_dashboard_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="runstep",
            index=models.Index(
                condition=models.Q(("cost_usd__isnull", False)),
                fields=["run"],
                include=("model", "cost_usd"),
                name="run_steps_priced_idx",
            ),
        ),
        migrations.RunPython(cover_with_cost, cover_without_cost, elidable=False),
    ]
