"""How often one buyer may check out: the page and the API share one budget per account and one per
client address (CHECKOUT_RATE_LIMIT, CHECKOUT_IP_RATE_LIMIT), so neither route is a way around the other.

The caps on what a buyer may hold unpaid live in the checkout service; these limits only slow down the
place–cancel–place cycle that renews a hold.
"""
from __future__ import annotations

from flask import current_app, request


def checkout_rate_limit() -> str:
    return current_app.config["CHECKOUT_RATE_LIMIT"]


def checkout_ip_rate_limit() -> str:
    return current_app.config["CHECKOUT_IP_RATE_LIMIT"]


def not_placing_orders() -> bool:
    """The checkout page posts to itself to apply a coupon too; only placing the orders counts."""
    return request.form.get("action") != "place"
