from rest_framework.settings import api_settings

from apps.core.throttling import CountingThrottle
from apps.projects.models import ApiKey

DEFAULT_RATE = "6000/min"


class IngestThrottle(CountingThrottle):
    """Requests per API key, counted in the throttles' cache that every worker shares.

    The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ingest"]` (env `INGEST_THROTTLE_RATE`),
    read per request rather than at import time so a changed setting applies at once.
    """

    scope = "ingest"

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
