"""PostgreSQL is the real server: transactions, server-side features, LISTEN/NOTIFY over psycopg 3."""

from __future__ import annotations

import uuid

import psycopg
import pytest


def test_server_identifies_itself_as_postgresql(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
    assert version.startswith("PostgreSQL ")


def test_rolled_back_transaction_leaves_nothing_and_committed_one_persists(postgres_url: str) -> None:
    table = f"smoke_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, body text NOT NULL)")
        try:
            # The whole transaction must fail, so the raises block holds both statements.
            with pytest.raises(psycopg.errors.NotNullViolation), conn.transaction():  # noqa: PT012
                conn.execute(f"INSERT INTO {table} (body) VALUES ('kept only if committed')")
                conn.execute(f"INSERT INTO {table} (body) VALUES (NULL)")
            with conn.transaction():
                conn.execute(f"INSERT INTO {table} (body) VALUES ('committed')")
            with psycopg.connect(postgres_url) as other:
                rows = other.execute(f"SELECT body FROM {table} ORDER BY id").fetchall()
            assert rows == [("committed",)]
        finally:
            conn.execute(f"DROP TABLE {table}")


def test_notify_reaches_a_listener_on_another_connection(postgres_url: str) -> None:
    channel = f"smoke_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as listener, psycopg.connect(postgres_url) as sender:
        listener.execute(f"LISTEN {channel}")
        with sender.transaction():
            sender.execute("SELECT pg_notify(%s, %s)", (channel, "hello"))
        received = [(n.channel, n.payload) for n in listener.notifies(timeout=10, stop_after=1)]
    assert received == [(channel, "hello")]
