from apps.core.urls import slash_path
from apps.ingest import api, breakpoints_api, replay_api, tests_api

app_name = "ingest"

# The most frequent first (Django tries them in order).
urlpatterns = [
    *slash_path("run/<uuid:run_id>/step", api.step_create, name="step_create"),
    *slash_path("batch", api.batch, name="batch"),
    *slash_path("run/<uuid:run_id>/step/<uuid:step_id>", api.step_update, name="step_update"),
    *slash_path("run/<uuid:run_id>/control", breakpoints_api.run_control_api, name="run_control"),
    *slash_path("run", api.run_create, name="run_create"),
    *slash_path("run/<uuid:run_id>", api.run_update, name="run_update"),
    *slash_path("run/<uuid:run_id>/end", api.run_end, name="run_end"),
    *slash_path("mcp/tool", api.mcp_tool, name="mcp_tool"),
    *slash_path("mcp/log", api.mcp_log, name="mcp_log"),
    *slash_path("breakpoints", breakpoints_api.breakpoint_list, name="breakpoints"),
    *slash_path("tests", tests_api.ingest_tests, name="tests"),
    *slash_path("test-runs", tests_api.ingest_test_runs, name="test_runs"),
    *slash_path("run/<uuid:run_id>/replay-plan", replay_api.run_replay_plan, name="replay_plan"),
]
