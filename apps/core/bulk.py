"""`bulk_create` for many rows at once, through COPY on PostgreSQL.

psycopg binds a bulk INSERT's parameters one by one (thousands for a batch of steps), which costs
more than the rows themselves; COPY streams the same rows in psycopg's C code. The values are
those `bulk_create` would send (each field's `pre_save` and `get_db_prep_save`), in the caller's
transaction, so both paths store the same rows and fail the same way (an IntegrityError).
"""

from contextlib import nullcontext

from django.db import connections, router
from django.db.models import Model


def bulk_insert(model: type[Model], objs: list[Model]) -> None:
    """Inserts new `objs` (primary keys set or defaulted) like `model.objects.bulk_create(objs)`."""
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql" or not objs:
        model._base_manager.using(using).bulk_create(objs)
        return
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        if not obj._is_pk_set():
            obj.pk = obj._meta.pk.get_pk_value_on_save(obj)
        rows.append([field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields])
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Logged like any query (under DEBUG and in tests' query counts), though psycopg runs it.
        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
