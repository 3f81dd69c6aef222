"""Invite codes: every account has one (`User.invite_code`); registering with it records the inviter
(accounts) and, here, follows them. One level only: an invite earns nothing, and nothing in the commission
ledger refers to who invited whom."""
from __future__ import annotations

from app.accounts.models import User
from app.extensions import db
from app.social.services import follow


def follow_inviter(user: User) -> None:
    """Registration listener: the new account follows whoever invited it."""
    if user.invited_by_id and user.invited_by_id != user.id:
        inviter = db.session.get(User, user.invited_by_id)
        if inviter is not None and inviter.deleted_at is None:
            follow(user, inviter)
