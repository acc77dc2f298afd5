import threading

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory

from apps.core.cache import DatabaseCache
from apps.core.checks import throttles_shared
from apps.core.throttling import ClientIpThrottle, client_ip

DATABASE_CACHE = {"BACKEND": "apps.core.cache.DatabaseCache", "LOCATION": "agentscope_cache"}


def request(**meta):
    return RequestFactory().get("/", **{"REMOTE_ADDR": "192.0.2.10", **meta})


@pytest.fixture
def proxies(settings):
    def trust(n: int):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": n}

    return trust


class TestClientIp:
    def test_it_is_remote_addr_by_default(self):
        assert client_ip(request()) == "192.0.2.10"

    def test_forwarded_for_is_not_believed_without_trusted_proxies(self):
        assert client_ip(request(HTTP_X_FORWARDED_FOR="203.0.113.5")) == "192.0.2.10"

    def test_one_trusted_proxy_gives_the_address_it_saw(self, proxies):
        proxies(1)
        assert client_ip(request(HTTP_X_FORWARDED_FOR="203.0.113.5")) == "203.0.113.5"
        # What the client wrote itself stays on the left, where it is never read.
        assert client_ip(request(HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")) == "203.0.113.5"

    def test_two_trusted_proxies_read_the_second_hop_from_the_right(self, proxies):
        proxies(2)
        assert client_ip(request(HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"

    def test_without_the_header_behind_a_proxy_it_is_remote_addr(self, proxies):
        proxies(1)
        assert client_ip(request()) == "192.0.2.10"

    def test_the_setting_is_trusted_proxies(self):
        from django.conf import settings as project_settings

        assert project_settings.TRUSTED_PROXIES == 0
        assert project_settings.REST_FRAMEWORK["NUM_PROXIES"] == project_settings.TRUSTED_PROXIES


class Sample(ClientIpThrottle):
    scope = "sample"
    rate = "3/day"


def test_a_throttle_counts_each_address_apart():
    assert [Sample().allow_request(request(), None) for _ in range(4)] == [True, True, True, False]
    assert Sample().allow_request(request(REMOTE_ADDR="192.0.2.11"), None)


def test_exhausted_looks_without_counting():
    throttle = Sample()
    assert not throttle.exhausted(request())
    for _ in range(3):
        Sample().allow_request(request(), None)
    assert throttle.exhausted(request())
    assert 0 < throttle.wait() <= 86400


@pytest.mark.django_db
class TestDatabaseCache:
    @pytest.fixture
    def cache(self, settings):
        settings.CACHES = {**settings.CACHES, "throttles": DATABASE_CACHE}
        cache = caches["throttles"]
        assert isinstance(cache, DatabaseCache)
        return cache

    def test_migrate_creates_its_table(self):
        assert "agentscope_cache" in connection.introspection.table_names()
        call_command("createcachetable", dry_run=True, verbosity=0)  # nothing left to create

    def test_incr_adds_to_a_stored_count(self, cache):
        cache.add("hits", 1, 60)
        assert cache.incr("hits") == 2
        assert cache.incr("hits", 5) == 7
        assert cache.get("hits") == 7

    def test_incr_refuses_a_missing_or_expired_key(self, cache):
        with pytest.raises(ValueError):
            cache.incr("nothing")
        cache.set("old", 1, -1)
        with pytest.raises(ValueError):
            cache.incr("old")

    def test_throttles_count_in_it(self, cache):
        assert [Sample().allow_request(request(), None) for _ in range(4)] == [True, True, True, False]
        assert cache.get(f"throttle_sample_192.0.2.10_{int(Sample().timer() // 86400)}") == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_lose_nothing(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database has one writer at a time anyway")
    settings.CACHES = {**settings.CACHES, "throttles": DATABASE_CACHE}
    caches["throttles"].add("hits", 0, 60)

    def count():
        for _ in range(25):
            caches["throttles"].incr("hits")
        connection.close()

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert caches["throttles"].get("hits") == 100


class TestDeployCheck:
    def test_a_per_process_cache_is_a_warning(self, settings):
        settings.CACHES = {**settings.CACHES, "throttles": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        assert [warning.id for warning in throttles_shared(None)] == ["agentscope.W001"]

    @pytest.mark.parametrize(
        "backend", ["apps.core.cache.DatabaseCache", "django.core.cache.backends.redis.RedisCache"]
    )
    def test_a_shared_cache_is_fine(self, settings, backend):
        settings.CACHES = {**settings.CACHES, "throttles": {"BACKEND": backend}}
        assert throttles_shared(None) == []

    def test_production_settings_share_the_throttles(self):
        """Without REDIS_URL, production counts in the database: see .ci/run's check --deploy."""
        import subprocess
        import sys

        code = "from django.conf import settings; print(settings.CACHES['throttles']['BACKEND'])"
        env = {"DJANGO_SETTINGS_MODULE": "agentscope.settings", "SECRET_KEY": "x" * 50, "PATH": ""}
        out = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "apps.core.cache.DatabaseCache"
