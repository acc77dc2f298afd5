"""Two owners stepping down at the same moment: the organization keeps exactly one owner."""

import threading

import pytest
from django.db import connection

from apps.orgs.models import Membership
from apps.orgs.tests.conftest import add, api_as

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_owners_demoting_themselves_at_once_leave_one_owner(org, alice):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite shared cache refuses concurrent writers instead of waiting")
    carol = add(org, "carol@example.com", "owner")
    barrier, codes = threading.Barrier(2), []

    def step_down(user):
        client = api_as(user)
        barrier.wait()
        try:
            codes.append(
                client.patch(f"/api/orgs/{org.pk}/members/{user.pk}", {"role": "admin"}, format="json").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=(user,)) for user in (alice, carol)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 400]
    assert Membership.objects.filter(organization=org, role="owner").count() == 1
