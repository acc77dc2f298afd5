"""AgentScope settings. Everything comes from the environment (django-environ); see .env.example."""

import json
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = "pytest" in sys.modules

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_htmx",
    "django_tasks_db",
    "apps.core",
    "apps.accounts",
    "apps.orgs",
    "apps.projects",
    "apps.runs",
    "apps.testing",
    "apps.breakpoints",
    "apps.mcp",
    "apps.ingest",
    "apps.dashboard",
]

MIDDLEWARE = [
    # First: it times the whole request, and gives it the id its log line and the 500 page show.
    "apps.core.requests.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "apps.core.replica.ReadYourWritesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.projects.middleware.CurrentProjectMiddleware",
    # Last, so that it sees a view's exception first: a database that can't be reached is a 503.
    "apps.core.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "agentscope.urls"
WSGI_APPLICATION = "agentscope.wsgi.application"
ASGI_APPLICATION = "agentscope.asgi.application"
APPEND_SLASH = False

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
                "apps.projects.context_processors.projects",
                "apps.runs.context_processors.paused_runs",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (psycopg 3 with its pool) when DATABASE_URL says so.
# DATABASE_REPLICA_URL adds a read replica that the lag-tolerant pages read from (apps.core.replica).


def _db_config(config: dict, alias: str) -> dict:
    if config["ENGINE"] == "django.db.backends.postgresql":
        from apps.core.db import pool_check

        # A request waits this long for a connection, then answers 503 (apps.core.unavailable).
        pool_timeout = env.float("DB_POOL_TIMEOUT", default=3)
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {}).update(
            {
                "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=3),
                "pool": {
                    "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
                    "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
                    "timeout": pool_timeout,
                    # Connections the server dropped (restart, pg_terminate_backend) never reach a request.
                    "check": pool_check(alias),
                    # The pool retries a failed connection in the background with a growing delay: give
                    # up as soon, so the next request tries at once and a database back up is used at once.
                    "reconnect_timeout": pool_timeout,
                },
            }
        )
    else:
        config.setdefault("OPTIONS", {}).update(
            {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
        )
    return config


DATABASES = {"default": _db_config(env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), "default")}
# Covering indexes (INCLUDE) are PostgreSQL's; on SQLite Django creates them without the included
# columns, which is what we want there (apps.runs' run_steps_priced_idx), so its warning is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
_replica_url = env("DATABASE_REPLICA_URL", default="")
if _replica_url:
    DATABASES["replica"] = _db_config(env.db_url_config(_replica_url), "replica")
elif TESTING:
    # The suite's second database stands in for a replica: a second connection to the test database,
    # which tests of the router turn on (READ_REPLICA) to see which queries go where.
    DATABASES["replica"] = _db_config({**env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
                                      "TEST": {"MIRROR": "default"}}, "replica")  # fmt: skip
    DATABASES["replica"]["OPTIONS"].pop("pool", None)  # a pool would hold the test database open at teardown
READ_REPLICA = "replica" if _replica_url else None
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=5)
DATABASE_ROUTERS = ["apps.core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Tests and runserver serve static files straight from the finders; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# The cache. Throttles count in their own alias, which every worker must share: Redis when REDIS_URL is
# set, else the database (a table `migrate` creates); tests keep local memory unless they test sharing.
# The default alias holds derived data only (timeline depths), so it may stay in each process.
REDIS_URL = env("REDIS_URL", default="")
_redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
_local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
_database = {
    "BACKEND": "apps.core.cache.DatabaseCache",
    "LOCATION": "agentscope_cache",
    # Django culls a third of the table past MAX_ENTRIES: live counters must not be dropped that way.
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}
CACHES = {
    "default": _redis if REDIS_URL else _local,
    "throttles": _redis if REDIS_URL else ({**_local, "LOCATION": "throttles"} if TESTING else _database),
}

# Email (invitations): the console in development, SMTP from EMAIL_URL in production, e.g.
# EMAIL_URL=smtp+tls://user:password@smtp.example.com:587, parsed by django-environ into Django 6.1's MAILERS.
# Unset in production it is Django's own default, SMTP on localhost:25 (never the console, which would
# drop the mail: check --deploy refuses it).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_email_options = {
    option: _email[key]
    for key, option in [
        ("EMAIL_HOST", "host"),
        ("EMAIL_PORT", "port"),
        ("EMAIL_HOST_USER", "username"),
        ("EMAIL_HOST_PASSWORD", "password"),
        ("EMAIL_USE_TLS", "use_tls"),
        ("EMAIL_USE_SSL", "use_ssl"),
    ]
    if _email.get(key) not in (None, "")
}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="AgentScope <agentscope@localhost>")

