"""Settings, all read from the environment (see README "Settings")."""

from pathlib import Path
from typing import Any

import dj_database_url

from config.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_float_list,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_rate,
    env_seconds,
    env_str,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(VAR_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "accounts",
    "records",
    "automations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.api.middleware.RefuseNulInUrlMiddleware",
    "config.api.middleware.ApiBodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except Exception as exc:  # dj-database-url raises several types for a malformed URL
    raise ImproperlyConfiguredEnv(f"DATABASE_URL={_database_url!r} is not valid: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a timeout keeps the worker and web from failing on a busy lock.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed sign-ins (web and admin) per username and per client address (accounts.login_throttle).
LOGIN_FAILURE_LIMIT = env_rate("LOGIN_FAILURE_LIMIT", "5/min")
LOGIN_ADDRESS_FAILURE_LIMIT = env_rate("LOGIN_ADDRESS_FAILURE_LIMIT", "20/min")
LOGIN_CLIENT_IP_HEADER = env_str("LOGIN_CLIENT_IP_HEADER", "")
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the finders too, so runserver and tests work without collectstatic.
WHITENOISE_USE_FINDERS = True

# --- Broker and cache -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # The embedded broker: a folder that worker, beat and web share; nothing to install.
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The engine's matching-index versions must be seen by every process (web, workers): Redis
# when there is one, else a folder beside the embedded broker.
CACHES["automations"] = (
    {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "automations",
        # Read on every record save, inside its transaction: a Redis that hangs rather than
        # refuses must fail fast (matching then falls back to a short-lived local index)
        # instead of holding the record's row lock for redis-py's default of 5 s and more.
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "automations"),
    }
)

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection around every task unless this is set,
# which costs a new PostgreSQL connection per run; config/celery.py closes connections the way
# Django does around each request instead (broken ones, and those older than CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 1000

# --- Email --------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    # No SMTP configured: every message is written as a file a developer can read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# Set whatever the backend: an SMTP backend configured some other way (an EMAIL_BACKEND of a
# settings module that imports this one) must not wait on a dead server forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "automations@localhost")

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.WorkspaceSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.IsWorkspaceMember"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.ApiKeyRateThrottle"],
}
API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "3000/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Automation API",
    "DESCRIPTION": "Automations over CRM records: triggers, conditions and actions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/v1",
    # Strict OpenAPI 3.0 (config/api/openapi_hooks.py): nullable component fields, components
    # that fields name (config.api.openapi.component), the session's CSRF 403, Retry-After.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.openapi.add_registered_components",
        "config.api.openapi_hooks.nullable_refs",
        "config.api.openapi_hooks.session_csrf_forbidden",
        "config.api.openapi_hooks.rate_limit_headers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ActionTypeEnum": "automations.api.schemas.ACTION_TYPE_NAMES",
        "RunStatusEnum": "automations.api.schemas.RUN_STATUSES",
        "ActionRunStatusEnum": "automations.api.schemas.ACTION_RUN_STATUSES",
    },
}
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# --- Automations --------------------------------------------------------------------------
AUTOMATIONS_RETRY_DELAYS = env_float_list("AUTOMATIONS_RETRY_DELAYS", [60.0, 300.0, 1800.0])
AUTOMATIONS_ALLOW_PRIVATE_URLS = env_bool("AUTOMATIONS_ALLOW_PRIVATE_URLS", False)
AUTOMATIONS_WEBHOOK_MAX_BYTES = env_int("AUTOMATIONS_WEBHOOK_MAX_BYTES", 262_144, minimum=1024)
# Inbound webhook deliveries per automation (DRF rate syntax, see config/ratelimit.py).
AUTOMATIONS_WEBHOOK_RATE_LIMIT = env_rate("AUTOMATIONS_WEBHOOK_RATE_LIMIT", "120/min")
AUTOMATIONS_MAX_CHAIN_DEPTH = env_int("AUTOMATIONS_MAX_CHAIN_DEPTH", 5, minimum=1)
AUTOMATIONS_RELAY_INTERVAL = env_seconds("AUTOMATIONS_RELAY_INTERVAL", 5.0, minimum=0.1)
AUTOMATIONS_LOG_RETENTION_DAYS = env_int("AUTOMATIONS_LOG_RETENTION_DAYS", 90, minimum=1)
# How long a worker owns a claimed run before the relay may hand it to another worker; renewed
# before each action, and held for at least an email's or webhook's longest call plus 5 s.
AUTOMATIONS_RUN_LEASE = env_int("AUTOMATIONS_RUN_LEASE", 120, minimum=1)
# A run handed to the broker but still unclaimed after this many seconds is published again
# (a message lost with a broker restart); duplicates are harmless.
# (0 would publish every handed-over run again on every relay tick.)
AUTOMATIONS_REDISPATCH_AFTER = env_seconds("AUTOMATIONS_REDISPATCH_AFTER", 60.0, minimum=1.0)
# With Redis, runs due now reach the workers through a list (automations.runtime.handover); a
# pool process that has emptied it keeps waiting on it this many seconds for the next run,
# which it then takes without a Celery message. 0 turns waiting off.
AUTOMATIONS_DRAIN_LINGER = env_seconds("AUTOMATIONS_DRAIN_LINGER", 1.0, minimum=0.0)
# Worker connections commit without waiting for the WAL flush (PostgreSQL's
# synchronous_commit=off). A PostgreSQL crash can then lose a worker's last few hundred
# milliseconds of commits, never half of one: every such transaction is re-derivable (a lost
# execution leaves its run pending and the relay publishes it again after
# AUTOMATIONS_REDISPATCH_AFTER), so no run is lost or done twice. See docs/RELIABILITY.md.
AUTOMATIONS_WORKER_ASYNC_COMMIT = env_bool("AUTOMATIONS_WORKER_ASYNC_COMMIT", True)
# The few fixed statements of the hot paths (config.sqlrows.prepared_cursor) are prepared:
# parsed and planned once per connection. Turn off behind a pooler that cannot keep prepared
# statements (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
# The port scripts/run serves on (read here too, so a bad value fails at start naming PORT).
# Links the service hands out (inbound webhook URLs, email links) default to that address.
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

# --- HTTPS and browser security (see README "Running in production") -------------------------
# Served over TLS, usually by a proxy in front: cookies travel over HTTPS only, browsers are told
# to use HTTPS (HSTS) and plain HTTP is redirected. On when PUBLIC_BASE_URL is https://.
HTTPS_ONLY = env_bool("HTTPS_ONLY", PUBLIC_BASE_URL.startswith("https://"))
# Behind a proxy every request reaches Django as plain HTTP: the proxy's header says it was not.
# Without it Django cannot tell, so HSTS is never sent and a redirect to HTTPS would loop.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
# Redirecting needs to know which requests were HTTPS; gunicorn serving TLS itself has no plain
# HTTP port to redirect from.
SECURE_SSL_REDIRECT = env_bool(
    "SECURE_SSL_REDIRECT", HTTPS_ONLY and SECURE_PROXY_SSL_HEADER is not None
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
# Django's defaults, spelled out because they are part of what the product promises.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
SPECTACULAR_SETTINGS.update(
    {
        # Swagger UI from the installed sidecar package: the docs page works offline.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        # No "valid" badge from validator.swagger.io (Swagger UI's default off localhost): the
        # Content-Security-Policy blocks the third-party image (config.csp), and it would send
        # the schema's URL there.
        "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    }
)
SPECTACULAR_SETTINGS.update(
    {
        "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
        "SERVE_AUTHENTICATION": [],
    }
)
