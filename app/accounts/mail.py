"""The email outbox: services add messages here in their own transaction; a mail sender (not part of
the embedded set-up yet) delivers rows whose `sent_at` is empty and stamps them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import OutboundEmail, User
from app.core.clock import now
from app.extensions import db


def queue_email(user: User, kind: str, subject: str, body: str, *,
                min_interval: timedelta | None = None) -> OutboundEmail | None:
    """Add an email to the user's address to the current transaction (the caller's unit of work).

    With min_interval, nothing is added when a message of the same kind went to the user more recently."""
    if min_interval is not None:
        recent = db.session.scalar(
            select(OutboundEmail.id).where(OutboundEmail.user_id == user.id, OutboundEmail.kind == kind,
                                           OutboundEmail.created_at > now() - min_interval).limit(1))
        if recent:
            return None
    message = OutboundEmail(user_id=user.id, to_address=user.email, kind=kind, subject=subject[:200], body=body)
    db.session.add(message)
    return message
