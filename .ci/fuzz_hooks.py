"""Schemathesis hooks (`.ci/fuzz.py`): the credentials of each operation. Ingest takes the API key, the
dashboard API the JWT, and POST /api/auth/logout a JWT of its own each time, since it revokes the one
it is called with (every later operation would answer 401)."""

import os

import django
import schemathesis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentscope.settings")
django.setup()

from apps.accounts.models import User  # noqa: E402  (Django is set up first)
from apps.accounts.tokens import tokens_for_user  # noqa: E402


def bearer(case, token: str) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.auth(refresh_interval=None).apply_to(path="/api/auth/logout")
class FreshToken:
    def get(self, case, ctx):
        return tokens_for_user(User.objects.get(email=os.environ["FUZZ_EMAIL"]))["access"]

    def set(self, case, data, ctx):
        bearer(case, data)


@schemathesis.auth().apply_to(path_regex="^/api/ingest/")
class ApiKey:
    def get(self, case, ctx):
        return os.environ["FUZZ_KEY"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "X-Agentscope-Key": data}


@schemathesis.auth().skip_for(path=["/api/auth/login", "/api/auth/register"])
class Jwt:
    def get(self, case, ctx):
        return os.environ["FUZZ_JWT"]

    def set(self, case, data, ctx):
        bearer(case, data)
