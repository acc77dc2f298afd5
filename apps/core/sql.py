"""Hand-written SQL on the hot paths, in one place: rows of plain values read (with the fields' own
conversions) and written (INSERT, UPDATE by primary key, COPY on PostgreSQL), on both vendors.

The ORM's compilation of a query costs more CPU than the query on an ingest post (0.4-0.6 ms of
Python for a lookup PostgreSQL answers in a few hundredths), and the write path (apps.runs.writes)
keeps what it writes as plain values, not model instances: a 500-step batch spent more time building
and preparing instances than PostgreSQL spent storing the rows. Values go to the database as the model's fields would send them (`get_db_prep_save`), except
where, on PostgreSQL, that is the identity for values of the field's own type (uuid, str, int, aware
datetime: psycopg adapts them itself) and for JSON, which is sent as its text, written by orjson
(sixteen times faster than `json.dumps`; jsonb keeps the value, not the text). Many rows go through COPY on PostgreSQL: psycopg binds a multi-row INSERT's
parameters one by one (thousands for a batch), while COPY streams the rows in its C code.
Everything runs in the caller's transaction and fails the same way on both vendors (IntegrityError).
"""

import json
from collections.abc import Callable, Sequence
from functools import cache

import orjson
from django.db import connection, models

COPY_FROM = 20  # rows: below this, one INSERT costs less than a COPY's extra round trip
_AS_IS_ON_POSTGRESQL = (models.UUIDField, models.CharField, models.IntegerField, models.DateTimeField)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Inserts `rows`, each the values of `fields` (attnames) in that order."""
    if not rows:
        return
    prepare = row_preparer(model, tuple(fields), connection.vendor)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        _copy(model, fields, [prepare(row) for row in rows])
        return
    table, columns = _names(model, tuple(fields))
    one = f"({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement, however many rows
            values = [value for row in rows for value in prepare(row)]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(rows))}", values)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}", [prepare(row) for row in rows])


def update_row(model: type[models.Model], pk, values: dict) -> None:
    """UPDATE of one row by primary key: `values` maps attnames to their new values."""
    fields = tuple(values)
    prepared = row_preparer(model, fields, connection.vendor)(list(values.values()))
    table, _ = _names(model, ())
    assignments = ", ".join(f"{_column(model, name)} = %s" for name in fields)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", [*prepared, _pk_value(model, pk)])


class Columns:
    """The fields (of any models) a hand-written SELECT returns, in order, and how to read them: as the
    ORM's compiler does, with the backend's converters and the fields' own (on SQLite, uuids and times
    come back as text). Made once per query, where it is written."""

    def __init__(self, *fields: models.Field):
        self.fields, self.vendor, self.steps = fields, None, []

    def convert(self, row: Sequence) -> list:
        if self.vendor != connection.vendor:
            self.vendor, self.steps = connection.vendor, []
            for position, field in enumerate(self.fields):
                column = field.get_col(field.model._meta.db_table)
                converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
                self.steps.extend((position, converter, column) for converter in converters)
        row = list(row)
        for position, converter, column in self.steps:
            row[position] = converter(row[position], column, connection)
        return row


def select_rows(sql: str, params: Sequence, columns: Columns) -> list[list]:
    """The rows of `sql` as Python values."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [columns.convert(row) for row in cursor.fetchall()]


def query_values(model: type[models.Model], attname: str, values) -> list:
    """`values` of one field as the driver takes them in a query's parameters."""
    prepare = row_preparer(model, (attname,), connection.vendor)
    return [prepare([value])[0] for value in values]


@cache
def row_preparer(model: type[models.Model], fields: tuple[str, ...], vendor: str) -> Callable[[Sequence], list]:
    """A function turning a row of Python values into what the database driver is given."""
    steps = [_value_preparer(model._meta.get_field(_field_name(model, name)), vendor) for name in fields]
    steps = [(position, step) for position, step in enumerate(steps) if step is not None]

    def prepare(row: Sequence) -> list:
        row = list(row)
        for position, step in steps:
            row[position] = step(row[position])
        return row

    return prepare


def _value_preparer(field: models.Field, vendor: str) -> Callable | None:
    if vendor != "postgresql":
        # SQLite keeps JSON as the text it is given, and the ORM's lookups compare that text: Django's own
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, models.JSONField) and field.encoder is None:
        return _json_text  # jsonb keeps the value, not the text
    if isinstance(field.target_field if field.is_relation else field, _AS_IS_ON_POSTGRESQL):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _json_text(value) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson refuses (an int beyond 64 bits, a key that isn't a string…)
        return json.dumps(value)


def _copy(model: type[models.Model], fields: Sequence[str], rows: list[list]) -> None:
    table, columns = _names(model, tuple(fields))
    sql = f"COPY {table} ({columns}) FROM STDIN"
    # Django's cursor logs the COPY like any query (DEBUG's `connection.queries`, tests' query counts).
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


@cache
def _names(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, str]:
    return connection.ops.quote_name(model._meta.db_table), ", ".join(_column(model, name) for name in fields)


def _column(model: type[models.Model], attname: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(_field_name(model, attname)).column)


def _field_name(model: type[models.Model], attname: str) -> str:
    """`run_id` -> `run`: the field a foreign key's attname belongs to."""
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    raise LookupError(f"{model.__name__} has no field {attname}")


def _pk_value(model: type[models.Model], pk):
    return row_preparer(model, (model._meta.pk.attname,), connection.vendor)([pk])[0]
