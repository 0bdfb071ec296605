"""Settings shared by every environment.

Everything mutable lives under DATA_DIR; every setting can be overridden from the
environment so one code base serves the embedded tier and the scale-out tier.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# dev and test only: onebox generates and keeps its own, production refuses weak keys
DEFAULT_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    # project apps first so their templates override Wagtail's
    "cms",
    "cms.usage",
    "cms.credentials",
    "cms.workdays",
    "cms.notifications",
    "search",
    "search.saved",
    "policies",
    "budget",
    "supervision",  # before the apps whose demo uses its alerts (briefings, letters)
    "suggestions",
    "suggestions.opinions",
    "briefings",
    "supervision.letters",
    "archive",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "cms.apps.UsersConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",  # Wagtail 8: the modelsearch app under its historic label
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # second factor
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    # Django
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cms.credentials.session_expiry.IdleDeadlineMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cms.usage.middleware.CurrentRequestMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cms.middleware.ContentSecurityPolicyMiddleware",
    "cms.middleware.LoginRequiredMiddleware",
    "cms.credentials.middleware.SecondFactorMiddleware",
    "suggestions.middleware.FirstLoginPasswordMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.site",
            ],
        },
    },
]

# --- database: SQLite in DATA_DIR by default, anything dj-database-url reads otherwise
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids
    # the classic "database is locked" upgrade deadlock between two writers.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "cms.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "cms.credentials.passwords.VarietyValidator"},
]
LOGIN_URL = "login"
WAGTAILADMIN_LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Chinese first
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- files
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic too
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- the site
SITE_NAME = os.environ.get("SITE_NAME", "预算联网监督 · 文档与知识库")
COUNTY_NAME = os.environ.get("COUNTY_NAME", "元江县")
WAGTAIL_SITE_NAME = SITE_NAME
# the address people open the system at: links in e-mails are built from it
SITE_BASE_URL = os.environ.get(
    "SITE_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
).rstrip("/")
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", SITE_BASE_URL)
# Wagtail would load avatars from gravatar.com: the network is closed.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# ...and would ask releases.wagtail.org for a newer version from every admin dashboard.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "doc", "xlsx", "xls", "csv", "txt", "md", "zip"]
# every admin document upload passes the shared check (type by content, size): cms/uploads.py
WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms.document_forms.CheckedDocumentForm"

# Seat limits per role (domain.md §1: the example county uses 1 / 6 / 6).
# A JSON object in the environment overrides the whole table.
ROLE_SEAT_LIMITS = {
    "系统管理员": 1,
    "工作人员": 6,
    "代表/专家": 6,
    "档案员": 2,
    "部门联络员": 30,
}
if os.environ.get("ROLE_SEAT_LIMITS"):
    import json

    ROLE_SEAT_LIMITS = json.loads(os.environ["ROLE_SEAT_LIMITS"])

# --- sessions and cookies
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
# Idle expiry: cms.credentials.session_expiry.IdleDeadlineMiddleware pushes the deadline
# forward at most once per SESSION_REFRESH_SECONDS (not a database write per page view).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = int(os.environ.get("SESSION_REFRESH_SECONDS", "60"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_FAILURE_VIEW = "cms.views.csrf_failure"

# --- Content Security Policy: nothing from outside
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],  # no inline scripts (tests/cms/test_security_headers.py)
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }
}

# --- tasks: Celery with an embedded filesystem broker under DATA_DIR by default
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # default is ./control
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # alert rules are evaluated after each import and once a night
    "nightly-alerts": {
        "task": "supervision.tasks.nightly_alerts",
        "schedule": crontab(hour=2, minute=15),
    },
    "worker-heartbeat": {"task": "cms.tasks.heartbeat", "schedule": 60.0},
    "clear-expired-sessions": {"task": "cms.tasks.clear_expired_sessions", "schedule": 6 * 3600.0},
    # the query planner's statistics (cms/dbstats.py): without them SQLite misplans joins
    "refresh-db-statistics": {"task": "cms.tasks.refresh_db_statistics", "schedule": 3600.0},
    "saved-search-subscriptions": {
        "task": "search.saved.tasks.check_saved_search_subscriptions",
        "schedule": 30 * 60.0,
    },
    # after a crash (kill -9 mid-import): index writes of dead processes, unfinished files
    "search-recover-index-writes": {"task": "search.tasks.recover_index_writes", "schedule": 60.0},
    # segments a large import left (search/indexing.py: compact)
    "search-compact-index": {
        "task": "search.tasks.compact_index",
        "schedule": crontab(hour=1, minute=40),
    },
    "policies-recover-unfinished-imports": {
        "task": "policies.recover_unfinished_imports",
        "schedule": 120.0,
    },
    # uploads stored by a process that died before writing their row (cms/media_sweep.py)
    "sweep-orphaned-media": {
        "task": "cms.tasks.sweep_orphaned_media",
        "schedule": crontab(hour=3, minute=40),
    },
}

# --- suggestions/ (代表建议): its own settings and schedule go here
# deadlines of domain.md §4, counted from 交办 (calendar months) or in working days
SUGGESTIONS_ANSWER_MONTHS = 3  # 书面答复 within 3 months of 交办
SUGGESTIONS_EXTENDED_MONTHS = 6  # at most 6 months, with an explanation to the deputy
SUGGESTIONS_CO_UNIT_MONTHS = 1  # 协办意见 to the lead unit within 1 month
SUGGESTIONS_RETURN_WORKDAYS = 7  # 退办 may be requested within 7 working days of 交办
SUGGESTIONS_SECOND_ANSWER_MONTHS = 2  # second answer after 不满意 (1–2 months, local)
SUGGESTIONS_MOTION_MIN_DEPUTIES = 10  # 议案: lead deputy plus co-signers, county level
SUGGESTIONS_REMINDER_DAYS = 7  # reminder this many days before a due date
SUGGESTIONS_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
SUGGESTIONS_LIAISON_HORIZON_DAYS = 30  # a liaison's home panel lists answers due this soon
CELERY_BEAT_SCHEDULE["suggestions-reminders"] = {
    "task": "suggestions.tasks.send_reminders",
    "schedule": crontab(hour=7, minute=30),
}

# --- briefings/ (工作资料): its own settings and schedule go here
# Local rules (domain.md §5): briefings are due 15 working days after the period ends.
BRIEFINGS_DUE_WORKDAYS = int(os.environ.get("BRIEFINGS_DUE_WORKDAYS", "15"))
BRIEFINGS_REMIND_WORKDAYS_BEFORE = int(os.environ.get("BRIEFINGS_REMIND_WORKDAYS_BEFORE", "3"))
BRIEFINGS_OVERDUE_REPEAT_DAYS = int(os.environ.get("BRIEFINGS_OVERDUE_REPEAT_DAYS", "7"))
BRIEFINGS_MASTHEAD = os.environ.get("BRIEFINGS_MASTHEAD", "预算联网监督简报")
BRIEFINGS_EDITOR = os.environ.get("BRIEFINGS_EDITOR", "县人大常委会预算工委")
BRIEFINGS_PRINT_COUNT = int(os.environ.get("BRIEFINGS_PRINT_COUNT", "40"))
BRIEFINGS_RENDITION_RETRIES = int(os.environ.get("BRIEFINGS_RENDITION_RETRIES", "2"))
BRIEFINGS_RENDITION_RETRY_SECONDS = float(os.environ.get("BRIEFINGS_RENDITION_RETRY_SECONDS", "10"))
CELERY_BEAT_SCHEDULE["briefings-plan-and-remind"] = {
    "task": "briefings.tasks.plan_and_remind",
    "schedule": crontab(hour=7, minute=30),
}
# letters (supervision/letters/): 通报 and 函 that follow alerts; the department answers within
# LETTERS_ANSWER_WORKDAYS (default 10) working days of receipt (签收), 15
# (LETTERS_EXTENDED_ANSWER_WORKDAYS) only when the approver grants an extension for a 重大 issue
LETTERS_DOC_NUMBER_PREFIXES = {
    "bulletin": "元人预通",
    "letter": "元人预函",
}  # 发文字号 prefix per series
LETTERS_ISSUER = os.environ.get("LETTERS_ISSUER", f"{COUNTY_NAME}人大常委会预算工作委员会")
LETTERS_GOVERNMENT = os.environ.get("LETTERS_GOVERNMENT", f"{COUNTY_NAME}人民政府")
LETTERS_ANSWER_MAX_BYTES = 20 * 1024 * 1024
LETTERS_RENDITION_TIMEOUT = int(os.environ.get("LETTERS_RENDITION_TIMEOUT", "120"))
CELERY_BEAT_SCHEDULE["letters-overdue-answers"] = {
    "task": "supervision.letters.tasks.remind_overdue_answers",
    "schedule": crontab(hour=7, minute=40),
}
CELERY_BEAT_SCHEDULE["supervision-audit-overdue"] = {
    "task": "supervision.tasks.remind_overdue_findings",
    "schedule": crontab(hour=7, minute=50),
}
QUERY_REQUEST_DUE_WORKDAYS = 10  # 查询申请 answered within this many working days of receipt
CELERY_BEAT_SCHEDULE["supervision-query-overdue"] = {
    "task": "supervision.tasks.remind_overdue_queries",
    "schedule": crontab(hour=7, minute=55),
}

# --- archive/ (立卷归档): its own settings and schedule go here
# items, filing, catalogue, fixity (archive/ except backups)
ARCHIVE_FONDS_CODE = os.environ.get("ARCHIVE_FONDS_CODE", "J001")  # 全宗号, 4 characters
ARCHIVE_CATEGORY_CODE = "WS"  # 门类代码: 文书
# 责任者 of the records this office makes itself (alerts, exports, usage log)
ARCHIVE_OFFICE_NAME = os.environ.get("ARCHIVE_OFFICE_NAME", f"{COUNTY_NAME}人大常委会预算工委")
# 机构 or 问题: which kind of class code the 档号 carries (never both).
ARCHIVE_CLASS_SCHEME = os.environ.get("ARCHIVE_CLASS_SCHEME", "organisation")
ARCHIVE_SOFFICE = os.environ.get("ARCHIVE_SOFFICE", "soffice")
ARCHIVE_SOFFICE_TIMEOUT = int(os.environ.get("ARCHIVE_SOFFICE_TIMEOUT", "180"))
ARCHIVE_ACCESS_PURPOSE_MIN_LENGTH = 2  # 利用登记: a reason of at least this many characters
CELERY_BEAT_SCHEDULE["archive-weekly-fixity"] = {
    "task": "archive.tasks.verify_fixity",
    "schedule": crontab(day_of_week="sun", hour=3, minute=0),
}
# monthly backup (archive/backup.py, archive/backup_tasks.py)
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", DATA_DIR / "backups"))
# good backups kept; older ones are deleted only after a new one verified
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "12"))
# the backup key (archive/backup_seal.py): outside DATA_DIR, created 0600 on first use
BACKUP_KEY_FILE = os.environ.get(
    "BACKUP_KEY_FILE", str(Path.home() / ".config" / "rd-budget" / "backup.key")
)
# every backup decrypted and re-hashed each night; the page shows the latest outcome
CELERY_BEAT_SCHEDULE["archive-verify-backups"] = {
    "task": "archive.backup_tasks.verify_backups",
    "schedule": crontab(hour=3, minute=40),
}
CELERY_BEAT_SCHEDULE["archive-monthly-backup"] = {
    "task": "archive.backup_tasks.monthly_backup",
    "schedule": crontab(day_of_month=1, hour=1, minute=30),
}

# load_demo creates accounts whose passwords are published: never in production
DEMO_DATA_ALLOWED = True

# --- e-mail: written to files under DATA_DIR unless configured
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@rd.local")

# --- caches: files under DATA_DIR on one machine; CACHE_URL=redis://… when several machines
# must share login-throttle counters and cached pages
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL 只支持 redis:// 地址，收到的是：{CACHE_URL}")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- search (the Chinese backends live in search/):
# SEARCH_BACKEND=whoosh  — Whoosh index in DATA_DIR/index, one machine (the default)
# SEARCH_BACKEND=postgres — PostgreSQL full text on jieba-segmented text, shared by every machine
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh").strip().lower() or "whoosh"
_SEARCH_BACKEND_SETTINGS = {
    "whoosh": {"BACKEND": "search.backend", "PATH": DATA_DIR / "index"},
    "postgres": {"BACKEND": "search.pg_backend"},
}
if SEARCH_BACKEND not in _SEARCH_BACKEND_SETTINGS:
    raise ImproperlyConfigured(
        f"SEARCH_BACKEND 只能是 whoosh 或 postgres，收到的是：{SEARCH_BACKEND}"
    )
if SEARCH_BACKEND == "postgres" and DATABASES["default"]["ENGINE"] != (
    "django.db.backends.postgresql"
):
    raise ImproperlyConfigured(
        "SEARCH_BACKEND=postgres 需要 PostgreSQL 数据库：请同时设置 DATABASE_URL=postgres://…"
    )
WAGTAILSEARCH_BACKENDS = {"default": _SEARCH_BACKEND_SETTINGS[SEARCH_BACKEND]}
# a process reuses a type's ranked hits this long while no commit changed that type
# (search/result_cache.py; 0 turns reuse off)
SEARCH_RESULT_CACHE_SECONDS = int(os.environ.get("SEARCH_RESULT_CACHE_SECONDS", "120"))

# jieba keeps its dictionary cache here, not in /tmp
JIEBA_CACHE_DIR = DATA_DIR / "jieba"

# --- second factor: which roles must use it (production: every staff-side role)
OTP_REQUIRED_ROLES = [r for r in os.environ.get("OTP_REQUIRED_ROLES", "").split(",") if r]
OTP_TOTP_ISSUER = SITE_NAME
OTP_WEBAUTHN_RP_ID = os.environ.get("OTP_WEBAUTHN_RP_ID", "localhost")
OTP_WEBAUTHN_RP_NAME = SITE_NAME
# Keys are a second factor after the password, never a way around it (or the throttle).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# The budget office creates and resets accounts; no e-mailed reset links.
WAGTAIL_PASSWORD_RESET_ENABLED = False
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
# the longest wait; the first is LOGIN_DELAY_SECONDS, doubled for each further failure
LOGIN_FAILURE_WINDOW_MINUTES = int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15"))
LOGIN_DELAY_SECONDS = int(os.environ.get("LOGIN_DELAY_SECONDS", "60"))
LOGIN_FAILURE_MEMORY_HOURS = int(os.environ.get("LOGIN_FAILURE_MEMORY_HOURS", "24"))
# Only the guarded login (cms.credentials) may check a password: see credentials/backends.py.
AUTHENTICATION_BACKENDS = ["cms.credentials.backends.GuardedModelBackend"]
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma separated);
# behind the nginx of docs/deployment.md: TRUSTED_PROXIES=127.0.0.1
TRUSTED_PROXIES = [p for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    o
    for o in os.environ.get("OTP_WEBAUTHN_ALLOWED_ORIGINS", "http://localhost:8000").split(",")
    if o
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
