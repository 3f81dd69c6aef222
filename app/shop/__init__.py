"""Storefront: shops, catalog, carts, checkout, payments, refunds, coupons and product tags on notes.

Importing the package registers the order notification kinds (notices) and plugs the product tags into
the posts editor (tags).
"""
from app.shop import notices, tags  # noqa: F401
