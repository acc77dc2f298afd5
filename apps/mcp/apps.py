from django.apps import AppConfig


class McpConfig(AppConfig):
    name = "apps.mcp"

    def ready(self) -> None:
        # Calls age out with the runs (apps.runs.retention); the tools a project has seen stay.
        from apps.mcp.models import McpLog
        from apps.runs.retention import register_aged

        register_aged(McpLog, time_field="created_at", project_field="project")
