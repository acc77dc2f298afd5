import hmac
import logging

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core.metrics import exposition
from apps.core.unavailable import RETRY_AFTER

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # The driver's message names hosts and users: it goes to the log, never to whoever asks.
        logger.warning("Health check: the database is unavailable", exc_info=True)
        response = JsonResponse({"status": "error", "database": "unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_GET
def metrics(request):
    """Prometheus' scrape: `Authorization: Bearer <METRICS_TOKEN>`; off (404) while no token is set."""
    if not settings.METRICS_TOKEN:
        raise Http404
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), settings.METRICS_TOKEN.encode()):
        response = JsonResponse({"detail": "A valid metrics token is required.", "errors": {}}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def not_found(request, exception=None):
    if request.path.startswith(("/api/", "/v1/")):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return render(request, "404.html", status=404)


def unknown_page(request, path: str = ""):
    """Under DEBUG, the last URL: an unknown page gets the product's 404, as in production, not
    Django's technical one (`make run` is what a new user sees)."""
    return not_found(request)
