from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "apps.dashboard"

    def ready(self) -> None:
        # The runs app sits below the dashboard and can't call it, so the rollup hears of runs saved
        # or deleted through the ORM here. Bulk writes and .update() send no signal: the ingest
        # services and batch call rollup_invalidate themselves.
        from django.db.models.signals import post_delete, post_save

        from apps.runs.models import Run

        post_save.connect(_run_changed, sender=Run, dispatch_uid="dashboard_rollup_save")
        post_delete.connect(_run_changed, sender=Run, dispatch_uid="dashboard_rollup_delete")


def _run_changed(sender, instance, **kwargs) -> None:
    from apps.dashboard.services import rollup_invalidate

    rollup_invalidate(project_id=instance.project_id, started_at=instance.started_at)
