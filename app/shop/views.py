"""HTML pages of the storefront: shops, products, cart, checkout, the sandbox pay page and orders."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop", __name__)
