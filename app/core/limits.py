"""Rate-limit keys shared by every limited route: who is asking, as the limiter counts them."""
from __future__ import annotations

from flask_limiter.util import get_remote_address
from flask_login import current_user


def account_key() -> str:
    """The signed-in account (cookie or bearer token: the API authenticates before limits are checked),
    else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return address_key()


def address_key() -> str:
    """The client address, whoever is signed in."""
    return f"ip:{get_remote_address()}"
