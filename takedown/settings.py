"""Settings, all from the environment (see README.md, "Configuration").

Malformed values stop start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF, UNSAFE_INLINE
from whitenoise.compress import Compressor

from takedown.envconf import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_pairs,
    env_port,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TAKEDOWN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "testserver"}
# Production means: serving real host names with DEBUG off.
PRODUCTION = not DEBUG and any(h not in _LOCAL_HOSTS for h in ALLOWED_HOSTS)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise ConfigError("SECRET_KEY must be at least 50 characters with at least 5 distinct ones")
        return key
    if PRODUCTION:
        raise ConfigError("SECRET_KEY is required when DEBUG is off and ALLOWED_HOSTS names real hosts")
    # Local use: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

INSTALLED_APPS = [
    # Before the admin and auth: its user_login_failed receiver marks a locked-out request
    # before ours (takedown.signin) records the attempt.
    "axes",
    "takedown.apps.TakedownAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "health_check",
    "takedown",
]

MIDDLEWARE = [
    # First: load balancers probe /health/ by address and over plain HTTP (takedown.health).
    "takedown.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: the agency's time zone for every time shown (takedown.localtime).
    "takedown.localtime.AgencyTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "takedown.headers.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "takedown.urls"
WSGI_APPLICATION = "takedown.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'takedown.sqlite3'}")
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while a django-q2 worker writes.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not shared-cache memory: concurrent tests then wait on locks as production does
    # instead of failing with "table is locked".
    # One file per test process, so that two test runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "takedown.User"
# django-axes first: it refuses a locked-out user name before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "takedown.roles.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Sign-in lock-out (django-axes). Failures are counted per user name, from any address: an
# insider who knows a colleague's user name can change address (VPN, phone) far more easily
# than user name, and an office behind one NAT address would lock itself out if counted per
# address. The price, an insider locking a colleague out for the cool-off, is visible on the
# sign-in audit list (takedown.signin). TAKEDOWN_LOCKOUT_BY=username+ip counts per pair instead.
_LOCKOUT_BY = {"username": ["username"], "username+ip": [["username", "ip_address"]]}
if env_str("TAKEDOWN_LOCKOUT_BY", "username") not in _LOCKOUT_BY:
    raise ConfigError("TAKEDOWN_LOCKOUT_BY must be 'username' or 'username+ip'")
AXES_LOCKOUT_PARAMETERS = _LOCKOUT_BY[env_str("TAKEDOWN_LOCKOUT_BY", "username")]
# axes.W006 asks for the address among the parameters; counting per user name is the choice
# argued above (rotating addresses, browsers or cookies does not reset a user name's count).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_FAILURE_LIMIT = env_int("TAKEDOWN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TAKEDOWN_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "takedown.signin.lockout_response"
AXES_ENABLE_ADMIN = True  # superusers can see and clear lock-outs
AXES_VERBOSE = False
# A right password during lock-out is refused too, and the cool-off restarts: guessing on through
# the lock-out gains nothing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True

# Second factor (django-otp): TOTP apps plus single-use recovery codes.
OTP_TOTP_ISSUER = env_str("TAKEDOWN_OTP_ISSUER", "takedown")
# Superusers reset a lost second factor by deleting the user's devices in the admin; they never
# see a colleague's secret or recovery codes there, so they cannot clone an authenticator.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# API tokens (takedown.tokens): lifetime when issued without --days, and the longest allowed.
TAKEDOWN_TOKEN_DAYS = env_int("TAKEDOWN_TOKEN_DAYS", 90, minimum=1)
TAKEDOWN_TOKEN_MAX_DAYS = env_int("TAKEDOWN_TOKEN_MAX_DAYS", 365, minimum=1)
if TAKEDOWN_TOKEN_DAYS > TAKEDOWN_TOKEN_MAX_DAYS:
    raise ConfigError("TAKEDOWN_TOKEN_DAYS must not exceed TAKEDOWN_TOKEN_MAX_DAYS")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Authorization documents (위임장, masked ID copies): served by no URL, read by legal reviewers
# through the admin only (takedown.models.PrivateStorage).
TAKEDOWN_PRIVATE_DIR = Path(env_str("TAKEDOWN_PRIVATE_DIR", str(VAR_DIR / "private")))
if STATIC_ROOT.resolve() in (TAKEDOWN_PRIVATE_DIR.resolve(), *TAKEDOWN_PRIVATE_DIR.resolve().parents):
    raise ConfigError("TAKEDOWN_PRIVATE_DIR must not be inside the static files directory")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production serves collected, hashed files; elsewhere files come straight from the apps.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Source maps are fetched by developer tools only; compressing the API docs' multi-megabyte
# maps with Brotli was about half of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# Uploads: a 100,000-row CSV is ~10 MB; the import limit is ours, not Django's 2.5 MB.
TAKEDOWN_IMPORT_MAX_BYTES = env_int("TAKEDOWN_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
TAKEDOWN_IMPORT_MAX_ROWS = env_int("TAKEDOWN_IMPORT_MAX_ROWS", 100_000, minimum=1)
# Uploads with more rows than this run in the background, with a progress page.
TAKEDOWN_BACKGROUND_ROWS = env_int("TAKEDOWN_BACKGROUND_ROWS", 5_000, minimum=1)
# A background job commits its work in chunks, renewing its lease after each; a job whose
# worker died (lease lapsed) is resumed from its last chunk, at most TAKEDOWN_JOB_MAX_ATTEMPTS times.
# A notice lists at most this many URLs: drafting starts another notice of the same group past it
# (a platform reads a notice of a thousand items; its PDF renders in seconds).
TAKEDOWN_NOTICE_MAX_URLS = env_int("TAKEDOWN_NOTICE_MAX_URLS", 1_000, minimum=1)
# Notices with more URLs than this are submitted (rendered and frozen) as a background job.
TAKEDOWN_BACKGROUND_SUBMIT_URLS = env_int("TAKEDOWN_BACKGROUND_SUBMIT_URLS", 200, minimum=1)
TAKEDOWN_JOB_CHUNK_ROWS = env_int("TAKEDOWN_JOB_CHUNK_ROWS", 5_000, minimum=1)
TAKEDOWN_JOB_LEASE_SECONDS = env_int("TAKEDOWN_JOB_LEASE_SECONDS", 120, minimum=10)
TAKEDOWN_JOB_MAX_ATTEMPTS = env_int("TAKEDOWN_JOB_MAX_ATTEMPTS", 3, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = TAKEDOWN_IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Email (notices sent by SMTP with the PDF attached).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
if not EMAIL_HOST:
    EMAIL_HOST = "localhost"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "takedown@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# django-q2: the clock and the workers for rechecks, rendering and delivery.
# timeout, retry > timeout and max_attempts are explicit: the defaults retry forever.
Q_CLUSTER = {
    # Also the queue's key in Redis: installations (or test runs) sharing a Redis need their own.
    "name": env_str("Q_NAME", "takedown"),
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": env_int("Q_TIMEOUT", 300, minimum=10),
    "retry": env_int("Q_RETRY", 360, minimum=11),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=1),
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Tasks",
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ConfigError("Q_RETRY must be greater than Q_TIMEOUT, or a running task is started twice")
_redis_url = env_str("REDIS_URL")
if _redis_url:
    Q_CLUSTER["redis"] = _redis_url
    # One cache for every web and cluster process: the API's throttle counters then count
    # across servers, not per process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": Q_CLUSTER["name"],
        }
    }
else:
    Q_CLUSTER["orm"] = "default"

# /health/ (takedown.health): how long since the last cluster heartbeat before it fails, and
# how full the disk holding var/ may be.
TAKEDOWN_HEALTH_CLUSTER_MAX_AGE = env_int("TAKEDOWN_HEALTH_CLUSTER_MAX_AGE", 180, minimum=10)
TAKEDOWN_HEALTH_DISK_MAX_PERCENT = env_int("TAKEDOWN_HEALTH_DISK_MAX_PERCENT", 95, minimum=1)

# The API (takedown/api/). Rates are per token ("1200/min", "60/hour"); a malformed rate stops
# the URLconf from loading with a message naming the variable. Throttle counters live in the
# default cache: give several server processes a shared one (CACHES) so they count together.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "takedown.tokens.HashedTokenAuthentication",
        "takedown.tokens.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "takedown.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["takedown.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_str("TAKEDOWN_API_RATE", "1200/min"),
        "api_import": env_str("TAKEDOWN_API_IMPORT_RATE", "60/hour"),
    },
    "EXCEPTION_HANDLER": "takedown.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "takedown API",
    "DESCRIPTION": (
        "Bulk intake of infringing URLs, their status and evidence, notices and removal "
        "statistics, for API clients of one agency. Authenticate with `Authorization: Token <key>`; "
        "every object outside your agency answers 404. Errors have one shape: "
        '`{"detail": "...", "errors": [...]}`.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's bundled files: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "takedown.api.schema.document_retry_after",
    ],
    "ENUM_NAME_OVERRIDES": {
        "URLStatusEnum": "takedown.choices.URLStatus",
        "VerdictEnum": "takedown.choices.Verdict",
        "NoticeStatusEnum": "takedown.choices.NoticeStatus",
        "CategoryEnum": "takedown.choices.Category",
        "LegalRouteEnum": "takedown.choices.LegalRoute",
        "ChannelKindEnum": "takedown.choices.ChannelKind",
        "SourceEnum": "takedown.choices.Source",  # the name it had before contacts had a source too
        "ContactSourceEnum": "takedown.models.AbuseContact.Source",
        "ContactRungEnum": "takedown.models.AbuseContact.Rung",
        "CaseStatusEnum": "takedown.choices.CaseStatus",
    },
}

# Notices.
# A URL notified to the same platform within this many days blocks a new notice for it.
TAKEDOWN_RENOTIFY_DAYS = env_int("TAKEDOWN_RENOTIFY_DAYS", 14, minimum=0)
# Routes that only say "expeditiously" (DMCA, DSA, ...) are flagged overdue after this long.
TAKEDOWN_DEFAULT_DEADLINE_HOURS = env_int("TAKEDOWN_DEFAULT_DEADLINE_HOURS", 72, minimum=1)
# The first recheck after sending.
TAKEDOWN_FIRST_CHECK_MINUTES = env_int("TAKEDOWN_FIRST_CHECK_MINUTES", 10, minimum=0)
TAKEDOWN_DELIVERY_MAX_ATTEMPTS = env_int("TAKEDOWN_DELIVERY_MAX_ATTEMPTS", 3, minimum=1)
TAKEDOWN_DELIVERY_LEASE_SECONDS = env_int("TAKEDOWN_DELIVERY_LEASE_SECONDS", 600, minimum=30)
# Notice PDFs render in worker processes (takedown/rendering/worker.py) under these bounds, per
# PDF: submission, every preview and the sample rendered when a template is saved. A
# 1,000-URL notice takes 8-15 s, 44 pages and about 260 MB of address space on a busy
# two-core machine (bench/render.py). Workers per server or task process.
TAKEDOWN_PDF_TIMEOUT_SECONDS = env_int("TAKEDOWN_PDF_TIMEOUT_SECONDS", 30, minimum=1)
TAKEDOWN_PDF_MEMORY_MB = env_int("TAKEDOWN_PDF_MEMORY_MB", 1024, minimum=256)
TAKEDOWN_PDF_MAX_PAGES = env_int("TAKEDOWN_PDF_MAX_PAGES", 200, minimum=1)
TAKEDOWN_PDF_WORKERS = env_int("TAKEDOWN_PDF_WORKERS", 2, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; lock-outs come at WARNING and our own audit list has the rest.
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# Security: strict by default outside DEBUG; `manage.py check --deploy` stays quiet.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"  # the PDF view for the approval queue opts in to same-origin framing
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Content-Security-Policy on every response (django-csp, via takedown.headers): no inline or
# third-party script anywhere, so an injected <script> or onclick= does not run. Inline styles
# stay allowed: Django's admin and the dashboard's SVG charts use them, and a style cannot run
# code. frame-ancestors follows X-Frame-Options: 'none', except the PDF views the approval queue
# frames ('self').
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # Redoc (/api/redoc/) runs its search in a worker built from a blob: URL made by its own
        # script file; a page cannot create one without already running script from 'self'.
        "worker-src": [SELF, "blob:"],
    }
}

# Rechecks (the probe and the schedule around it).
TAKEDOWN_CONFIRMATIONS = env_int("TAKEDOWN_CONFIRMATIONS", 2, minimum=1)
TAKEDOWN_CONFIRM_MINUTES = env_int("TAKEDOWN_CONFIRM_MINUTES", 30, minimum=1)
# The least time between the first and the confirming observation of a state change, however
# often someone clicks "recheck now" (0 lets back-to-back checks confirm: tests and demos only).
TAKEDOWN_CONFIRM_MIN_MINUTES = env_int("TAKEDOWN_CONFIRM_MIN_MINUTES", 10, minimum=0)
TAKEDOWN_CHECK_BATCH = env_int("TAKEDOWN_CHECK_BATCH", 200, minimum=1)
TAKEDOWN_CHECK_LEASE_SECONDS = env_int("TAKEDOWN_CHECK_LEASE_SECONDS", 240, minimum=30)
TAKEDOWN_TICK_BUDGET_SECONDS = env_int("TAKEDOWN_TICK_BUDGET_SECONDS", 50, minimum=5)
TAKEDOWN_PROBE_CONCURRENCY = env_int("TAKEDOWN_PROBE_CONCURRENCY", 80, minimum=1)
TAKEDOWN_PROBE_PER_HOST = env_int("TAKEDOWN_PROBE_PER_HOST", 4, minimum=1)
TAKEDOWN_PROBE_SPACING = env_int("TAKEDOWN_PROBE_SPACING_MS", 0, minimum=0) / 1000
TAKEDOWN_PROBE_CONNECT_TIMEOUT = env_int("TAKEDOWN_PROBE_CONNECT_TIMEOUT", 5, minimum=1)
TAKEDOWN_PROBE_TIMEOUT = env_int("TAKEDOWN_PROBE_TIMEOUT", 15, minimum=1)
TAKEDOWN_PROBE_USER_AGENT = env_str(
    "TAKEDOWN_PROBE_USER_AGENT", "takedown-recheck/1.0 (removal verification; self-hosted)"
)
# Test and benchmark use only: lets the probe reach loopback servers. A system check warns
# when it is on outside DEBUG. Private ranges and metadata addresses stay refused regardless.
TAKEDOWN_PROBE_ALLOW_LOOPBACK = env_bool("TAKEDOWN_PROBE_ALLOW_LOOPBACK", False)
TAKEDOWN_PROBE_EXTRA_PORTS = [env_port(p) for p in env_list("TAKEDOWN_PROBE_EXTRA_PORTS", [])]
# Tests and demos: "host=address" pairs the probe resolves by hand, like curl --resolve.
TAKEDOWN_PROBE_RESOLVE = env_pairs("TAKEDOWN_PROBE_RESOLVE")
# Names that must resolve, looked up once per recheck run: unless one of them answers, a domain
# that "does not exist" is a resolver outage, never a removal.
TAKEDOWN_PROBE_DNS_CONTROL = env_list("TAKEDOWN_PROBE_DNS_CONTROL", ["www.iana.org", "www.wikipedia.org"])
# A vanished domain of an unlisted host (NXDOMAIN while a control name answers) counts as
# removed. The default is safe only if the probe uses an unfiltered resolver: filtering resolvers
# (Quad9, ISP and corporate filters) answer NXDOMAIN for the adult sites they block, so behind
# one every blocked site would read as gone. Off: such a domain is inconclusive.
TAKEDOWN_PROBE_NXDOMAIN_MEANS_REMOVED = env_bool("TAKEDOWN_PROBE_NXDOMAIN_MEANS_REMOVED", True)
# Compare 2xx answers of hosts without a detector with a random path on the same host.
TAKEDOWN_PROBE_SOFT404 = env_bool("TAKEDOWN_PROBE_SOFT404", True)

# Abuse contacts of hosts no registry platform covers (takedown.contacts): a host's discovery
# is reused for this many hours; RDAP bootstrap and CDN range files downloaded by
# `manage.py contacts --refresh` go to this directory (the shipped copy is used until then).
TAKEDOWN_CONTACTS_TTL_HOURS = env_int("TAKEDOWN_CONTACTS_TTL_HOURS", 7 * 24, minimum=1)
# Test-only: top-level names (such as the reserved "test") a discovered address may end in
# although the Public Suffix List does not list them. Empty in production.
TAKEDOWN_CONTACTS_EXTRA_SUFFIXES: list[str] = []
TAKEDOWN_CONTACTS_DATA_DIR = Path(env_str("TAKEDOWN_CONTACTS_DATA_DIR", str(VAR_DIR / "contacts")))
# The escalation ladder: a URL still live past its deadline gets the next step drafted for
# legal review by the housekeeping tick, at most this many URLs per tick.
TAKEDOWN_LADDER_BATCH = env_int("TAKEDOWN_LADDER_BATCH", 20, minimum=1)
# The contacts tick (its own task, every minute) discovers the ladder's hosts one after another
# within this many seconds in all; a discovery still running then is cut short (unknown). At
# most 50: the tick must end before the next one starts, a minute later, or two ticks would
# look the same hosts up at once.
TAKEDOWN_DISCOVERY_BUDGET_SECONDS = env_int("TAKEDOWN_DISCOVERY_BUDGET_SECONDS", 40, minimum=5, maximum=50)

# Retention (takedown.retention, daily). A URL check older than this many days is deleted unless
# the record needs it (0 keeps every check): the latest check of each URL and the checks of URLs
# in open notices stay whole; the checks a status change or a notice rests on stay as metadata
# (status, hashes, verdict, rule) without the page's title and excerpt, which may name or
# describe the person depicted.
TAKEDOWN_RETAIN_CHECKS_DAYS = env_int("TAKEDOWN_RETAIN_CHECKS_DAYS", 365, minimum=0)
# After an artist's erasure (manage.py erase_artist), the notices sent for the artist are kept
# this many days after their last event, as evidence of what was asserted, then deleted.
TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS = env_int("TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS", 3 * 365, minimum=1)

# Evidence dossiers (takedown.dossier). The agency's signing key and certificate (PEM paths);
# without them, the self-signed pair `setup --demo` writes in the private directory is used.
TAKEDOWN_SIGNING_KEY = env_str("TAKEDOWN_SIGNING_KEY")
TAKEDOWN_SIGNING_CERT = env_str("TAKEDOWN_SIGNING_CERT")
TAKEDOWN_SIGNING_KEY_PASSPHRASE = env_str("TAKEDOWN_SIGNING_KEY_PASSPHRASE")
if bool(TAKEDOWN_SIGNING_KEY) != bool(TAKEDOWN_SIGNING_CERT):
    raise ConfigError("Set both TAKEDOWN_SIGNING_KEY and TAKEDOWN_SIGNING_CERT, or neither")
# An RFC 3161 time-stamp authority's URL: the dossier's signature then carries its time stamp.
TAKEDOWN_TSA_URL = env_str("TAKEDOWN_TSA_URL")
# A case with more URLs than this is exported in the background, with a progress page.
TAKEDOWN_DOSSIER_BACKGROUND_URLS = env_int("TAKEDOWN_DOSSIER_BACKGROUND_URLS", 200, minimum=0)
# The dossier's report is one PDF of every URL and check: bounds of its own, far above a notice's.
TAKEDOWN_DOSSIER_PDF_TIMEOUT_SECONDS = env_int("TAKEDOWN_DOSSIER_PDF_TIMEOUT_SECONDS", 1800, minimum=10)
TAKEDOWN_DOSSIER_PDF_MEMORY_MB = env_int("TAKEDOWN_DOSSIER_PDF_MEMORY_MB", 4096, minimum=256)
TAKEDOWN_DOSSIER_PDF_MAX_PAGES = env_int("TAKEDOWN_DOSSIER_PDF_MAX_PAGES", 20000, minimum=10)
