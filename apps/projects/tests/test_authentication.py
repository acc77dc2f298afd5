from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from apps.projects.authentication import ApiKeyAuthentication, HasApiKey
from apps.projects.models import ApiKey
from apps.projects.services import api_key_revoke

pytestmark = pytest.mark.django_db


@api_view(["GET"])
@authentication_classes([ApiKeyAuthentication])
@permission_classes([HasApiKey])
def whoami(request):
    return Response({"project": str(request.auth.project.id)})


def call(raw=None):
    headers = {"HTTP_X_AGENTSCOPE_KEY": raw} if raw is not None else {}
    return whoami(APIRequestFactory().get("/", **headers))


def test_it_sets_the_project(api_key, project):
    response = call(api_key[1])
    assert response.status_code == 200
    assert response.data == {"project": str(project.id)}


@pytest.mark.parametrize("raw", [None, "", "as_wrong", "Bearer x"])
def test_a_missing_or_bad_key_is_401(raw):
    response = call(raw)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-Agentscope-Key"


def test_a_revoked_key_is_401(api_key):
    api_key_revoke(api_key=api_key[0])
    assert call(api_key[1]).status_code == 401


def test_a_jwt_is_not_a_key(api, api_key):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
    assert whoami(request).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api_key, django_assert_num_queries):
    key, raw = api_key
    call(raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the lookup only, no write
        call(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    call(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first


def test_a_key_stops_working_when_its_projects_owner_is_inactive(api_key, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert call(api_key[1]).status_code == 401
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    assert call(api_key[1]).status_code == 200


def test_request_user_is_the_owner_loaded_only_when_used(api_key, alice, django_assert_num_queries):
    request = APIRequestFactory().get("/", HTTP_X_AGENTSCOPE_KEY=api_key[1])
    call(api_key[1])  # the first use of the key writes last_used_at
    with django_assert_num_queries(1):
        user, key = ApiKeyAuthentication().authenticate(request)
    with django_assert_num_queries(1):
        assert user.email == alice.email
    assert key.project.user_id == alice.pk
