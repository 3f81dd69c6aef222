"""Language choice: ?lang= switch, then the user's setting, then Accept-Language, then English."""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

SUPPORTED = ("en", "zh_Hans")


def normalise_language(tag: str | None) -> str | None:
    """Map browser tags (zh-CN, zh-Hans-CN, en-GB…) to a supported locale, or None."""
    if not tag:
        return None
    tag = tag.replace("-", "_").lower()
    if tag.startswith("zh"):
        # Traditional-script tags (zh-TW, zh-Hant) still read Simplified better than English.
        return "zh_Hans"
    if tag.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if not has_request_context():  # CLI, jobs, service calls in tests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = normalise_language(session.get("lang"))
    if chosen:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED:
        return current_user.locale
    for tag, _quality in request.accept_languages:
        chosen = normalise_language(tag)
        if chosen:
            return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def compact_count(number: int) -> str:
    """A count as shoppers read it on a card: "1.2K" / "12.3K" in English, "1.2万" from ten thousand in
    Chinese (CLDR's short compact forms; below the first step the plain number)."""
    from babel.numbers import format_compact_decimal
    from flask_babel import get_locale

    return format_compact_decimal(int(number), locale=str(get_locale() or "en"), fraction_digits=1)
