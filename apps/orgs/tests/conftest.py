import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.tokens import tokens_for_user
from apps.orgs.audit import Actor
from apps.orgs.models import Membership
from apps.orgs.services import org_create


@pytest.fixture
def org(alice):
    return org_create(user=alice, name="Acme", actor=Actor(user=alice))


def add(org, email: str, role: str) -> User:
    user = User.objects.create_user(email=email, password="x")
    Membership.objects.create(organization=org, user=user, role=role)
    return user


@pytest.fixture
def team(org):
    """admin, member and viewer of alice's organization (alice owns it)."""
    return {role: add(org, f"{role}@example.com", role) for role in ("admin", "member", "viewer")}


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(user)['access']}")
    return client
