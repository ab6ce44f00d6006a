"""Imports that overlap in time: every client gets an answer, every URL is stored once."""

from __future__ import annotations

import json
import random
import threading

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from rest_framework.test import APIClient

from takedown import importing
from takedown.models import InfringingURL
from takedown.tokens import token_issue


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlock() -> OperationalError:
    """What Django raises when PostgreSQL aborts a transaction caught in a deadlock."""
    error = OperationalError("deadlock detected")
    error.__cause__ = _Deadlock("deadlock detected")
    return error


def _rows(n: int) -> list[dict]:
    return [
        {"artist": "luna-kang", "url": f"https://www.youtube.com/watch?v=r{i:010d}", "category": "copyright"}
        for i in range(n)
    ]


@pytest.mark.django_db(transaction=True)
def test_it_answers_every_overlapping_import_with_no_deadlock_and_no_duplicate(
    api_user, artist, platforms, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("row-level deadlocks are PostgreSQL's: SQLite takes one write lock per transaction")
    cache.clear()
    rows = _rows(4000)
    clients, bodies = 8, []
    for seed in range(clients):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        bodies.append(json.dumps({"items": shuffled}))
    key = token_issue(user=api_user).key
    start = threading.Barrier(clients)
    # Validation holds the GIL, so threads would reach the database one after another; the
    # clients meet again before their first insert, so that the inserts overlap as they do
    # across server processes.
    inserts = threading.Barrier(clients)
    real_insert = importing._insert_once
    waited = threading.local()

    def insert_together(*args, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            inserts.wait(60)
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(importing, "_insert_once", insert_together)
    answers: list[tuple[int, dict] | BaseException] = [None] * clients  # type: ignore[list-item]

    def post(i: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            start.wait()
            response = client.post("/api/v1/urls/import/", data=bodies[i], content_type="application/json")
            answers[i] = (response.status_code, response.json())
        except BaseException as exc:  # reported by the assertion below
            answers[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert all(isinstance(a, tuple) for a in answers), answers
    assert sorted({status for status, _ in answers}) <= [200, 201], answers
    assert sum(body["created"] for _, body in answers) == len(rows)
    assert all(body["created"] + body["duplicates"] == len(rows) for _, body in answers)
    assert InfringingURL.objects.count() == len(rows)


# transaction=True: the import owns its transaction, as it does in the API, the CLI and a job.
@pytest.mark.django_db(transaction=True)
def test_it_runs_an_insert_again_after_a_deadlock(artist, platforms, monkeypatch):
    real = importing._insert_once
    calls = []

    def collide_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            InfringingURL.objects.create(  # written, then rolled back with the aborted attempt
                artist=artist,
                url="https://a.example/x",
                normalized_url="https://a.example/x",
                host="a.example",
            )
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "_insert_once", collide_once)
    monkeypatch.setattr(importing.time, "sleep", lambda s: None)
    report = importing.import_rows(_rows(3), agency=artist.agency)
    assert (len(calls), report.created, InfringingURL.objects.count()) == (2, 3, 3)


@pytest.mark.django_db(transaction=True)
def test_it_gives_up_after_a_bounded_number_of_attempts(artist, platforms, monkeypatch):
    calls = []

    def always(*args, **kwargs):
        calls.append(1)
        raise _deadlock()

    monkeypatch.setattr(importing, "_insert_once", always)
    pauses: list[float] = []
    monkeypatch.setattr(importing.time, "sleep", pauses.append)
    with pytest.raises(OperationalError):
        importing.import_rows(_rows(3), agency=artist.agency)
    assert len(calls) == importing.INSERT_ATTEMPTS
    assert len(pauses) == importing.INSERT_ATTEMPTS - 1
    assert all(0 <= p <= 0.05 * 2**importing.INSERT_ATTEMPTS for p in pauses)


@pytest.mark.django_db
def test_it_leaves_a_deadlock_inside_a_callers_transaction_to_the_caller(artist, platforms, monkeypatch):
    # The caller's transaction is aborted as a whole: only the caller can start it again.
    calls = []

    def always(*args, **kwargs):
        calls.append(1)
        raise _deadlock()

    monkeypatch.setattr(importing, "_insert_once", always)
    with pytest.raises(OperationalError), transaction.atomic():
        importing.import_rows(_rows(3), agency=artist.agency)
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_it_does_not_retry_other_database_errors(artist, platforms, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(importing, "_insert_once", broken)
    with pytest.raises(OperationalError):
        importing.import_rows(_rows(3), agency=artist.agency)
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_database_connection_is_cut_mid_write_stores_nothing_and_says_send_again(
    api_user, artist, platforms
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    import time

    import psycopg

    cache.clear()
    body = json.dumps({"items": _rows(20_000)})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (importer,) = cursor.fetchone()
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    cut = threading.Event()

    def cut_mid_write():
        # Wait until the import's session is writing the rows (its COPY or its INSERT), then end it.
        with psycopg.connect(**params, autocommit=True) as admin:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                (query,) = admin.execute(
                    "SELECT query FROM pg_stat_activity WHERE pid = %s AND state = 'active'", [importer]
                ).fetchone() or ("",)
                if "takedown_import" in query:
                    admin.execute("SELECT pg_terminate_backend(%s)", [importer])
                    cut.set()
                    return
                time.sleep(0.001)

    watcher = threading.Thread(target=cut_mid_write)
    watcher.start()
    response = client.post("/api/v1/urls/import/", body, content_type="application/json")
    watcher.join()
    assert cut.is_set(), "the import finished before its connection could be cut"
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "is not known" in response.json()["detail"] and response.json()["errors"] == []
    connection.close()
    assert InfringingURL.objects.count() == 0  # one transaction: nothing half-written
    again = client.post("/api/v1/urls/import/", body, content_type="application/json")
    assert again.status_code == 201, again.content[:300]
    assert again.json()["created"] == 20_000 and InfringingURL.objects.count() == 20_000


class _Timeout(Exception):
    sqlstate = "57014"  # query_canceled: a statement timeout, not a lost connection


@pytest.mark.django_db
def test_only_a_lost_database_is_answered_send_again_other_database_errors_are_500(
    api_user, artist, platforms, monkeypatch
):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    body = json.dumps({"items": _rows(3)})
    timeout = OperationalError("canceling statement due to statement timeout")
    timeout.__cause__ = _Timeout()
    lost = OperationalError("server closed the connection unexpectedly")
    lost.__cause__ = ConnectionError("no SQLSTATE: the connection broke before any answer")
    if connection.vendor == "sqlite":
        lost = OperationalError("database is locked")
    for error, expected in [(timeout, 500), (lost, 503)]:

        def fail(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(importing, "import_rows", fail)
        response = client.post("/api/v1/urls/import/", body, content_type="application/json")
        assert response.status_code == expected, (error, response.status_code)
        assert response.json()["detail"] and response.json()["errors"] == []
        assert ("Retry-After" in response) == (expected == 503)
