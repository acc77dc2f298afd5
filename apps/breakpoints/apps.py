from django.apps import AppConfig


class BreakpointsConfig(AppConfig):
    name = "apps.breakpoints"

    def ready(self) -> None:
        from apps.breakpoints import api
        from apps.runs.registry import BANNER, RunPanel, run_page

        # A paused run's controls, above the debugger, polled while the run is live (an ended run
        # never waits again: no banner).
        run_page.register_panel(
            RunPanel(
                name="breakpoints",
                template="breakpoints/_run_banner.html",
                place=BANNER,
                context=lambda *, request, run: None if run.is_finished else {},
                styles=("css/breakpoints.css",),
                scripts=("js/breakpoints.js",),
            )
        )
        run_page.register_api("<uuid:run_id>/resume", api.run_resume_api)
