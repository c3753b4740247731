"""Settings shared by every environment; every deploy-specific value comes from the environment.

The embedded defaults (SQLite, Celery on kombu's ``filesystem://`` broker, artifacts in a local
folder) let ``make run`` work on a fresh machine with no services; the same code runs on
PostgreSQL and Redis/RabbitMQ when ``DATABASE_URL`` / ``CELERY_BROKER_URL`` say so.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django.conf.locale
import environ
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

VAR_DIR = Path(env.str("PARITY_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
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
    "rest_framework",
    "knox",
    "rules",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "evaluators",
    "annotation",
    "learner",
]

MIDDLEWARE = [
    # First: the work it collects (job dispatches) runs after the response, outside everything below.
    "parity.after_response.AfterResponseMiddleware",
    "parity.timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# axes first (counts failures, refuses locked-out logins), then the object rules of parity.access,
# then Django's model permissions (used by the admin).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Server-Timing on every response (parity.timing): for benchmarks and an operator's devtools only, since
# precise server times would let an evaluator tell control items from work by how long they take.
SERVER_TIMING = env.bool("SERVER_TIMING", default=False)

ROOT_URLCONF = "parity.urls"
WSGI_APPLICATION = "parity.wsgi.application"
ASGI_APPLICATION = "parity.asgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'parity.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: a new PostgreSQL connection per request (Django's default, 0) costs a backend
# fork and the session set-up, several milliseconds of every request. Each web thread keeps its own
# connection for up to DATABASE_CONN_MAX_AGE seconds (gunicorn's workers x threads, plus the celery
# workers, must stay under PostgreSQL's max_connections); 0 restores one connection per request. The
# health check replaces a connection the database closed (a restart, an idle timeout) before it is used.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server, the worker and beat share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Each interface language in its own name, so a speaker finds it whatever language the page is in.
LANGUAGES = [
    ("en", "English"), ("fr", "Français"), ("sw", "Kiswahili"), ("ha", "Hausa"), ("am", "አማርኛ"), ("ur", "اردو"),
]
# Django's LANG_INFO (used by {% get_language_info_list %} and get_language_bidi) lacks Hausa and Amharic.
django.conf.locale.LANG_INFO.setdefault(
    "ha", {"bidi": False, "code": "ha", "name": "Hausa", "name_local": "Hausa"})
django.conf.locale.LANG_INFO.setdefault(
    "am", {"bidi": False, "code": "am", "name": "Amharic", "name_local": "አማርኛ"})
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
ARTIFACT_ROOT = Path(env.str("ARTIFACT_ROOT", default=str(VAR_DIR / "artifacts")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "artifacts": {
        "BACKEND": env.str("ARTIFACT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": str(ARTIFACT_ROOT)},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- shared cache, proxies, abuse limits ------------------------------------------------------
# The cache is shared by every process (the database by default, Redis via CACHE_URL): throttles
# and lockouts counted per process would let N workers accept N times the limit.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="dbcache://parity_cache"),
}
# Reverse proxies in front of the app that append to X-Forwarded-For. 0: the header is ignored and
# the socket's address is the client (anyone can send the header; only proxies you run are trusted).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REPORT_THROTTLE_RATE = env.str("REPORT_THROTTLE_RATE", default="10/hour")
# Longest item, report or guideline text accepted (characters); longer is a clear error, not a 20 MB row.
PARITY_MAX_TEXT_LENGTH = env.int("PARITY_MAX_TEXT_LENGTH", default=10_000)

# --- login throttling (django-axes) ----------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- personal API tokens (django-rest-knox: stored hashed, shown once, with an expiry) -----------
KNOX_TOKEN_MODEL = "evaluators.PersonalToken"
# knox's own migrations would create its (swapped-out) AuthToken table anyway; without them, Django
# creates no table for a swapped model.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DEFAULT_DAYS", default=90)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=20),
}

# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# Guideline images: the site itself plus these origins (e.g. "https://images.example.org").
GUIDELINE_IMAGE_ORIGINS = env.list("GUIDELINE_IMAGE_ORIGINS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *GUIDELINE_IMAGE_ORIGINS],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

LOGIN_URL = "evaluators:login"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its "WWW-Authenticate: Token" makes a missing or bad token a 401, not a 403.
        "parity.tokens.TokenAuthentication",  # knox's, without a read of all the user's tokens per request
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every API view declares its rule per action (parity.access.ActionRules); none means refused.
    "DEFAULT_PERMISSION_CLASSES": ["parity.access.ActionRules"],
    "DEFAULT_SCHEMA_CLASS": "parity.schema.ParityAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "parity.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"reports": REPORT_THROTTLE_RATE},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parity API",
    "DESCRIPTION": "Human-in-the-loop annotation and active learning for low-resource languages.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served by the platform itself (no CDN), so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status` field; give each choice set its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "learner.models.RunStatus",
        "LearnerBackendEnum": "learner.models.Backend",
        "ModelVersionStatusEnum": "learner.models.ModelVersion.Status",
        "GuidelineVersionStatusEnum": "evaluators.models.GuidelineVersion.Status",
        "ItemStatusEnum": "annotation.models.Item.Status",
        "AssignmentStatusEnum": "annotation.models.Assignment.Status",
        "ReportStatusEnum": "annotation.models.Report.Status",
    },
}

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
_broker_dir = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # Redis/SQS: an unacked message (acks_late) comes back after this; it must outlast the longest run
    # (CELERY_TASK_TIME_LIMIT), or a live run would be delivered twice. A dead worker's run is taken
    # over much sooner by learner.recover_stalled_runs, not by this timeout.
    else {"visibility_timeout": env.int("CELERY_TASK_TIME_LIMIT", default=6 * 60 * 60) + 600}
)
for _key in ("data_folder_in", "processed_folder", "control_folder"):
    _folder = CELERY_BROKER_TRANSPORT_OPTIONS.get(_key)
    if _folder is None:
        continue
    # kombu's filesystem transport expects its folders to exist before the first publish.
    Path(_folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=6 * 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT - 300)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("gpu", Exchange("gpu"), routing_key="gpu"),
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Learner ------------------------------------------------------------------------------
# A Hugging Face id or local path; "parity-tiny" is a small model built offline on first use.
LEARNER_BACKBONE = env.str("LEARNER_BACKBONE", default="parity-tiny")
# Queue for training and scoring runs: "gpu" once GPU workers listen on it.
LEARNER_TRAINING_QUEUE = env.str("LEARNER_TRAINING_QUEUE", default="default")
LEARNER_RETRAIN_MIN_NEW_LABELS = env.int("LEARNER_RETRAIN_MIN_NEW_LABELS", default=50)
# Crash recovery (learner.recovery): a training run beats every LEARNER_HEARTBEAT_SECONDS; one silent for
# LEARNER_TAKEOVER_SECONDS was left by a dead worker, and the beat task (every
# LEARNER_RECOVERY_INTERVAL_SECONDS) hands it to another worker: taken over within about 2 minutes.
LEARNER_HEARTBEAT_SECONDS = env.int("LEARNER_HEARTBEAT_SECONDS", default=15)
LEARNER_TAKEOVER_SECONDS = env.int("LEARNER_TAKEOVER_SECONDS", default=env.int("LEARNER_RUN_LEASE_SECONDS", default=90))
LEARNER_RECOVERY_INTERVAL_SECONDS = env.int("LEARNER_RECOVERY_INTERVAL_SECONDS", default=30)
if LEARNER_HEARTBEAT_SECONDS * 3 > LEARNER_TAKEOVER_SECONDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LEARNER_TAKEOVER_SECONDS must be at least 3 heartbeats (LEARNER_HEARTBEAT_SECONDS), "
                               "or a slow database write would hand a live run to a second worker")

# Aggregation runs after the submitting request, one coalesced job per project × language: the job waits
# AGGREGATION_DELAY_S so that a burst of submissions shares one Dawid–Skene fit; the pending mark expires
# after AGGREGATION_PENDING_TTL_S in case its job was lost (the beat sweep aggregates what is left).
AGGREGATION_DELAY_S = env.float("AGGREGATION_DELAY_S", default=2.0)
AGGREGATION_PENDING_TTL_S = env.int("AGGREGATION_PENDING_TTL_S", default=120)
# The beat sweep reads only labels changed since its durable watermark, minus AGGREGATION_SWEEP_OVERLAP_S (longer
# than any submit transaction, so a label stamped before a sweep but committed after it is still read), and
# goes over every pair once per AGGREGATION_SWEEP_FULL_S (a k lowered in the admin makes items pending
# without a new label).
AGGREGATION_SWEEP_OVERLAP_S = env.int("AGGREGATION_SWEEP_OVERLAP_S", default=120)
AGGREGATION_SWEEP_FULL_S = env.int("AGGREGATION_SWEEP_FULL_S", default=3600)
# Control statistics (gold exposure, rolling accuracy, auto-suspension) run in one coalesced job per pool
# member after the submit commits, CONTROL_STATS_DELAY_S later: a suspension lands that much (plus the
# queue's latency) after the answer that triggers it. The pending mark expires after
# CONTROL_STATS_PENDING_TTL_S; the evaluators.control_statistics_sweep beat task counts what a lost job left.
CONTROL_STATS_DELAY_S = env.float("CONTROL_STATS_DELAY_S", default=1.0)
CONTROL_STATS_PENDING_TTL_S = env.int("CONTROL_STATS_PENDING_TTL_S", default=120)
# The workspace keeps this many items leased and sent ahead (the one shown included), so that a keypress
# shows the next item without waiting for the server; the leases go back when the workspace closes.
WORKSPACE_PREFETCH = env.int("WORKSPACE_PREFETCH", default=3)
# The workspace's queue total (a progress bar) is counted once per this many seconds per evaluator.
QUEUE_TOTAL_CACHE_S = env.int("QUEUE_TOTAL_CACHE_S", default=30)
# Agreement is snapshotted per N new labels or per time window, not per item.
AGREEMENT_SNAPSHOT_EVERY_LABELS = env.int("AGREEMENT_SNAPSHOT_EVERY_LABELS", default=100)
AGREEMENT_SNAPSHOT_INTERVAL_S = env.int("AGREEMENT_SNAPSHOT_INTERVAL_S", default=900)
# Two or more of ngram,frozen,blend,transformer: scheduled runs train each per language and the registry
# promotes whichever beats the champion on that language's dev set. Empty: one backend per run.
LEARNER_COMPETITION_BACKENDS = env.list("LEARNER_COMPETITION_BACKENDS", default=[])

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="parity@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

CELERY_BEAT_DEFAULT_SCHEDULE_INTERVAL = timedelta(minutes=15)
