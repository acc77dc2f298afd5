from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core import views as core_views
from apps.core.urls import slash_path
from apps.dashboard import api as dashboard_api
from apps.ingest.otlp import api as otlp_api
from apps.orgs import api as orgs_api
from apps.projects import api as projects_api
from apps.runs import api as runs_api

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.unavailable.server_error"

urlpatterns = [
    # First: agents post here many times a second, and Django tries the patterns in order.
    path("api/ingest/", include("apps.ingest.urls")),
    *slash_path("v1/traces", otlp_api.traces, name="otlp_traces"),
    path("admin/", admin.site.urls),
    path("health", core_views.health, name="health"),
    path("metrics", core_views.metrics, name="metrics"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.dashboard.urls")),
    path("", include("apps.projects.urls")),
    path("", include("apps.runs.urls")),
    path("", include("apps.testing.urls")),
    path("", include("apps.breakpoints.urls")),
    path("", include("apps.mcp.urls")),
    *slash_path("api/auth/register", projects_api.register),
    path("api/auth/", include("apps.accounts.api_urls")),
    *slash_path("api/projects/<uuid:project_id>/stats", dashboard_api.stats),
    *slash_path("api/projects/<uuid:project_id>/prices", runs_api.price_list),
    *slash_path("api/projects/<uuid:project_id>/prices/<uuid:price_id>", runs_api.price_detail),
    path("api/projects", include("apps.projects.api_urls")),
    path("api/orgs", include("apps.orgs.api_urls")),
    *slash_path("api/invitations/accept", orgs_api.invitation_accept),
    path("api/runs", include("apps.runs.api_urls")),
    path("api/sessions", include("apps.runs.api_sessions_urls")),
    path("api/tests", include("apps.testing.api_urls")),
    path("api/test-runs", include("apps.testing.api_test_runs_urls")),
    path("api/breakpoints", include("apps.breakpoints.api_urls")),
    path("api/mcp/", include("apps.mcp.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI (served from our static files) sets inline styles; only its page allows them.
    path(
        "api/docs/",
        csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="swagger-ui",
    ),
]

if settings.DEBUG:
    # Django answers an unknown URL under DEBUG with its technical 404 page, which is what `make run`
    # shows a new user; the product's own is what production shows.
    urlpatterns.append(re_path(r"^(?!static/)(?P<path>.*)$", core_views.unknown_page))
