"""Sign-in and sign-up limits, shared by the pages and the API: per client IP, and per account for
sign-in (so a guesser spread over many addresses still gets a few tries an account)."""

import hashlib

from apps.core.throttling import ClientIpThrottle, CountingThrottle


class LoginIpThrottle(ClientIpThrottle):
    scope = "login_ip"


class LoginAccountThrottle(CountingThrottle):
    """Counts every attempt at an email, the right password included: once the limit is reached, the
    right password waits too, so the limit says nothing about whether a guess was right."""

    scope = "login_account"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if hasattr(request, "data") else request.POST
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterIpThrottle(ClientIpThrottle):
    scope = "register_ip"


def login_throttles() -> list[CountingThrottle]:
    return [LoginIpThrottle(), LoginAccountThrottle()]
