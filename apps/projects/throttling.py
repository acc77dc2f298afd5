"""Wrong API keys, per client IP, counted in the store every worker shares.

A right key never touches the count, so ingest pays nothing for it, and an agent keeps working
behind an address that some other client fills with wrong keys. Past the limit, an address's wrong
keys are answered 429; a worker that has seen it go past the limit answers them without asking the
store until the window ends, so a guesser costs one indexed lookup a try and gets nothing back. Keys
carry enough randomness (`ApiKey.generate`) that no guess is ever right.
"""

import time

from rest_framework.exceptions import Throttled

from apps.core.throttling import ClientIpThrottle, client_ip

BLOCKED: dict[str, float] = {}  # client IP -> when its window ends, for addresses past the limit


class ApiKeyFailureThrottle(ClientIpThrottle):
    scope = "api_key_failure_ip"


def api_key_failure_known_blocked(request) -> None:
    """429 for an address this worker saw go past the limit, before its key costs a lookup."""
    ip = client_ip(request)
    until = BLOCKED.get(ip)
    if until is None:
        return
    wait = until - time.time()
    if wait <= 0:
        del BLOCKED[ip]
        return
    raise Throttled(max(1, int(wait + 0.999)))


def api_key_failure_count(request) -> None:
    """Counts a wrong (unknown or revoked) key against its address: 429 once past the limit."""
    throttle = ApiKeyFailureThrottle()
    if not throttle.allow_request(request, None):
        BLOCKED[client_ip(request)] = throttle.window_ends
        raise Throttled(throttle.wait())
