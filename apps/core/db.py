"""The PostgreSQL pool's check of a connection before it lends it to a request."""

import select
from collections.abc import Callable

import psycopg
from django.db import connections


def pool_check(alias: str) -> Callable[[psycopg.Connection], None]:
    """A check for the pool of database `alias` that raises for a connection the server has hung up
    on, so that the pool replaces it rather than lend it to a request.

    A server that restarts or ends a backend (pg_terminate_backend, a failover, an idle timeout)
    says goodbye and closes the socket: an idle connection with anything to read is dead. Looking
    costs no round trip, where psycopg_pool's `check_connection` sends a query on every checkout.
    """

    def check(conn: psycopg.Connection) -> None:
        if conn.closed or _hung_up(conn):
            conn.close()  # a closed connection is one the pool discards and replaces
            # One ended likely means all did (a restart): drop the others now, rather than meet them one
            # by one with the pool sleeping longer before each (1 s, 2 s, ...: the request would time out).
            connections[alias].pool.check()
            raise psycopg.OperationalError("the server closed the connection")

    return check


def _hung_up(conn: psycopg.Connection) -> bool:
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))
