"""What the site's navigation needs from the shop: the cart's unit count for its badge."""
from __future__ import annotations

from flask import g, session
from flask_login import current_user

from app.shop import cart as carts
from app.shop.views_checkout import GUEST_CART
from app.shop.views_common import bp


@bp.app_context_processor
def cart_badge():
    """`cart_count()` for the top bar and the phone tab bar: one SUM, only when a full page asks."""
    def cart_count() -> int:
        if "cart_count" not in g:
            g.cart_count = carts.cart_units(current_user.id) if current_user.is_authenticated \
                else carts.guest_cart_units(session.get(GUEST_CART, []))
        return g.cart_count

    return {"cart_count": cart_count}
