from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "apps.testing"

    def ready(self) -> None:
        from apps.runs.registry import HEADER, RunListColumn, RunListFilter, RunPanel, run_list, run_page
        from apps.testing.selectors import (
            runs_failing_test,
            runs_with_failed_tests,
            test_choices,
            verdict_counts,
            verdicts_for_run,
        )

        # Which tests judged the run, and how, below the debugger.
        run_page.register_panel(
            RunPanel(
                name="verdicts",
                template="testing/_run_verdicts.html",
                context=lambda *, request, run: {"verdicts": verdicts_for_run(run=run)},
                styles=("css/tests.css",),
            )
        )
        # The same verdicts as badges in the run's header, where a failed test is seen first.
        run_page.register_panel(
            RunPanel(
                name="verdict-badges",
                place=HEADER,
                template="testing/_run_badges.html",
                context=lambda *, request, run: {"verdicts": verdicts_for_run(run=run)},
            )
        )
        # On the runs list: a column of each run's failed tests, and a filter for them.
        run_list.register_column(
            RunListColumn(name="tests", label="Tests", template="testing/_runs_cell.html", cells=verdict_counts)
        )
        run_list.register_filter(
            RunListFilter(
                name="tests",
                label="Test verdicts",
                choices=(("failed", "Failed tests"),),
                apply=runs_with_failed_tests,
                everything="Any test verdicts",
            )
        )
        run_list.register_filter(
            RunListFilter(
                name="failed_test",
                label="Failed test",
                choices=test_choices,
                apply=runs_failing_test,
                everything="Any test",
            )
        )
        # Verdicts age out with the runs they judged (apps.runs.retention); tests themselves never do.
        from apps.runs.retention import register_aged
        from apps.testing.models import TestRun

        register_aged(TestRun, time_field="executed_at", project_field="test__project")
