"""Glue between domain errors and WTForms: a service's Invalid shows up on the form's fields."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.core.errors import Invalid


def show_errors_on_form(form: FlaskForm, exc: Invalid) -> None:
    """Attach each field error to its field; the rest become form-level errors."""
    placed = False
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
            placed = True
    if not placed:
        form.form_errors.append(exc.message)


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after log-in (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def log_in_first(back: str):
    """A signed-out visitor pressed a button: log in, then come back to `back` (the page, not the POST URL).

    htmx requests get an HX-Redirect so the whole page moves, not just the button.
    """
    target = url_for("accounts.login", next=back)
    if request.headers.get("HX-Request"):
        return "", 200, {"HX-Redirect": target}
    flash(_("Please log in to see this page."), "info")
    return redirect(target)
