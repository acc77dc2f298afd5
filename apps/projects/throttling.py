"""Wrong API keys, per client IP: past the limit an address is refused before its key is looked up,
so guessing keys costs the guesser time and the database nothing."""

from rest_framework.exceptions import Throttled

from apps.core.throttling import ClientIpThrottle


class ApiKeyFailureThrottle(ClientIpThrottle):
    scope = "api_key_failure_ip"


def api_key_failures_check(request) -> None:
    """429 for an address that has sent too many wrong keys lately, whatever key it sends now."""
    throttle = ApiKeyFailureThrottle()
    if throttle.exhausted(request):
        raise Throttled(throttle.wait())


def api_key_failure_count(request) -> None:
    """Counts a wrong (unknown or revoked) key against the address it came from."""
    ApiKeyFailureThrottle().allow_request(request, None)
