"""What the storefront's pages share: the `shop` blueprint (and the sandbox provider's) and small helpers."""
from __future__ import annotations

from flask import Blueprint, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import Conflict, Invalid, NotFound
from app.core.parsing import parse_whole_number
from app.shop import catalog, orders, tags

bp = Blueprint("shop", __name__)
# The sandbox provider's pages, registered by create_app only while PAYMENT_PROVIDER is "sandbox".
sandbox_bp = Blueprint("sandbox", __name__)
bp.add_app_template_global(orders.status_badge, "order_status_badge")
bp.add_app_template_global(tags.reviewer_bought, "review_bought")  # the "Bought it" badge on a review


def int_arg(value) -> int | None:
    """A whole number from a query or form field (up to 9 digits), else None."""
    return parse_whole_number(value, max_digits=9) if isinstance(value, str) else None


def managed_shop(slug: str):
    """The shop at `slug` when the current user may manage it; NotFound otherwise (no hint it exists)."""
    shop = catalog.get_shop(slug, current_user)
    if not catalog.can_manage(current_user, shop):
        raise NotFound(_("No such shop."))
    return shop



def flash_outcome(action, done: str, back: str):
    """Run a one-button action: flash `done`, or the refusal's message, and go back to `back`."""
    try:
        action()
    except (Conflict, Invalid) as exc:
        flash(exc.summary, "error")
    else:
        flash(done, "success")
    return redirect(back)
