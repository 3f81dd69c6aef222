"""/api/v1 routes for the storefront: products, cart, checkout, orders, payments, coupons, merchants."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("shop_api", __name__, description="Storefront: shops, products, cart, checkout, orders, "
                                                  "payments, coupons and merchant operations")
