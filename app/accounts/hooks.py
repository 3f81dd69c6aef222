"""Account hooks: domains above accounts react to a registration without accounts importing them.

A listener is connected once at app start and is called inside the registration's unit of work (after the
new user's row is flushed), so what it writes commits or rolls back with the account. Listeners must not
commit. Used by app/affiliate to make an invited user follow their inviter.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from app.accounts.models import User

# fn(user): after a new account is created (user.invited_by_id says who invited them, if anyone).
UserRegistered = Callable[["User"], None]

_user_registered: list[UserRegistered] = []


def on_user_registered(listener: UserRegistered) -> UserRegistered:
    if listener not in _user_registered:
        _user_registered.append(listener)
    return listener


def user_registered(user: User) -> None:
    for listener in list(_user_registered):
        listener(user)
