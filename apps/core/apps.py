from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"

    def ready(self):
        from apps.core import checks  # noqa: F401  (registers the deploy checks)
        from apps.core.metrics import register_collector, task_queue_metrics

        register_collector("task_queue", task_queue_metrics)
