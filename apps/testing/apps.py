from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "apps.testing"

    def ready(self) -> None:
        from apps.runs.registry import RunPanel, run_page
        from apps.testing.selectors import verdicts_for_run

        # Which tests judged the run, and how, below the debugger.
        run_page.register_panel(
            RunPanel(
                name="verdicts",
                template="testing/_run_verdicts.html",
                context=lambda *, request, run: {"verdicts": verdicts_for_run(run=run)},
                styles=("css/tests.css",),
            )
        )
