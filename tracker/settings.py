"""Settings for the compliance tracker, read from the environment only.

Development defaults are safe and need no services: SQLite, eager Celery tasks,
DEBUG on. Production sets DEBUG=false and must then provide SECRET_KEY and
ALLOWED_HOSTS; see README.md for every variable.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from tracker.env import env_bool, env_database, env_int, env_list, env_str

# Lets classes such as ModelAdmin[Organisation] be subscripted at run time, as
# the type checker reads them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY or (not DEBUG and SECRET_KEY == _DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set (a long random string) when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so that its templates override the admin's (admin/base_site.html).
    "tracker",
    # Before the admin, so that translated fields are registered when it loads.
    "modeltranslation",
    # The admin site with the tracker's role check and the monitor's home page.
    "tracker.admin_site.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_countries",
    "pgtrigger",
    "pghistory",
    "import_export",
    "instruments",
    "recommendations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tracker.middleware.HistoryContextMiddleware",
    "tracker.middleware.WebhookQueueMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"
AUTH_USER_MODEL = "tracker.User"
# Django's model backend, reading a user's permissions in one query, not two.
AUTHENTICATION_BACKENDS = ["tracker.backends.PermissionBackend"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ON_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if ON_POSTGRES:
    # The admin's history pages read the event tables through PostgreSQL-only
    # SQL; on SQLite there is no field-level history to show (see tracker/history.py).
    # Before the admin app, so that its object-tools template (the "Events"
    # link on each change page) overrides the admin's own.
    INSTALLED_APPS.insert(
        INSTALLED_APPS.index("tracker.admin_site.TrackerAdminConfig"), "pghistory.admin"
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("kk", _("Kazakh"))]
LOCALE_PATHS = [BASE_DIR / "tracker" / "locale"]
# Kazakh date and number formats, which Django does not ship.
FORMAT_MODULE_PATH = ["tracker.formats"]

# Content people read (titles, texts, theme names) in each language, falling
# back to English where no translation is known.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "ru", "kk")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = env_str("TIME_ZONE", "Asia/Almaty")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

# The source documents the seed data cites live beside the fixtures, so that a
# clone of the repository carries its own evidence.
SOURCE_DOCUMENTS_DIR = BASE_DIR / "fixtures" / "sources"

# Field-level history (see tracker/history.py). Reads leave no history, so the
# middleware only attaches context to requests that may write.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PGHISTORY_ADMIN_ORDERING = ["-pgh_created_at"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.authentication.ApiKeyAuthentication",
        "tracker.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tracker.api_defaults.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "tracker.api_defaults.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "tracker.api_defaults.KeyCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # The API speaks JSON only; DRF's test client sends the same.
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Larger JSON bodies are refused with 413 before they are parsed.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1_000_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance tracker API",
    "DESCRIPTION": "Recommendations, the provisions they concern and how far each is "
    "implemented; incremental sync through the change feed.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "recommendations.choices.Status",
        "DatePrecisionEnum": "tracker.choices.DatePrecision",
        "OrganisationKindEnum": "tracker.choices.OrganisationKind",
        "InstrumentKindEnum": "instruments.choices.InstrumentKind",
        "RecommendationKindEnum": "recommendations.choices.RecommendationKind",
        "SourceKindEnum": "instruments.choices.SourceKind",
        "RelationKindEnum": "instruments.choices.RelationKind",
        "ParticipationStatusEnum": "instruments.choices.ParticipationStatus",
        "ValidationErrorEnum": (
            "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices"
        ),
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "tracker.api_schema.document_unknown_fields",
        "tracker.api_schema.document_nested_attrs",
    ],
}
DRF_STANDARDIZED_ERRORS = {"ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": False}

# Celery: with no broker configured, tasks run eagerly in the calling process
# (the quick start needs no services); production and CI point this at Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Report exports live in recommendations/exports.py, which the worker must load.
CELERY_INCLUDE = ["recommendations.exports"]
# With Redis, a task a dead worker had taken is handed out again after this
# many seconds; it must exceed the longest task and the longest retry delay
# (WEBHOOK_RETRY_MAX_DELAY), or those run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL", 10),
}

# Webhooks (tracker/webhooks.py): attempt n failing waits BASE * 2**(n-1)
# seconds, at most MAX_DELAY, and after MAX_ATTEMPTS the delivery is failed.
# A pending delivery whose due time passed STALE_AFTER seconds ago lost its
# task message and is sent again by the periodic queueing task.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Endpoints on loopback, private or link-local addresses are refused unless this
# is on (development and tests, whose receivers listen on 127.0.0.1).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_DELAY = env_int("WEBHOOK_RETRY_MAX_DELAY", 1800)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_STALE_AFTER_SECONDS = env_int("WEBHOOK_STALE_AFTER_SECONDS", 600)

# Reports (recommendations/views.py): public to anyone, or only to the roles
# that may read them; exports larger than the limit run in the background and
# are written, with their progress, under the export directory.
REPORTS_PUBLIC = env_bool("REPORTS_PUBLIC", False)
REPORTS_DIRECT_EXPORT_LIMIT = env_int("REPORTS_DIRECT_EXPORT_LIMIT", 2000)
# A PDF is laid out whole, in memory that grows with its rows; longer lists
# are refused as PDF (CSV and XLSX stream, whatever their length).
REPORTS_PDF_MAX_ROWS = env_int("REPORTS_PDF_MAX_ROWS", 500)
REPORTS_EXPORT_DIR = Path(env_str("REPORTS_EXPORT_DIR", str(BASE_DIR / "media" / "exports")))
LOGIN_URL = "reports:login"
# Signing in at the reports' own page with no page to go back to leads to the
# reports (Django's default, /accounts/profile/, is no page here).
LOGIN_REDIRECT_URL = "reports:overview"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tracker@localhost")
# Directory of django.core.mail.backends.filebased.EmailBackend, when chosen.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "artifacts" / "mail"))

# Every periodic task, in one place; `celery -A tracker beat` reads it.
CELERY_BEAT_SCHEDULE = {
    "deadline-reminders": {
        "task": "recommendations.tasks.send_deadline_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # Turns new changes into webhook deliveries; writes through the web also
    # trigger it at once, this catches the rest (imports, shell, held-back rows).
    "webhook-deliveries": {
        "task": "tracker.tasks.queue_webhook_deliveries",
        "schedule": float(env_int("WEBHOOK_QUEUE_INTERVAL", 60)),
    },
    # Keeps the overview's count rows few (the triggers only ever add rows).
    "overview-counts": {
        "task": "recommendations.tasks.compact_overview_counts",
        "schedule": float(env_int("OVERVIEW_COMPACT_INTERVAL", 300)),
    },
}

# Spreadsheet import and export in the admin: importing needs the model's add
# permission, exporting its view permission; each import runs in a transaction,
# so a preview (a dry run) is rolled back and writes nothing.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_FORMATS = [CSV, XLSX]

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER via
# TRUST_X_FORWARDED_PROTO=true; the redirect can be switched off when the proxy
# already redirects.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
