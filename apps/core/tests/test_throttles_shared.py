"""Every throttle holds across processes: two gunicorn servers of one worker each, as deployed (no
REDIS_URL: the database cache; with it: Redis), take turns answering one client, and the limit is
the limit of both together, never of each."""

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from django.db import connection

from apps.core.tests.servers import AppServer

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/4"
RATES = {
    "LOGIN_ACCOUNT_THROTTLE_RATE": "3/day",
    "LOGIN_IP_THROTTLE_RATE": "4/day",
    "REGISTER_IP_THROTTLE_RATE": "2/day",
    "API_KEY_FAILURE_THROTTLE_RATE": "3/day",
    "INGEST_THROTTLE_RATE": "5/day",
}


@pytest.fixture(scope="module", params=["database", "redis"])
def servers(request, django_db_setup, django_db_blocker, tmp_path_factory):
    if connection.vendor != "postgresql":
        pytest.skip("other processes can't open SQLite's in-memory test database")
    # TRUSTED_PROXIES so that each test can come from addresses of its own; DEBUG for the login page's
    # static files without a collectstatic.
    env = {**RATES, "TRUSTED_PROXIES": "1", "DEBUG": "1"}
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.ConnectionError:
            pytest.skip(f"no Redis at {REDIS_URL}")
        env["REDIS_URL"] = REDIS_URL
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    pair = [AppServer(env=env, log=log), AppServer(env=env, log=log)]
    yield pair
    for server in pair:
        server.stop()


@pytest.fixture(autouse=True)
def one_window():
    """Counters reset with each UTC day: never start a test in a day's last minute."""
    left = 86400 - time.time() % 86400
    if left < 60:
        time.sleep(left + 1)


@pytest.fixture
def client_ip() -> str:
    """An address of this test's own, so no count from another test or an earlier run is in the way."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def take_turns(servers, requests: int, send) -> list[int]:
    """Status codes of `requests` requests sent alternately to each server."""
    with httpx.Client(timeout=30) as http:
        turns = itertools.cycle(servers)
        return [send(http, next(turns).url, n).status_code for n in range(requests)]


def test_sign_in_per_account(servers, alice, client_ip):
    email = f"{uuid.uuid4().hex}@example.com"

    def attempt(http, url, n):
        # A different address each time: only the account is counted against.
        headers = {"X-Forwarded-For": f"{client_ip}{n}"}
        return http.post(f"{url}/api/auth/login", json={"email": email, "password": "wrong"}, headers=headers)

    assert take_turns(servers, 5, attempt) == [401, 401, 401, 429, 429]


def test_sign_in_per_address_page_and_api(servers, client_ip):
    def attempt(http, url, n):
        data, headers = (
            {"email": f"{uuid.uuid4().hex}@example.com", "password": "wrong"},
            {"X-Forwarded-For": client_ip},
        )
        if n % 2:
            return http.post(f"{url}/api/auth/login", json=data, headers=headers)
        page = http.get(f"{url}/login", headers=headers)
        return http.post(
            f"{url}/login", data={**data, "csrfmiddlewaretoken": page.cookies["csrftoken"]}, headers=headers
        )

    assert take_turns(servers, 6, attempt) == [200, 401, 200, 401, 429, 429]


def test_sign_up_per_address(servers, client_ip):
    def attempt(http, url, n):
        body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "a-long-enough-passphrase"}
        return http.post(f"{url}/api/auth/register", json=body, headers={"X-Forwarded-For": client_ip})

    assert take_turns(servers, 4, attempt) == [201, 201, 429, 429]


def test_wrong_api_keys_per_address(servers, api_key, client_ip):
    def attempt(http, url, n):
        key = "as_wrong" if n < 5 else api_key[1]  # the right key, last, still works
        headers = {"X-Agentscope-Key": key, "X-Forwarded-For": client_ip}
        return http.post(f"{url}/api/ingest/run", json={"agent_name": "a"}, headers=headers)

    assert take_turns(servers, 7, attempt) == [401, 401, 401, 429, 429, 201, 201]


def test_ingest_per_key(servers, api_key):
    def attempt(http, url, n):
        return http.post(f"{url}/api/ingest/run", json={"agent_name": "a"}, headers={"X-Agentscope-Key": api_key[1]})

    assert take_turns(servers, 7, attempt) == [201] * 5 + [429] * 2


def test_concurrent_requests_to_both_lose_no_count(servers, api_key):
    def send(n):
        with httpx.Client(timeout=30) as http:
            url = servers[n % 2].url
            return http.post(
                f"{url}/api/ingest/run", json={"agent_name": "a"}, headers={"X-Agentscope-Key": api_key[1]}
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(response.status_code for response in pool.map(send, range(16)))
    assert codes == [201] * 5 + [429] * 11
