"""Tastemaker: a content-driven community storefront."""
from __future__ import annotations

import logging

from flask import Flask
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from app.config import PROJECT_ROOT, Config, check_settings, config_from_environment
from app.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: Config | None = None) -> Flask:
    """Build the application: extensions, blueprints, CLI and error handlers."""
    config = config or config_from_environment()
    app = Flask(
        __name__,
        instance_path=str(config.INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(config)
    app.config["ENV_NAME"] = config.ENV_NAME
    check_settings(app.config)
    logging.basicConfig(level=logging.INFO if not app.testing else logging.WARNING)

    _init_extensions(app)
    _register_converters(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)

    from app.core.errors import register_error_handlers
    from app.core.security import add_security_headers

    register_error_handlers(app)
    add_security_headers(app)
    if config.ENV_NAME == "production":
        _refuse_demo_accounts(app)
        if not (app.config.get("PUBLIC_BASE_URL") or app.config.get("SERVER_NAME")):
            logging.getLogger(__name__).warning(
                "PUBLIC_BASE_URL is not set: API links will point at http://localhost:5000. Set it to the "
                "site's public address, e.g. https://tastemaker.example.")
    _start_scheduler_on_first_request(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT proxies, take the client's address and scheme from their X-Forwarded-* headers
    (only the entries those proxies appended, so a client cannot choose its own address)."""
    count = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def settle_for_serving() -> None:
    """Call once a serving process has built its app: load what searches need, then freeze the heap.

    Everything loaded at start-up (libraries, jieba's dictionary) lives as long as the process; frozen, the
    collector's full passes stop scanning it. Those passes were the For-you page's slowest percentile
    (150-200 ms pauses against a 21 ms median at 1M posts).
    """
    import gc

    from app.search.text import warm_up

    warm_up()
    gc.collect()
    gc.freeze()


def _start_scheduler_on_first_request(app: Flask) -> None:
    """With JOBS_SCHEDULER=inline, a serving process runs due schedules itself (CLI commands never do)."""
    if app.config.get("JOBS_SCHEDULER") != "inline":
        return
    started = []

    @app.before_request
    def start_scheduler():
        if not started:
            started.append(True)
            from app.jobs.runner import start_inline_scheduler

            start_inline_scheduler(app)


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (imports the whole schema)
    from app.accounts.sessions import session_for_secret as user_session_for
    from app.core.i18n import select_locale
    from app.core.timezones import select_timezone

    db.init_app(app)
    with app.app_context():
        from app.core.db import tune_sqlite

        for engine in db.engines.values():
            tune_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_SECONDS"])
    from app.search.models import include_in_migrations  # the optional RUM index is not in the models

    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), include_object=include_in_migrations)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # One Limiter per process, but a process may build several apps (tests, the CLI): flask-limiter keeps its
    # Redis-down fallback, dead-storage mark and key prefix across init_app calls, so start each app clean.
    limiter._in_memory_fallback_enabled = False
    limiter._storage_dead = False
    limiter._key_prefix = ""  # likewise the first app's RATELIMIT_KEY_PREFIX would stick
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    @login_manager.user_loader
    def load_user(secret: str):
        """The session cookie and the remember cookie carry a per-log-in secret, not the user id."""
        from app.accounts.cookies import forget_dead_login

        record = user_session_for(secret)
        if record is None:
            forget_dead_login(secret)
            return None
        return record.user


def _register_converters(app: Flask) -> None:
    """`<id:...>` in every route with a row id: 1..2^31-1 in ASCII digits, otherwise a 404."""
    from app.core.parsing import IdConverter

    app.url_map.converters["id"] = IdConverter


def _register_blueprints(app: Flask) -> None:
    from app.accounts.views import bp as accounts_bp
    from app.api import register_api
    from app.communities.views import bp as communities_bp
    from app.core.views import bp as core_bp
    from app.feeds.views import bp as feeds_bp
    from app.groupbuy import init_app as init_groupbuy
    from app.groupbuy.views import bp as groupbuy_bp
    from app.moderation.setup import init_app as init_moderation
    from app.moderation.views import bp as moderation_bp
    from app.ops.views import bp as ops_bp
    from app.posts.views import bp as posts_bp
    from app.search.views import bp as search_bp
    from app.shop.views import bp as shop_bp
    from app.shop.views import sandbox_bp
    from app.social.views import bp as social_bp

    for blueprint in (core_bp, ops_bp, accounts_bp, social_bp, communities_bp, posts_bp, feeds_bp, search_bp,
                      shop_bp, groupbuy_bp, moderation_bp):
        app.register_blueprint(blueprint)
    init_groupbuy(app)
    init_moderation(app)
    if app.config.get("PAYMENT_PROVIDER", "sandbox") == "sandbox":
        app.register_blueprint(sandbox_bp)  # its Pay button moves no money: it exists only where it is the provider
    register_api(app)
    from app.affiliate import init_app as init_affiliate

    init_affiliate(app)  # connects the shop's order hooks and its pages (after the shop's blueprint)


def _register_cli(app: Flask) -> None:
    from app.accounts.cli import users_cli
    from app.demo.cli import seed_demo
    from app.feeds.cli import recommender_cli
    from app.jobs.cli import jobs_cli
    from app.ops.cli import doctor
    from app.search.cli import search_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(recommender_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(doctor)


def _money(cents: int, currency: str = "CNY") -> str:
    """Integer minor units shown in the reader's locale, e.g. ¥128.00 / CN¥128.00."""
    from flask_babel import get_locale

    from app.core.money import Money, format_money

    return format_money(Money(int(cents), currency), locale=str(get_locale() or "en"))


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
    from flask_wtf.csrf import generate_csrf

    from app.accounts.forms import ConfirmForm
    from app.core.i18n import compact_count
    from app.core.timezones import when

    # Globals (not context) so macros imported without context can format dates too.
    app.jinja_env.globals.update(format_date=format_date, format_datetime=format_datetime,
                                 format_decimal=format_decimal, format_percent=format_percent, money=_money,
                                 compact_count=compact_count)
    app.jinja_env.filters["when"] = when  # every moment a page shows, in the reader's zone

    @app.context_processor
    def layout_context():
        return {
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "csrf_token_value": generate_csrf,
            "logout_form": ConfirmForm(formdata=None) if current_user.is_authenticated else None,
        }


def _refuse_demo_accounts(app: Flask) -> None:
    """Production must not run with the well-known demo passwords in its database."""
    from app.accounts.services import demo_accounts_present

    with app.app_context():
        try:
            if not inspect(db.engine).has_table("users"):
                return
            present = demo_accounts_present()
        except SQLAlchemyError:
            return  # no database yet (e.g. before `flask db upgrade`); nothing to refuse
        if present:
            raise RuntimeError(
                "Refusing to start in production: demo accounts exist (" + ", ".join(present)
                + "). Delete them or use a database without demo data."
            )
