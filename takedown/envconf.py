"""Reading settings from the environment, failing loudly on malformed values.

A typo in production configuration (DEBUG=ture, a DATABASE_URL with a stray
character) must stop the process at start-up, not run with a silent default.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlsplit


class ConfigError(RuntimeError):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} must be at most {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_pairs(name: str) -> dict[str, list[str]]:
    """NAME="host=1.2.3.4,other=::1" -> {"host": ["1.2.3.4"], "other": ["::1"]}."""
    import ipaddress

    pairs: dict[str, list[str]] = {}
    for item in env_list(name, []):
        host, sep, address = item.partition("=")
        try:
            ipaddress.ip_address(address.strip())
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not host=IP-address") from None
        if not sep or not host.strip():
            raise ConfigError(f"{name}: {item!r} is not host=IP-address")
        pairs.setdefault(host.strip().lower(), []).append(address.strip())
    return pairs


def env_port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{raw!r} is not a port number (1-65535)")
    return int(raw)


_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def parse_database_url(url: str) -> dict:
    """DATABASE_URL -> a Django DATABASES entry.

    postgres://user:pass@host:5432/name?sslmode=require, or sqlite:///relative/path.sqlite3,
    sqlite:////absolute/path.sqlite3.
    """
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ConfigError(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported (use postgres:// or sqlite:///)"
        )
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        if path.startswith("/"):
            path = path[1:]
        if not path:
            raise ConfigError("DATABASE_URL for sqlite needs a path, e.g. sqlite:///var/db.sqlite3")
        return {"ENGINE": engine, "NAME": path, "OPTIONS": {"timeout": 20}}
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError("DATABASE_URL for PostgreSQL needs a database name")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"DATABASE_URL has a malformed port: {url!r}") from None
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
