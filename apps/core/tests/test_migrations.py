import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_brief_tables_exist():
    tables = set(connection.introspection.table_names())
    brief = {"users", "projects", "api_keys", "runs", "run_steps", "tests", "test_runs", "breakpoints"}
    assert brief | {"mcp_tools", "mcp_logs", "breakpoint_hits"} <= tables


def test_users_keep_the_password_in_password_hash():
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "users")]
    assert "password_hash" in columns and "password" not in columns


def test_json_columns_are_jsonb_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("jsonb is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name='runs' AND column_name='input'"
        )
        assert cursor.fetchone()[0] == "jsonb"
