"""What the site's navigation needs from the shop: the cart's unit count for its badge."""
from __future__ import annotations

from flask import session
from flask_login import current_user

from app.core import badges
from app.shop import cart as carts
from app.shop.views_checkout import GUEST_CART
from app.shop.views_common import bp

badges.register("cart_units", lambda: carts.cart_units_of(badges.READER))


@bp.app_context_processor
def cart_badge():
    """`cart_count()` for the top bar and the phone tab bar: a signed-in reader's with the layout's other badges
    (app.core.badges), a visitor's from the session, only when a full page asks."""
    def cart_count() -> int:
        if current_user.is_authenticated:
            return int(badges.badge("cart_units", current_user.id) or 0)
        return carts.guest_cart_units(session.get(GUEST_CART, []))

    return {"cart_count": cart_count}
