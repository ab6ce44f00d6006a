"""Settings come from the environment and fail loudly on malformed values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from takedown.envconf import ConfigError, env_bool, env_int, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("no", False)]
)
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_it_refuses_a_malformed_boolean(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ConfigError, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_it_refuses_a_malformed_or_too_small_integer(monkeypatch):
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ConfigError, match="not an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        env_int("X_NUM", 5, minimum=1)
    monkeypatch.setenv("X_NUM", "51")
    with pytest.raises(ConfigError, match="X_NUM=51 must be at most 50"):
        env_int("X_NUM", 5, minimum=1, maximum=50)


def test_it_parses_database_urls():
    pg = parse_database_url("postgres://app:s%40cret@db.internal:6543/takedown?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "app",
        "s@cret",
        "db.internal",
        "6543",
        "takedown",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = parse_database_url("sqlite:////tmp/x.sqlite3")
    assert lite["NAME"] == "/tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x/y", "not supported"),
        ("postgres://host:99999/db", "port"),
        ("postgres://host/", "database name"),
        ("sqlite://", "needs a path"),
    ],
)
def test_it_refuses_malformed_database_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_database_url(url)


def _manage(*args, env=None):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_stops_at_start_up_on_a_malformed_value(tmp_path):
    result = _manage("check", env={"DEBUG": "ture", "TAKEDOWN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_it_refuses_a_discovery_budget_longer_than_the_contacts_tick(tmp_path):
    result = _manage(
        "check", env={"TAKEDOWN_DISCOVERY_BUDGET_SECONDS": "120", "TAKEDOWN_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "TAKEDOWN_DISCOVERY_BUDGET_SECONDS=120 must be at most 50" in result.stderr
    ok = _manage("check", env={"TAKEDOWN_DISCOVERY_BUDGET_SECONDS": "50", "TAKEDOWN_VAR_DIR": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr


def test_it_requires_a_secret_key_in_production(tmp_path):
    result = _manage(
        "check",
        env={"DEBUG": "0", "ALLOWED_HOSTS": "takedown.example.org", "TAKEDOWN_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "ALLOWED_HOSTS": "takedown.example.org",
            "SECRET_KEY": "k" * 20 + "production-secret-0123456789-abcdefghijklmnop",
            "TAKEDOWN_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_keeps_a_generated_key_for_local_use(tmp_path):
    first = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env={"DEBUG": "1", "TAKEDOWN_VAR_DIR": str(tmp_path)},
    )
    second = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env={"DEBUG": "1", "TAKEDOWN_VAR_DIR": str(tmp_path)},
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TAKEDOWN_LOCKOUT_BY": "ip"}, "TAKEDOWN_LOCKOUT_BY must be"),
        ({"TAKEDOWN_LOGIN_FAILURE_LIMIT": "0"}, "TAKEDOWN_LOGIN_FAILURE_LIMIT=0 must be at least 1"),
        ({"TAKEDOWN_LOGIN_COOLOFF_MINUTES": "soon"}, "is not an integer"),
        ({"TAKEDOWN_TOKEN_DAYS": "400"}, "TAKEDOWN_TOKEN_DAYS must not exceed"),
    ],
)
def test_it_refuses_malformed_sign_in_settings(tmp_path, env, message):
    result = _manage("check", env={"DEBUG": "1", "TAKEDOWN_VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_it_reads_the_lock_out_settings_from_the_environment(tmp_path):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.AXES_LOCKOUT_PARAMETERS)",
        env={
            "DEBUG": "1",
            "TAKEDOWN_VAR_DIR": str(tmp_path),
            "TAKEDOWN_LOGIN_FAILURE_LIMIT": "8",
            "TAKEDOWN_LOGIN_COOLOFF_MINUTES": "30",
            "TAKEDOWN_LOCKOUT_BY": "username+ip",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "8 1800.0 [['username', 'ip_address']]"
