"""Production serving: the documented environment, gunicorn with WhiteNoise, and /health/."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / "deploy" / "takedown.env.example"


def documented_environment() -> dict[str, str]:
    """deploy/takedown.env.example as systemd reads it (NAME=value lines, quotes removed)."""
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = " ".join(shlex.split(value)) if value.strip() else ""
    return env


def _environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL", "REDIS_URL"))
    }
    return {**inherited, **documented_environment(), "TAKEDOWN_VAR_DIR": str(tmp_path), **overrides}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# -- the documented production environment ----------------------------------------------------


def test_it_passes_the_deploy_check_with_the_documented_environment(tmp_path):
    env = _environment(tmp_path, SECRET_KEY=secrets.token_urlsafe(64))
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_ships_no_usable_secret_key_in_the_example(tmp_path):
    # Copied as it is, the file cannot start a server with a key everybody knows.
    assert documented_environment()["SECRET_KEY"] == ""
    result = _manage(_environment(tmp_path), "check")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_it_documents_every_variable_of_the_example():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in documented_environment() if f"`{name}`" not in readme]
    assert missing == []


# -- /health/ -----------------------------------------------------------------------------------


def _health(client, **headers):
    response = client.get("/health/", **headers)
    return response.status_code, json.loads(response.content)


@pytest.fixture
def clock_on_time(db):
    from django_q.models import Schedule

    from takedown.schedules import sync_schedules

    sync_schedules()
    Schedule.objects.filter(name="takedown.recheck-tick").update(next_run=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_it_answers_health_without_sign_in_by_address_and_over_plain_http(client, settings, clock_on_time):
    settings.ALLOWED_HOSTS = ["takedown.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    status, body = _health(client, HTTP_HOST="10.0.0.5:8000")
    assert status == 200
    assert body == {
        "Database(alias='default')": "OK",
        "Broker()": "OK",
        "ClusterHeartbeat()": "OK",
        "Disk()": "OK",
    }
    text = client.get("/health/", HTTP_HOST="10.0.0.5", HTTP_ACCEPT="text/plain")
    assert text["Content-Type"].startswith("text/plain") and b"Disk(): OK" in text.content


@pytest.mark.django_db(transaction=True)
def test_it_fails_health_when_no_cluster_has_ticked(client, clock_on_time):
    from django_q.models import Schedule

    Schedule.objects.filter(name="takedown.recheck-tick").update(
        next_run=timezone.now() - timedelta(minutes=10)
    )
    status, body = _health(client)
    assert status == 500
    assert body["ClusterHeartbeat()"].startswith("Unavailable: no cluster heartbeat for 6")
    Schedule.objects.all().delete()
    assert _health(client)[1]["ClusterHeartbeat()"] == "Unavailable: no cluster has reported"


@pytest.mark.django_db(transaction=True)
def test_it_fails_health_when_the_disk_is_full(client, settings, clock_on_time):
    settings.TAKEDOWN_HEALTH_DISK_MAX_PERCENT = 1
    status, body = _health(client)
    assert status == 500
    assert body["Disk()"].startswith("Unavailable: the disk holding var/ is ")


@pytest.mark.django_db(transaction=True)
def test_it_tells_an_outsider_nothing_about_a_failure(client, monkeypatch, clock_on_time):
    from django_q.conf import Conf
    from health_check import checks
    from health_check.exceptions import ServiceUnavailable

    from tests.probe_servers import free_port

    def refused(self):
        raise ServiceUnavailable('connection to server at "10.1.2.3", port 5432 failed')

    monkeypatch.setattr(checks.Database, "run", refused)
    port = free_port()
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://:s3cret@127.0.0.1:{port}/0")
    status, body = _health(client)
    assert status == 500
    assert body == {
        "Database(alias='default')": "Unavailable: the database does not answer",
        "Broker()": "Unavailable: the task broker does not answer",
        "ClusterHeartbeat()": "Unavailable: cluster status cannot be read",
        "Disk()": "OK",
    }
    raw = json.dumps(body)
    assert "10.1.2.3" not in raw and str(port) not in raw and "s3cret" not in raw


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_health_checks_from_the_command_line(clock_on_time, capsys):
    # Cluster hosts serve no HTTP: `manage.py health_check health --no-http` runs the same checks.
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exit_:
        call_command("health_check", "health", "--no-http")
    assert exit_.value.code == 0
    assert "ClusterHeartbeat(): OK" in capsys.readouterr().out


# -- gunicorn and WhiteNoise, as `make serve` runs them -----------------------------------------


def _get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_it_serves_the_site_and_its_hashed_static_files_through_make_serve(tmp_path):
    from tests.probe_servers import free_port

    port = free_port()
    # Collected once and kept (serve.sh collects again only when a static file changes).
    env = _environment(
        ROOT / "var" / "test-serve",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="2",
        FORWARDED_ALLOW_IPS="127.0.0.1",
    )
    env.pop("REDIS_URL")
    migrated = _manage(env, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        ["scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        site = {"Host": "takedown.example.org", "X-Forwarded-Proto": "https"}
        deadline = time.monotonic() + 180  # the first run collects the static files
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, headers, page = _get(port, "/admin/login/", **site)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert status == 200
        assert headers["strict-transport-security"].startswith("max-age=31536000")
        # Plain HTTP is sent to HTTPS; the proxy's X-Forwarded-Proto is trusted from its address.
        status, headers, _ = _get(port, "/admin/login/", Host="takedown.example.org")
        assert status == 301 and headers["location"].startswith("https://takedown.example.org/")
        # Collected, hashed and compressed by WhiteNoise, cacheable for good.
        css = page.decode().split('href="/static/admin/css/base.', 1)[1].split('"', 1)[0]
        status, headers, body = _get(
            port, f"/static/admin/css/base.{css}", **site, **{"Accept-Encoding": "gzip"}
        )
        assert status == 200 and body
        assert "immutable" in headers["cache-control"] and headers.get("content-encoding") == "gzip"
        # The load balancer's probe: by address, plain HTTP, no cluster here, so a 500 in JSON.
        status, headers, body = _get(port, "/health/", Host="10.0.0.5:8000")
        assert status == 500 and headers["content-type"] == "application/json"
        assert json.loads(body)["Database(alias='default')"] == "OK"
    finally:
        server.terminate()
        server.wait(30)
        log.close()
