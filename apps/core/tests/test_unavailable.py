"""The database going away, for real: the app's connections go through a TCP proxy that drops them and
refuses new ones (a database that stopped) or forwards nothing (one that hangs). Every answer
meanwhile is a 503 with Retry-After, in the shape its client expects. (test_faults.py: the same under
gunicorn, with a live SDK agent, and the recovery.)"""

import time

import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.core.tests.servers import TcpProxy
from apps.core.unavailable import database_unavailable

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

POOL_TIMEOUT = 1.0  # seconds a request waits for a connection here (3 by default)


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool, its checks and the proxy are PostgreSQL's")


@pytest.fixture
def database(postgresql_only):
    """The app's database behind a proxy this test controls; the pool is rebuilt on both sides."""
    db = connection.settings_dict
    saved = db["HOST"], db["PORT"], dict(db["OPTIONS"]["pool"])
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    connection.close()
    connection.close_pool()
    db["HOST"], db["PORT"] = "127.0.0.1", proxy.port
    db["OPTIONS"]["pool"].update(timeout=POOL_TIMEOUT, reconnect_timeout=POOL_TIMEOUT)
    yield proxy
    proxy.start()
    connection.close()
    connection.close_pool()
    db["HOST"], db["PORT"], db["OPTIONS"]["pool"] = saved
    proxy.stop()


def assert_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_the_api_answers_503_in_its_error_shape(database, api, project):
    assert api.get("/api/projects").status_code == 200
    database.stop()
    response = api.get("/api/projects")
    assert_503(response)
    assert response.json() == {"detail": "The database is unavailable for a moment. Try again shortly.", "errors": {}}


def test_ingest_answers_503_so_the_sdk_retries(database, api_key):
    database.stop()
    response = APIClient(HTTP_X_AGENTSCOPE_KEY=api_key[1]).post("/api/ingest/run", {"agent_name": "a"}, format="json")
    assert_503(response)
    assert response.json()["errors"] == {}


def test_a_page_answers_the_designed_503_page(database, client_alice, project):
    database.stop()
    response = client_alice.get("/runs")
    assert_503(response)
    body = response.content.decode()
    assert "AgentScope can&#x27;t reach its database" in body or "AgentScope can't reach its database" in body
    assert 'href="/runs"' in body and "Try again" in body
    assert 'rel="stylesheet"' in body
    assert "Traceback" not in body and "psycopg" not in body


def test_a_form_posted_meanwhile_says_it_was_not_saved(database, client_alice, project):
    database.stop()
    response = client_alice.post("/projects/new", {"name": "New"})
    assert_503(response)
    assert "was not saved" in response.content.decode()


def test_an_htmx_request_gets_a_toast(database, client_alice, project):
    database.stop()
    response = client_alice.get("/runs", HTTP_HX_REQUEST="true")
    assert_503(response)
    assert "can't reach its database" in response["HX-Trigger"]


def test_a_failure_in_a_middleware_is_a_503_too(database, alice, project):
    """?project= makes CurrentProjectMiddleware read the database before any view runs."""
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    database.stop()
    response = client.get(f"/runs?project={project.pk}")
    assert_503(response)
    assert "reach its database" in response.content.decode()


def test_health_says_unavailable_without_the_drivers_words(database, client):
    database.stop()
    response = client.get("/health")
    assert_503(response)
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_a_request_waits_for_a_new_connection_no_longer_than_the_pool_timeout(database, api, project):
    """A database that accepts connections but never answers (paused, overloaded). Connections already
    in the pool would hang in their query as well: no client-side timeout reaches a server that is
    alive enough to acknowledge packets. The pool is emptied first to wait on new ones."""
    connection.close()
    connection.close_pool()
    database.pause()
    started = time.monotonic()
    response = api.get("/api/projects")
    assert_503(response)
    assert time.monotonic() - started < POOL_TIMEOUT + 2


def django_error(action) -> Exception:
    """The exception Django raises for what `action` does to a real PostgreSQL connection."""
    from django.db.utils import DatabaseErrorWrapper

    with pytest.raises(Exception) as caught, DatabaseErrorWrapper(connection):
        action()
    return caught.value


def admin_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], autocommit=True)


def test_a_refused_or_ended_connection_is_the_database_being_away():
    assert database_unavailable(django_error(lambda: psycopg.connect("host=127.0.0.1 port=1 user=postgres")))
    with admin_connection() as conn:
        assert database_unavailable(django_error(lambda: conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")))


def test_a_query_that_fails_is_not():
    with admin_connection() as conn:
        assert not database_unavailable(django_error(lambda: conn.execute("SELECT * FROM no_such_table")))
        assert not database_unavailable(django_error(lambda: conn.execute("SELECT 1 / 0")))
        conn.execute("SET statement_timeout = 10")
        assert not database_unavailable(django_error(lambda: conn.execute("SELECT pg_sleep(1)")))
