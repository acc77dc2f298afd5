from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "apps.runs"

    def ready(self) -> None:
        from apps.core.metrics import register_collector
        from apps.runs.selectors import paused_runs_metrics

        register_collector("paused_runs", paused_runs_metrics)
