"""HTML pages of the storefront: shops, products, cart, checkout, the sandbox pay page and orders.

The `shop` blueprint (and the sandbox provider's) and what the pages share live in views_common.py; the pages
live by sub-area in views_catalog.py, views_merchant.py, views_checkout.py and views_orders.py, imported here
so their routes register on the blueprint before create_app registers it.

Views parse the form, call one service and render or redirect; a service's Invalid comes back on the
form (status 422), other domain errors become the site's error page. Every button is a plain form post.
"""
from __future__ import annotations

import app.shop.views_nav  # noqa: F401  (the cart badge in the site's nav)
import app.shop.views_stats  # noqa: F401  (a note's statistics for its author)
from app.shop import (  # noqa: F401  (register routes)
    views_aftersales,
    views_catalog,
    views_checkout,
    views_merchant,
    views_orders,
    views_products,
    views_wallet,
)
from app.shop.views_common import bp, sandbox_bp

__all__ = ["bp", "sandbox_bp"]
