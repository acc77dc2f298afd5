from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from apps.breakpoints import api
from apps.core.urls import slash_path

PATTERNS = [
    path("api/breakpoints", include("apps.breakpoints.api_urls")),
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
        "/api/runs/{run_id}/resume",
    }
    actions = schema["components"]["schemas"]["HitActionEnum"]["enum"]
    assert actions == ["continue", "skip", "abort"]
