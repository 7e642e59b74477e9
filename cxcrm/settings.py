"""cxcrm settings: one module, driven by environment variables (see README "Configuration").

The defaults run the whole product on one machine with no servers: SQLite in WAL mode and the
Celery broker on kombu's filesystem transport, both under ``var/``, and email into the outbox.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from cxcrm.api.texts import API_TAGS, api_description
from cxcrm.env import (
    anymail_settings,
    bad,
    broker_url,
    database_config,
    email_config,
    env_bool,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CXCRM_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "insecure-development-key-do-not-use-in-production-" + "x" * 20
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Environment variable SECRET_KEY is required when DEBUG is off "
            "(50+ random characters: python -c "
            "'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = _DEV_SECRET
elif len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("Environment variable SECRET_KEY is invalid: use 32+ characters")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", {"http", "https"})
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# --- Transport and browser security (all on outside DEBUG; `check --deploy` passes) ----------
_SECURE = not DEBUG and SITE_URL.startswith("https://")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _SECURE)
# Load balancers probe /healthz over plain HTTP inside the network: answer, do not redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("CXCRM_BEHIND_TLS_PROXY", False) else None
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our own static files; inline style attributes stay allowed because the
# Django admin and the emails previewed in it use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "csp",
    "cxcrm",
    "customers",
    "touchpoints",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session's middleware, which looks its cookie up in the database.
    "cxcrm.nul_guard.NulGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after the session and user are available: it loads them, so that a database
    # outage is answered with a clean 503 (cxcrm/unavailable.py) instead of a 500.
    "cxcrm.unavailable.DatabaseUnavailableMiddleware",
    # The staff member's chosen language and time zone, over the browser's (cxcrm.staff_prefs).
    "cxcrm.staff_prefs.StaffLocaleMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cxcrm.accounts.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "cxcrm.urls"
WSGI_APPLICATION = "cxcrm.wsgi.application"
ASGI_APPLICATION = "cxcrm.asgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": database_config("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cxcrm.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take the
    # write lock up front so two writers queue on the busy timeout instead of failing with
    # "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # libpq's connect_timeout: a database host that does not answer (rather than refusing)
    # costs a request, and /healthz, this many seconds instead of the system's TCP timeout.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=600),
    }
    # Opt-in: psycopg prepares a statement once it ran this many times on a connection (with
    # Django's server-side binding), so PostgreSQL plans a hot lookup once per connection. Off
    # by default: a prepared statement may settle on a generic plan, which cannot use a partial
    # index or a list's selectivity (the bulk ingest's look-up of existing events got slower).
    _PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 0, minimum=0)
    if _PREPARE_THRESHOLD:
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": _PREPARE_THRESHOLD,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
_CACHE_URL = env_str("CACHE_URL", "")
if _CACHE_URL:
    if urlsplit(_CACHE_URL).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(
            f"Environment variable CACHE_URL={_CACHE_URL!r} is invalid: expected redis://HOST:PORT/DB"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
        }
    }
else:
    # A cache shared by every process on the host, so rate limits hold across gunicorn workers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Template fragments that depend only on the code and the language (the survey page's scale
# and language menu): each process keeps its own copy, so there is nothing to share or expire.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
# Django's for permissions and username sign-in, allauth's for its email login form.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# django-allauth: staff sign in with their email; sign-up is closed (staff are invited).
ACCOUNT_ADAPTER = "cxcrm.accounts.AccountAdapter"
ACCOUNT_ALLOW_REGISTRATION = env_bool("ACCOUNT_ALLOW_REGISTRATION", False)
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
# Failed logins: 5 per account per 5 minutes, 10 per minute per address (needs a shared cache).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("CXCRM_BRAND_NAME", "cxcrm")
CXCRM_MFA_REQUIRED_FOR_ALL_STAFF = env_bool("CXCRM_MFA_REQUIRED_FOR_ALL_STAFF", False)
CXCRM_MFA_REQUIRED_FOR_SUPERUSERS = env_bool("CXCRM_MFA_REQUIRED_FOR_SUPERUSERS", not DEBUG)
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_PROVIDERS: dict[str, object] = {}
_OIDC_URL = env_str("CXCRM_OIDC_SERVER_URL", "")
if _OIDC_URL:
    # Optional single sign-on through any OpenID Connect provider (Keycloak, Entra ID, Okta...).
    INSTALLED_APPS.append("allauth.socialaccount.providers.openid_connect")
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": env_str("CXCRM_OIDC_PROVIDER_ID", "sso"),
                "name": env_str("CXCRM_OIDC_NAME", "Single sign-on"),
                "client_id": env_str("CXCRM_OIDC_CLIENT_ID", ""),
                "secret": env_str("CXCRM_OIDC_CLIENT_SECRET", ""),
                "settings": {"server_url": env_url("CXCRM_OIDC_SERVER_URL", "", {"https", "http"})},
            }
        ]
    }

# --- I18n -----------------------------------------------------------------------------------
LANGUAGES = [
    ("en", "English"),
    ("ru", "Русский"),
    ("pl", "Polski"),
    ("zh-hans", "简体中文"),
    ("ar", "العربية"),
]
# The site's language: staff who chose none get their emails in it, and texts the product
# writes for staff (generated ticket subjects, Slack and Teams alerts) are written in it.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en").lower()
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise bad("LANGUAGE_CODE", LANGUAGE_CODE, "must be one of en, ru, pl, zh-hans, ar")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
_EMAIL = email_config("EMAIL_URL", "outbox://")
EMAIL_BACKEND = _EMAIL.backend
EMAIL_HOST = _EMAIL.host
EMAIL_PORT = _EMAIL.port
EMAIL_HOST_USER = _EMAIL.user
EMAIL_HOST_PASSWORD = _EMAIL.password
EMAIL_USE_TLS = _EMAIL.use_tls
EMAIL_USE_SSL = _EMAIL.use_ssl
EMAIL_TIMEOUT = _EMAIL.timeout
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cxcrm <feedback@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if "@" not in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(
        f"Environment variable DEFAULT_FROM_EMAIL={DEFAULT_FROM_EMAIL!r} is invalid: "
        "expected an address such as 'Brand <feedback@example.com>'"
    )
ANYMAIL = anymail_settings()
# Replies by email: which ESP's inbound webhook answers at /inbound/email/, and the size cap.
CXCRM_INBOUND_ESP = env_str("CXCRM_INBOUND_ESP", "postmark").strip().lower()
CXCRM_INBOUND_MAX_BYTES = env_int("CXCRM_INBOUND_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# What one message may cost to read (feedback/inbound/limits.py); over a cap it is kept unread.
CXCRM_INBOUND_MAX_HEADER_BYTES = env_int(
    "CXCRM_INBOUND_MAX_HEADER_BYTES", 256 * 1024, minimum=1024, maximum=16 * 1024 * 1024
)
CXCRM_INBOUND_MAX_ADDRESSES = env_int("CXCRM_INBOUND_MAX_ADDRESSES", 1000, minimum=1)
CXCRM_INBOUND_MAX_PARTS = env_int("CXCRM_INBOUND_MAX_PARTS", 500, minimum=1)
CXCRM_INBOUND_MAX_DEPTH = env_int("CXCRM_INBOUND_MAX_DEPTH", 20, minimum=1, maximum=100)
CXCRM_INBOUND_TIME_BUDGET_SECONDS = env_int(
    "CXCRM_INBOUND_TIME_BUDGET_SECONDS", 20, minimum=1, maximum=240
)
# A row still "received" this long is enqueued again, at most CXCRM_INBOUND_MAX_ATTEMPTS times.
CXCRM_INBOUND_SWEEP_AFTER_SECONDS = env_int("CXCRM_INBOUND_SWEEP_AFTER_SECONDS", 300, minimum=10)
CXCRM_INBOUND_MAX_ATTEMPTS = env_int("CXCRM_INBOUND_MAX_ATTEMPTS", 3, minimum=1)
INBOUND_EMAIL_DOMAIN = env_str("INBOUND_EMAIL_DOMAIN", "reply.localhost").strip().lower()
if not INBOUND_EMAIL_DOMAIN or "@" in INBOUND_EMAIL_DOMAIN or " " in INBOUND_EMAIL_DOMAIN:
    raise ImproperlyConfigured(
        f"Environment variable INBOUND_EMAIL_DOMAIN={INBOUND_EMAIL_DOMAIN!r} is invalid: "
        "expected a bare domain such as reply.example.com"
    )

# --- Celery ---------------------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = broker_url("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # kombu's default for the exchange tables is ./control, in whatever directory the
        # process started.
        "control_folder": str(_BROKER_DIR / "control"),
        "data_folder_in": str(_BROKER_DIR / "in"),
        "data_folder_out": str(_BROKER_DIR / "in"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "cxcrm")
# A task is acknowledged after it ran, so a worker killed mid-task hands it to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# --- Survey dispatch (see feedback/surveys/services/dispatch.py) ---------------------------
CXCRM_DISPATCH_INTERVAL_SECONDS = env_int("CXCRM_DISPATCH_INTERVAL_SECONDS", 60, minimum=1)
CXCRM_DISPATCH_BATCH_SIZE = env_int("CXCRM_DISPATCH_BATCH_SIZE", 100, minimum=1, maximum=5000)
CXCRM_DISPATCH_PARALLEL = env_int("CXCRM_DISPATCH_PARALLEL", 4, minimum=1, maximum=64)
CXCRM_DISPATCH_TIME_BUDGET = env_int("CXCRM_DISPATCH_TIME_BUDGET", 45, minimum=1)
CXCRM_DISPATCH_LEASE_SECONDS = env_int("CXCRM_DISPATCH_LEASE_SECONDS", 600, minimum=5)
# How often the maintenance worker returns claims past their lease (feedback.release_stale).
CXCRM_DISPATCH_RELEASE_INTERVAL_SECONDS = env_int(
    "CXCRM_DISPATCH_RELEASE_INTERVAL_SECONDS", 15, minimum=1
)
CXCRM_DISPATCH_MAX_ATTEMPTS = env_int("CXCRM_DISPATCH_MAX_ATTEMPTS", 10, minimum=1)
CXCRM_DISPATCH_RETRY_BASE_SECONDS = env_int("CXCRM_DISPATCH_RETRY_BASE_SECONDS", 60, minimum=1)
CXCRM_DISPATCH_RETRY_MAX_SECONDS = env_int("CXCRM_DISPATCH_RETRY_MAX_SECONDS", 6 * 3600, minimum=1)
CXCRM_FOLLOWUP_DELAY_HOURS = env_int("CXCRM_FOLLOWUP_DELAY_HOURS", 24, minimum=0)
CXCRM_MAINTENANCE_INTERVAL_SECONDS = env_int("CXCRM_MAINTENANCE_INTERVAL_SECONDS", 900, minimum=1)

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "cxcrm.tasks.heartbeat", "schedule": 60.0},
    "dispatch-due-invitations": {
        "task": "feedback.dispatch_due",
        "schedule": float(CXCRM_DISPATCH_INTERVAL_SECONDS),
    },
    # On the maintenance queue (CELERY_TASK_ROUTES); a tick not run by the next one is dropped.
    "release-stale-claims": {
        "task": "feedback.release_stale",
        "schedule": float(CXCRM_DISPATCH_RELEASE_INTERVAL_SECONDS),
        # django-celery-beat's name for the message's expiry (PeriodicTask.expire_seconds).
        "options": {"expire_seconds": CXCRM_DISPATCH_RELEASE_INTERVAL_SECONDS},
    },
    "remind-non-responders": {
        "task": "feedback.remind_due",
        "schedule": float(CXCRM_MAINTENANCE_INTERVAL_SECONDS),
    },
    "escalate-breached-tickets": {"task": "feedback.escalate_breached", "schedule": 300.0},
    "loop-sweep": {"task": "feedback.loop_sweep", "schedule": 300.0},
    # Days whose refresh was not enqueued (broker down): read raw, exact, until swept.
    "rollups-sweep": {"task": "feedback.rollups_sweep", "schedule": 300.0},
    "inbound-sweep": {"task": "feedback.inbound_sweep", "schedule": 120.0},
    "retention-erase-inactive": {"task": "customers.erase_inactive", "schedule": 86400.0},
    "expire-invitations": {
        "task": "feedback.expire_due",
        "schedule": float(CXCRM_MAINTENANCE_INTERVAL_SECONDS),
    },
}

# --- REST framework -------------------------------------------------------------------------
_RATE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


def _rate(name: str, default: str) -> str:
    value = env_str(name, default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is invalid: expected N/second, N/minute, "
            "N/hour or N/day, such as 600/minute"
        )
    return value


REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "cxcrm.api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cxcrm.api.authentication.ApiKeyAuthentication",
        "cxcrm.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cxcrm.api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["cxcrm.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": _rate("CXCRM_API_RATE_READ", "1200/minute"),
        "api_key_write": _rate("CXCRM_API_RATE_WRITE", "600/minute"),
    },
    "DEFAULT_PARSER_CLASSES": ["cxcrm.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "cxcrm.api.pagination.SmallPagination",
    "EXCEPTION_HANDLER": "cxcrm.api.exceptions.api_exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# ReDoc's text in the fonts the reader's system has: no web font is fetched (the docs work
# offline and the CSP allows no outside origin).
_SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_MONO_FONTS = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace'
SPECTACULAR_SETTINGS = {
    "TITLE": "cxcrm API",
    # The schema's front page (Markdown) and a text per group of operations (cxcrm.api.texts).
    "DESCRIPTION": "",  # set below, once the webhook retry schedule is read
    "TAGS": API_TAGS,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Docstrings are notes for developers; what integrators read is written for them in each
    # view's extend_schema (summary, description, examples) and each field's help_text.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    "COMPONENT_SPLIT_REQUEST": True,
    # The default hook, then valid blank-or-pattern strings and the error responses every
    # operation can give (cxcrm.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cxcrm.api.schema.blank_strings",
        "cxcrm.api.schema.add_error_responses",
    ],
    # Served from our own static files (drf-spectacular-sidecar): the docs work offline and
    # under the Content-Security-Policy (scripts only from 'self').
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Passed to Redoc.init by static/cxcrm/api/redoc-init.js (https://redocly.com/docs/redoc/config).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": _SYSTEM_FONTS,
                "headings": {"fontFamily": _SYSTEM_FONTS},
                "code": {"fontFamily": _MONO_FONTS},
            },
        },
        "expandResponses": "200,201",
        "pathInMiddlePanel": True,
        "requiredPropsFirst": True,
    },
    # Swagger UI would show a badge from validator.swagger.io for any schema not on localhost.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "feedback.tickets.models.TicketStatus",
        "InvitationStateEnum": "feedback.surveys.models.InvitationState",
        "SurveyKindEnum": "feedback.surveys.scoring.SurveyKind",
        "CategoryEnum": "feedback.surveys.scoring.Category",
        "JourneyStageEnum": "touchpoints.models.JourneyStage",
        "TouchpointChannelEnum": "touchpoints.models.Channel",
        "ResponseChannelEnum": "feedback.surveys.models.ResponseChannel",
    },
}
# Largest JSON body the API reads (a bulk of 1,000 interactions is well under 1 MB).
CXCRM_API_MAX_BODY_BYTES = env_int(
    "CXCRM_API_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024, maximum=100 * 1024 * 1024
)
# DRF reads a JSON body through request.body, which Django caps at DATA_UPLOAD_MAX_MEMORY_SIZE
# before the API's parser runs: it is raised to the API's limit (never below Django's 2.5 MB
# default, which the admin's forms keep).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(CXCRM_API_MAX_BODY_BYTES, 2_621_440)
# --- Outgoing webhooks (cxcrm/webhooks) -----------------------------------------------------
# Seconds between attempts: the Standard Webhooks schedule, about 27 hours in all.
_SCHEDULE = env_list(
    "CXCRM_WEBHOOK_RETRY_SCHEDULE", ["5", "300", "1800", "7200", "18000", "36000", "36000"]
)
if not all(item.isdigit() for item in _SCHEDULE):
    raise ImproperlyConfigured(
        f"Environment variable CXCRM_WEBHOOK_RETRY_SCHEDULE={','.join(_SCHEDULE)!r} is invalid: "
        "expected comma-separated whole seconds such as 5,300,1800"
    )
CXCRM_WEBHOOK_RETRY_SCHEDULE = [int(item) for item in _SCHEDULE]
SPECTACULAR_SETTINGS["DESCRIPTION"] = api_description(retry_schedule=CXCRM_WEBHOOK_RETRY_SCHEDULE)
CXCRM_WEBHOOK_TIMEOUT_SECONDS = env_int("CXCRM_WEBHOOK_TIMEOUT_SECONDS", 15, minimum=1, maximum=120)
# Endpoints on loopback or private networks: allowed while developing, refused in production
# (an API key could otherwise make the server probe its own network).
CXCRM_WEBHOOK_ALLOW_PRIVATE = env_bool("CXCRM_WEBHOOK_ALLOW_PRIVATE", DEBUG)
# Webhook deliveries wait on other servers; releasing stale claims must never wait behind
# sending tasks: each has a queue and a worker process of its own (Procfile). Posting an
# alert to Slack/Teams is an outgoing HTTP call too: it waits on the webhooks queue.
CELERY_TASK_ROUTES = {
    "webhooks.*": {"queue": "webhooks"},
    "insights.alert_chat": {"queue": "webhooks"},
    "feedback.release_stale": {"queue": "maintenance"},
}
CELERY_IMPORTS = [
    "cxcrm.webhooks.tasks",
    "feedback.surveys.tasks",
    "feedback.tickets.tasks",
    "feedback.inbound.tasks",
    "feedback.reporting.tasks",
    "feedback.insights.alerts_notify",
    "feedback.insights.alerts_tasks",
    "feedback.insights.tasks",
]
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "webhooks.sweep", "schedule": 60.0}
# --- Insight alerts (feedback/insights/alerts.py) -------------------------------------------
# Slack and Microsoft Teams incoming-webhook URLs ("" is off); the webhook URL rules apply.
CXCRM_ALERT_SLACK_URL = env_str("CXCRM_ALERT_SLACK_URL", "").strip()
CXCRM_ALERT_TEAMS_URL = env_str("CXCRM_ALERT_TEAMS_URL", "").strip()
CELERY_BEAT_SCHEDULE["insights-alerts"] = {"task": "insights.alerts_evaluate", "schedule": 3600.0}

# --- Comment insights (feedback/insights) ---------------------------------------------------
# Texts per embedding call of the enrichment task (one batch is written in one transaction).
CXCRM_INSIGHTS_BATCH = env_int("CXCRM_INSIGHTS_BATCH", 64, minimum=1, maximum=1000)
# How often beat looks for texts a lost enqueue (broker down) or a taxonomy change left pending.
CXCRM_INSIGHTS_SWEEP_SECONDS = env_int("CXCRM_INSIGHTS_SWEEP_SECONDS", 120, minimum=10)
CELERY_BEAT_SCHEDULE["insights-sweep"] = {
    "task": "feedback.insights_sweep",
    "schedule": float(CXCRM_INSIGHTS_SWEEP_SECONDS),
}
# Adapt the sentiment model to the scored comments (it keeps the shipped one below 200).
CELERY_BEAT_SCHEDULE["insights-train-sentiment"] = {
    "task": "feedback.insights_train_sentiment",
    "schedule": 86400.0,
}

# --- Product --------------------------------------------------------------------------------
CXCRM_BRAND_NAME = env_str("CXCRM_BRAND_NAME", "cxcrm")
CXCRM_BRAND_COLOUR = env_str("CXCRM_BRAND_COLOUR", "#3b5bdb").strip()
if not re.fullmatch(r"#[0-9a-fA-F]{6}", CXCRM_BRAND_COLOUR):
    raise ImproperlyConfigured(
        f"Environment variable CXCRM_BRAND_COLOUR={CXCRM_BRAND_COLOUR!r} is invalid: "
        "expected a hex colour such as #3b5bdb"
    )
# Erase customers with no activity for this many months (0: keep everything).
CXCRM_RETENTION_MONTHS = env_int("CXCRM_RETENTION_MONTHS", 0, minimum=0, maximum=1200)
# Largest CSV file staff may upload to the admin's "Import CSV" (bytes).
CXCRM_CSV_IMPORT_MAX_BYTES = env_int(
    "CXCRM_CSV_IMPORT_MAX_BYTES", 5_000_000, minimum=1_000, maximum=100_000_000
)
CXCRM_TRUST_X_FORWARDED_FOR = env_bool("CXCRM_TRUST_X_FORWARDED_FOR", False)
# Requests per client IP and window (seconds) on the public token pages.
CXCRM_RATE_LIMITS = {
    "token": (env_int("CXCRM_TOKEN_RATE_LIMIT", 60, minimum=1), 60),
}
CXCRM_CONTACT_FREQUENCY_DAYS = env_int("CXCRM_CONTACT_FREQUENCY_DAYS", 30, minimum=0)

# --- Logging ---
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"Environment variable LOG_LEVEL={LOG_LEVEL!r} is invalid: "
        "expected DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
# --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # A database outage logs one WARNING per request (cxcrm.unavailable); Django's ERROR line
    # for the same 503 would double it.
    "filters": {
        "skip_service_unavailable": {
            "()": "django.utils.log.CallbackFilter",
            "callback": "ext://cxcrm.unavailable.skip_service_unavailable",
        }
    },
    "loggers": {"django.request": {"filters": ["skip_service_unavailable"]}},
}
