"""The settings module's own defaults, read from the module (tests override some of them)."""

from agentscope import settings as project_settings


def test_the_defaults_are_a_few_attempts_a_minute():
    rates = project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert (rates["login_account"], rates["login_ip"], rates["register_ip"]) == ("10/min", "30/min", "10/hour")


def test_the_default_is_a_few_wrong_keys_a_minute():
    assert project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key_failure_ip"] == "30/min"
