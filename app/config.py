"""One configuration, read from the environment once, with presets per TASTEMAKER_ENV."""
from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production", "test")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str) -> bool:
    return (_env(name, "") or "").strip().lower() in ("1", "true", "yes", "on")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres:// or postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_or_create_secret_key(instance_dir: Path) -> str:
    """Return the key stored in instance/secret_key, creating it (mode 600) on first run."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Config:
    """Settings for every environment; subclasses change only what differs."""

    ENV_NAME = "development"
    TESTING = False

    def __init__(self) -> None:
        self.INSTANCE_DIR = Path(_env("TASTEMAKER_INSTANCE", str(PROJECT_ROOT / "instance")))
        self.SECRET_KEY = _env("SECRET_KEY") or self._generated_secret_key()
        self.SECRET_KEY_SOURCE = "environment" if _env("SECRET_KEY") else "instance"  # for `flask doctor`
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("DATABASE_URL", f"sqlite:///{self.INSTANCE_DIR / 'tastemaker.db'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # An unreachable server fails a request in seconds (a 503 page), instead of hanging a worker.
            self.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] = {"connect_timeout": 5}
        # Scheme and host of absolute links in API answers (never taken from a request's Host header);
        # unset: SERVER_NAME with PREFERRED_URL_SCHEME if set, else http://localhost:5000.
        self.PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
        # SQLite only: how long a write waits for another writer's lock before "database is locked".
        self.SQLITE_BUSY_TIMEOUT_SECONDS = float(_env("SQLITE_BUSY_TIMEOUT_SECONDS", "15"))
        self.REDIS_URL = _env("REDIS_URL")
        # Rendered feed cards (app/core/fragments.py): kept in Redis when REDIS_URL is set, else in each process
        # (at most FRAGMENT_CACHE_SIZE of them); a card shows an author's or community's new name after at most
        # FRAGMENT_CACHE_SECONDS (counts and edits change its key at once). 0 turns the cache off.
        self.FRAGMENT_CACHE_SECONDS = int(_env("FRAGMENT_CACHE_SECONDS", "300"))
        self.FRAGMENT_CACHE_SIZE = int(_env("FRAGMENT_CACHE_SIZE", "20000"))
        # A reader's For-you first page is kept this long (app/feeds/pages.py): others' new notes and likes show
        # within it, the reader's own actions at once. 0 turns it off.
        self.FORYOU_PAGE_SECONDS = int(_env("FORYOU_PAGE_SECONDS", "30"))
        # How many proxies (nginx, a cloud load balancer) stand in front of the app and append to
        # X-Forwarded-For. 0: the peer's address is the client's. Behind one nginx it must be 1, or every
        # per-address rate limit counts all clients as one (the proxy).
        self.TRUSTED_PROXY_COUNT = int(_env("TRUSTED_PROXY_COUNT", "0"))
        self.SEARCH_BACKEND = _env("SEARCH_BACKEND", "whoosh")
        self.SEARCH_INDEX_DIR = self.INSTANCE_DIR / "search"  # the Whoosh index
        self.SEARCH_RATE_LIMIT = "60/minute"  # per visitor, for /search, /search/suggest and /api/v1/search
        self.MEDIA_ROOT = Path(_env("MEDIA_ROOT", str(self.INSTANCE_DIR / "media")))
        self.MAX_CONTENT_LENGTH = int(_env("MAX_UPLOAD_MB", "25")) * 1024 * 1024
        self.AVATAR_MAX_BYTES = 5 * 1024 * 1024
        # Image uploads (see app/core/images.py): pixels decoded per request and per image, counted from the
        # headers before decoding (a baseline JPEG at the reduced scale it is decoded at); how many requests
        # per process decode at once and how long another waits for a turn before a 503; uploads per account.
        self.UPLOAD_PIXEL_BUDGET_MP = float(_env("UPLOAD_PIXEL_BUDGET_MP", "60"))
        self.UPLOAD_IMAGE_MAX_MP = float(_env("UPLOAD_IMAGE_MAX_MP", "16"))
        self.IMAGE_WORKERS = int(_env("IMAGE_WORKERS", "2"))
        self.IMAGE_WORK_TIMEOUT = float(_env("IMAGE_WORK_TIMEOUT", "10"))
        self.UPLOAD_RATE_LIMIT = _env("UPLOAD_RATE_LIMIT", "30/hour")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # While Redis is unreachable, limits are counted in each process's memory (looser across hosts, but
        # pages keep serving); flask-limiter goes back to Redis when it answers again.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = bool(self.REDIS_URL)
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # Every log-in is a server-side record (app/accounts/sessions.py). "Remember me" lasts this long from
        # log-in; a log-in without it ends when the browser closes or after SESSION_IDLE_HOURS unused.
        self.REMEMBER_COOKIE_DURATION = timedelta(days=int(_env("REMEMBER_COOKIE_DAYS", "30")))
        self.SESSION_IDLE_HOURS = int(_env("SESSION_IDLE_HOURS", "12"))
        # Failed log-ins per account (any address), on top of AUTH_LIMIT per address.
        self.LOGIN_ACCOUNT_RATE_LIMIT = _env("LOGIN_ACCOUNT_RATE_LIMIT", "10 per hour")
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_TRANSLATION_DIRECTORIES = "translations"
        self.LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}
        # The zone of a reader who chose none and whose browser did not say (unset: Asia/Shanghai for
        # Chinese pages, UTC otherwise). An IANA name such as "Europe/Berlin".
        self.DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE")
        # flask-smorest: the OpenAPI document and its docs page
        self.API_TITLE = "Tastemaker API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        # Jobs: "inline" runs due schedules from a thread in each web process (claims keep each period
        # to one run); "off" when `flask jobs scheduler` or cron runs them instead.
        self.JOBS_SCHEDULER = _env("JOBS_SCHEDULER", "inline")
        # Storefront
        self.ORDER_RESERVATION_MINUTES = int(_env("ORDER_RESERVATION_MINUTES", "15"))
        self.ORDER_RETURN_WINDOW_DAYS = int(_env("ORDER_RETURN_WINDOW_DAYS", "7"))
        self.ORDER_AUTO_COMPLETE_DAYS = int(_env("ORDER_AUTO_COMPLETE_DAYS", "10"))
        self.AFTERSALE_AUTO_APPROVE_HOURS = int(_env("AFTERSALE_AUTO_APPROVE_HOURS", "48"))
        self.ORDER_MAX_QUANTITY = int(_env("ORDER_MAX_QUANTITY", "99"))
        self.PAYMENT_PROVIDER = _env("PAYMENT_PROVIDER", "sandbox")
        # The sandbox marks orders paid with no money: production refuses it unless this says "staging".
        self.ALLOW_SANDBOX_PAYMENTS = _flag("ALLOW_SANDBOX_PAYMENTS")
        # How long a provider keeps a payment open. It is the reservation: one figure, so a buyer can never
        # pay for stock that is no longer held, nor hold stock for longer than they could pay for it.
        self.PAYMENT_WINDOW_MINUTES = int(_env("PAYMENT_WINDOW_MINUTES", str(self.ORDER_RESERVATION_MINUTES)))
        # Holds: what one buyer may keep reserved without paying (app/shop/checkout.py), and how often they
        # may check out — per account, and per client address whoever is signed in.
        self.MAX_UNPAID_ORDERS = int(_env("MAX_UNPAID_ORDERS", "5"))
        self.MAX_HELD_UNITS_PER_SKU = int(_env("MAX_HELD_UNITS_PER_SKU", "10"))
        self.CHECKOUT_RATE_LIMIT = _env("CHECKOUT_RATE_LIMIT", "10/minute;60/hour")
        self.CHECKOUT_IP_RATE_LIMIT = _env("CHECKOUT_IP_RATE_LIMIT", "30/minute;300/hour")
        # Sharing commissions (app/affiliate): how long a share-link click stays attributed to its visitor, the
        # highest product commission a shop may set (percent), the least balance a payout run pays (cents),
        # and how many share links one account may create and clicks one visitor may make.
        self.AFFILIATE_WINDOW_DAYS = int(_env("AFFILIATE_WINDOW_DAYS", "7"))
        self.AFFILIATE_MAX_RATE = float(_env("AFFILIATE_MAX_RATE", "20"))
        self.AFFILIATE_PAYOUT_MINIMUM_CENTS = int(_env("AFFILIATE_PAYOUT_MINIMUM_CENTS", "1000"))
        self.AFFILIATE_RELEASE_BATCH = int(_env("AFFILIATE_RELEASE_BATCH", "2000"))  # orders per release transaction
        self.SHARE_LINK_RATE_LIMIT = _env("SHARE_LINK_RATE_LIMIT", "30/hour")
        self.SHARE_CLICK_RATE_LIMIT = _env("SHARE_CLICK_RATE_LIMIT", "60/minute")
        # Spam defences (app/posts/pace.py): hourly note/comment limits and link limits by account age.
        self.WRITE_PACE_LIMITS = (_env("WRITE_PACE_LIMITS", "on") or "").strip().lower() not in ("0", "off", "no")
        # werkzeug's method for new password hashes. Not read from the environment: only TestConfig changes it.
        self.PASSWORD_HASH_METHOD = "scrypt"


    def _generated_secret_key(self) -> str:
        return load_or_create_secret_key(self.INSTANCE_DIR)


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        self.PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True

    def _generated_secret_key(self) -> str:
        return secrets.token_urlsafe(32)  # tests never write into instance/

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = "sqlite://"
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.PUBLIC_BASE_URL = "http://localhost"  # the test client's host
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.JOBS_SCHEDULER = "off"  # tests run schedules explicitly
        self.FORYOU_PAGE_SECONDS = 0  # tests see others' changes at once; tests of the kept page turn it on
        # Tests check out many times a minute; tests of the checkout limits set their own.
        self.CHECKOUT_RATE_LIMIT = self.CHECKOUT_IP_RATE_LIMIT = "1000/minute"
        self.WRITE_PACE_LIMITS = False  # tests write many notes a minute; tests of the limits turn them on
        # Never the real instance/search; tests/conftest.py make_config points it into the test's tmp_path.
        self.SEARCH_INDEX_DIR = Path(tempfile.gettempdir()) / f"tastemaker-test-search-{secrets.token_hex(6)}"
        # One PBKDF2 round instead of scrypt: a test registers users by the hundred, and no hash it makes is
        # ever a real password's. check_settings refuses this outside the test environment.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"


PRESETS = {"development": DevelopmentConfig, "production": ProductionConfig, "test": TestConfig}


def config_from_environment() -> Config:
    """Build the Config for TASTEMAKER_ENV (default development); refuses an unsafe one (check_settings)."""
    name = _env("TASTEMAKER_ENV", "development")
    if name not in PRESETS:
        raise RuntimeError(f"TASTEMAKER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    config = PRESETS[name]()
    check_settings({key: getattr(config, key) for key in dir(config) if key.isupper()})
    return config


def check_settings(settings: Mapping) -> None:
    """Refuse to start on settings that would lose money or let buyers hoard stock (create_app calls this
    on the final configuration, so a Config changed after construction is checked too)."""
    if settings.get("ENV_NAME") == "production" and settings.get("PAYMENT_PROVIDER", "sandbox") == "sandbox" \
            and not settings.get("ALLOW_SANDBOX_PAYMENTS"):
        raise RuntimeError(
            "Refusing to start in production with PAYMENT_PROVIDER=sandbox: its Pay button marks orders paid "
            "with no money. Configure a real provider, or set ALLOW_SANDBOX_PAYMENTS=1 on a staging server.")
    reservation = settings.get("ORDER_RESERVATION_MINUTES", 15)
    window = settings.get("PAYMENT_WINDOW_MINUTES", reservation)
    if not isinstance(reservation, int) or reservation < 1:
        raise RuntimeError("ORDER_RESERVATION_MINUTES must be a whole number of minutes, at least 1.")
    if window != reservation:
        raise RuntimeError(
            f"PAYMENT_WINDOW_MINUTES ({window}) and ORDER_RESERVATION_MINUTES ({reservation}) must be the same "
            "figure: stock is held exactly as long as the buyer may pay for it.")
    if settings.get("ENV_NAME") != "test" and settings.get("PASSWORD_HASH_METHOD", "scrypt") != "scrypt":
        raise RuntimeError("PASSWORD_HASH_METHOD may differ from scrypt only in the test environment.")
    for name in ("MAX_UNPAID_ORDERS", "MAX_HELD_UNITS_PER_SKU"):
        value = settings.get(name, 1)
        if not isinstance(value, int) or value < 1:
            raise RuntimeError(f"{name} must be a whole number, at least 1.")
