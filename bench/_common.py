"""Shared set-up of the benchmarks: a PostgreSQL database of their own, migrated, with a user,
a project and an API key. Loopback only; nothing here is a test."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def setup_django(database: str, *, recreate: bool = False) -> None:
    """Point Django at `database` on the bench PostgreSQL server (created if missing) and migrate."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists and recreate:
            conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{database}"
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentscope.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def owner_project_key(email: str = "bench@example.com"):
    """(user, project, raw API key) for the bench, created once per database."""
    from apps.accounts.models import User
    from apps.projects.models import Project
    from apps.projects.services import api_key_create, project_create

    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password="bench-pass-123")
    project = Project.objects.filter(user=user).order_by("created_at").first() or project_create(
        user=user, name="Bench"
    )
    _, raw = api_key_create(project=project, name="bench")
    return user, project, raw


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self.start) * 1000
