"""`agentscope ping` against the real server."""

import pytest

from agentscope_sdk.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_works(live_server, api_key, capsys):
    assert main(["ping", "--base-url", live_server.url, "--api-key", api_key[1]]) == 0
    assert "ok, the key is accepted" in capsys.readouterr().out


def test_it_reports_a_refused_key(live_server, capsys):
    assert main(["ping", "--base-url", live_server.url, "--api-key", "as_wrong"]) == 1
    assert "refused (HTTP 401" in capsys.readouterr().err


def test_it_reports_an_unreachable_server(free_port, capsys):
    assert main(["ping", "--base-url", f"http://127.0.0.1:{free_port}", "--api-key", "as_x"]) == 1
    assert "unreachable" in capsys.readouterr().err