# CORS: the brief's .env.example writes a JSON list; a comma-separated list works too.
_cors = env("CORS_ORIGINS", default="http://localhost:5173")
CORS_ALLOWED_ORIGINS = (
    json.loads(_cors) if _cors.strip().startswith("[") else [o.strip() for o in _cors.split(",") if o.strip()]
)
CORS_URLS_REGEX = r"^/(api|v1)/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-csrftoken",
    "x-requested-with",
    "x-agentscope-key",
)

# How many proxies in front of the app append the address they saw to X-Forwarded-For: the client IP
# is that many hops from the right. 0 (no proxy) believes no header and uses REMOTE_ADDR.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageSizePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    # A JSON API: the schema offers one body format, and any other is a 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "ingest": env("INGEST_THROTTLE_RATE", default="6000/min"),
        "ingest_control": env("INGEST_CONTROL_THROTTLE_RATE", default="3000/min"),
        "login_account": env("LOGIN_ACCOUNT_THROTTLE_RATE", default="10/min"),
        "login_ip": env("LOGIN_IP_THROTTLE_RATE", default="30/min"),
        "register_ip": env("REGISTER_IP_THROTTLE_RATE", default="10/hour"),
        "api_key_failure_ip": env("API_KEY_FAILURE_THROTTLE_RATE", default="30/min"),
    },
    # The client IP (throttles) is REMOTE_ADDR, unless proxies in front of the app say otherwise.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

JWT_SECRET = env("JWT_SECRET", default=SECRET_KEY)
JWT_ALGORITHM = env("JWT_ALGORITHM", default="HS256")
JWT_EXPIRATION_HOURS = env.int("JWT_EXPIRATION_HOURS", default=24)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=JWT_EXPIRATION_HOURS),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SECRET,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_TOKEN_CLASSES": ("apps.accounts.tokens.AccessToken",),
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AgentScope API",
    "DESCRIPTION": "Ingest agent runs and steps; read runs, tests, breakpoints and MCP traffic.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["apps.core.schema.drop_trailing_slash_twins"],
    # Fields named status/action carry different choice sets across apps; name each set once.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "apps.runs.models.RunStatus",
        "StepStatusEnum": "apps.runs.models.StepStatus",
        "StepTypeEnum": "apps.runs.models.StepType",
        "HitActionEnum": "apps.breakpoints.models.HitAction",
        "TestRunStatusEnum": "apps.testing.models.TestRunStatus",
        "TestTypeEnum": "apps.testing.models.TestType",
    },
}

# Ingest: the largest body accepted (bytes) before answering 413.
# Each LLM step is priced when it is written (apps.runs.pricing); off, steps are stored unpriced
# (as "no price") until `manage.py costs_recompute` prices them. The ingest bench measures both.
COST_ON_WRITE = env.bool("COST_ON_WRITE", default=True)
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(INGEST_MAX_BODY_BYTES, 2_621_440)
# API key last_used_at is written at most this often.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)

# Retention: the days a project's runs are kept unless its settings say otherwise (0 or unset: forever).
# `manage.py prune_runs` (run daily by the task worker) deletes what is older.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=0) or None
RETENTION_CHUNK_STEPS = env.int("RETENTION_CHUNK_STEPS", default=5000)

# Background tasks (django.tasks): inline under tests and DEBUG; in production a database queue
# that `python manage.py db_worker` drains (django-tasks-db). TASKS_BACKEND=immediate|database overrides.
_tasks_backend = env("TASKS_BACKEND", default="immediate" if (DEBUG or TESTING) else "database")
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"}
    if _tasks_backend == "database"
    else {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
}

# Content-Security-Policy (Django's own middleware): every script, style and font is ours; templates
# carry no inline scripts, style attributes or event handlers, and htmx injects no <style>.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Security: production-safe defaults, loosened only under DEBUG.
SESSION_COOKIE_HTTPONLY = True
_production = not (DEBUG or TESTING)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_production)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_production)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_production)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /health is probed by load balancers over plain HTTP, /metrics scraped by Prometheus inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]

# Logs: JSON lines in production (python-json-logger), one per request (apps.core.requests), each
# record carrying the request id that the X-Request-ID header and the 500 page show; text under DEBUG.
LOG_FORMAT = env("LOG_FORMAT", default="text" if (DEBUG or TESTING) else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s [%(request_id)s]"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # runserver logs each request already; production has no other line per request.
        "agentscope.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}

# /metrics (Prometheus) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off (404).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
