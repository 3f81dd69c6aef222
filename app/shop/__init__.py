"""Storefront: shops, catalog, carts, checkout, payments, refunds and coupons (services; views come later)."""
from app.shop import notices  # noqa: F401  (registers the order notification kinds)
