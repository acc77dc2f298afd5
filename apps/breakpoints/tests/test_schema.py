from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from apps.breakpoints import api
from apps.core.urls import slash_path

PATTERNS = [
    path("api/breakpoints", include("apps.breakpoints.api_urls")),
    *slash_path("api/ingest/run/<uuid:run_id>/control", api.run_control_api),
    *slash_path("api/runs/<uuid:run_id>/resume", api.run_resume_api),
]


def test_every_endpoint_is_documented_without_warnings(capsys):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=PATTERNS).get_schema(request=None, public=True)
    assert not GENERATOR_STATS, capsys.readouterr().err
    paths = schema["paths"]
    assert set(paths) == {
        "/api/breakpoints",
        "/api/breakpoints/test",
        "/api/breakpoints/{breakpoint_id}",
        "/api/breakpoints/{breakpoint_id}/toggle",
        "/api/ingest/run/{run_id}/control",
        "/api/runs/{run_id}/resume",
    }
    control = paths["/api/ingest/run/{run_id}/control"]["get"]
    assert control["security"] == [{"ApiKey": []}]
    actions = schema["components"]["schemas"]["ControlActionEnum"]["enum"]
    assert actions == ["pause", "continue", "skip", "abort"]
