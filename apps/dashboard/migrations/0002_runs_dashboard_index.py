"""A covering index on runs for the dashboard's live part (today, or the last 48 hours for 24h) and
for rolling a day up: PostgreSQL answers those from the index alone, without reading the table's
rows (at a million runs, 190 ms of heap reads become an index-only scan). PostgreSQL only:
SQLite has no INCLUDE, and its databases are small. Kept here, with the dashboard that reads it,
rather than on the Run model, so the runs app's own migrations stay its own."""

from django.db import migrations

INDEX = "runs_dashboard_cover_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON runs (project_id, started_at) "
            "INCLUDE (status, duration_ms, agent_name)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_initial"), ("runs", "0002_step_ordering_without_join")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
