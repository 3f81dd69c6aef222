"""The reader's time zone, and the one way every page shows a moment (the `when` filter).

Times are stored as naive UTC (app.core.clock). A page converts them to the reader's zone: the zone saved
in their settings, else the one their browser reports (app.js copies Intl's zone into the `tm_tz` cookie),
else DEFAULT_TIMEZONE, else Asia/Shanghai for a Chinese page and UTC otherwise. Flask-Babel asks
`select_timezone` once per request, so format_datetime and friends already convert.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytz
from flask import current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_timedelta, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.core.clock import now

BROWSER_COOKIE = "tm_tz"
RELATIVE_FOR = timedelta(days=7)  # newer moments read "3 hours ago"; older ones show the date
CHINESE_DEFAULT = "Asia/Shanghai"


def is_time_zone(name: str | None) -> bool:
    """True for an IANA zone name the formatter knows ("Asia/Shanghai", "Europe/Paris", "UTC")."""
    return bool(name) and len(name) <= 64 and name in pytz.all_timezones_set


def time_zone_choices() -> list[tuple[str, str]]:
    """(value, label) for a settings menu: the common zones, each once, by name."""
    return [(name, name.replace("_", " ")) for name in pytz.common_timezones]


def select_timezone() -> str:
    """Flask-Babel's timezone selector: settings, then the browser, then the site default."""
    if has_request_context():
        if current_user and current_user.is_authenticated and is_time_zone(getattr(current_user, "timezone", None)):
            return current_user.timezone
        browser = request.cookies.get(BROWSER_COOKIE)
        if is_time_zone(browser):
            return browser
    return default_timezone()


def browser_timezone() -> str:
    """The zone the reader's browser reported, else the site default (what "follow my browser" means)."""
    browser = request.cookies.get(BROWSER_COOKIE) if has_request_context() else None
    return browser if is_time_zone(browser) else default_timezone()


def default_timezone(locale: str | None = None) -> str:
    """DEFAULT_TIMEZONE when set, else Asia/Shanghai for Chinese readers and UTC for the rest."""
    configured = current_app.config.get("DEFAULT_TIMEZONE")
    if is_time_zone(configured):
        return configured
    locale = locale or (str(get_locale()) if has_request_context() else "en")
    return CHINESE_DEFAULT if locale.startswith("zh") else "UTC"


def _aware_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def zone_label(value: datetime) -> str:
    """The reader's zone as a short offset name: "UTC+08:00", "UTC"."""
    local = _aware_utc(value).astimezone(get_timezone())
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def relative_time(value: datetime, moment: datetime | None = None) -> str:
    """ "just now", "3 hours ago" / "3 小时前", "in 2 days" for a moment near `moment` (default now)."""
    delta = _aware_utc(value) - _aware_utc(moment or now())
    if abs(delta) < timedelta(minutes=1):
        return _("just now")
    return format_timedelta(delta, add_direction=True, threshold=1.0)


def when(value: datetime | None, style: str = "auto") -> Markup:
    """A moment as a <time> element in the reader's zone, the exact time and zone in its tooltip.

    styles: "auto" (relative within a week, else date and time), "datetime", "date", and "deadline"
    (date and time followed by the zone, for anything the reader must act before).
    """
    if value is None:
        return Markup("")
    utc = _aware_utc(value)
    local = utc.astimezone(get_timezone())
    exact = f"{format_datetime(value, 'medium')} ({zone_label(value)})"
    if style == "date":
        text = format_date(value, "medium")
    elif style == "deadline":
        text = f"{format_datetime(value, 'short')} ({zone_label(value)})"
    elif style == "auto" and abs(utc - _aware_utc(now())) < RELATIVE_FOR:
        text = relative_time(value)
    else:
        text = format_datetime(value, "short")
    return Markup('<time datetime="%s" title="%s">%s</time>') % (local.isoformat(), exact, text)
