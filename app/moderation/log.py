"""Reading the moderation log: public per community (moderators' names shown only to moderators and
admins; everyone else reads "a moderator"), filterable by kind, cursor-paginated; the admins' site-wide log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.core.errors import Invalid
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.extensions import db
from app.moderation import policy
from app.moderation.actions import ACTIONS, action_label
from app.moderation.models import ModAction
from app.moderation.targets import load_targets


@dataclass
class LogEntry:
    id: int
    kind: str
    label: str
    moderator: str  # the moderator's username, or "a moderator" for the public
    moderator_user: User | None
    target_kind: str
    target_id: int
    target: object
    target_user: User | None
    reason: str
    expires_at: datetime | None
    created_at: datetime
    reverses_id: int | None
    queue_item_id: int | None
    community: Community | None


def modlog(community: Community | None, viewer: User | None, *, kind: str | None = None, cursor: str | None = None,
           limit: int | None = None) -> Page:
    """One community's log (anyone may read it), or the site-wide log (None; admins only)."""
    if community is None:
        policy.ensure_admin(viewer)
    if kind and kind not in ACTIONS:
        message = _("Not a known moderation action.")
        raise Invalid(message, {"kind": [message]})
    query = select(ModAction).options(selectinload(ModAction.actor), selectinload(ModAction.target_user),
                                      selectinload(ModAction.community))
    if community is not None:
        query = query.where(ModAction.community_id == community.id)
    if kind:
        query = query.where(ModAction.kind == kind)
    page = paginate_desc(query, ModAction.created_at, ModAction.id, cursor, clamp_limit(limit, 30))
    names_visible = policy.moderates(viewer, community.id if community else None)
    targets = load_targets({(row.target_kind, row.target_id) for row in page.items
                            if row.target_kind in ("post", "comment", "user", "product", "shop")})
    entries = [LogEntry(
        id=row.id, kind=row.kind, label=action_label(row.kind),
        moderator=row.actor.username if names_visible else _("a moderator"),
        moderator_user=row.actor if names_visible else None, target_kind=row.target_kind, target_id=row.target_id,
        target=targets.get((row.target_kind, row.target_id)), target_user=row.target_user, reason=row.reason,
        expires_at=row.expires_at, created_at=row.created_at, reverses_id=row.reverses_id,
        queue_item_id=row.queue_item_id, community=row.community) for row in page.items]
    return Page(items=entries, next_cursor=page.next_cursor)


def actions_against(user: User, community: Community | None, viewer: User) -> list[ModAction]:
    """What moderators did about a user here (for the moderator's page on a user)."""
    policy.ensure_moderates(viewer, community.id if community else None)
    query = select(ModAction).where(ModAction.target_user_id == user.id).options(selectinload(ModAction.actor))
    if community is not None:
        query = query.where(ModAction.community_id == community.id)
    return list(db.session.scalars(query.order_by(ModAction.id.desc()).limit(100)))


def add_mod_note(actor: User, community: Community | None, subject: User, body: str | None):
    """A private note on a user, seen by this community's moderators (or the admins for site-wide notes)."""
    from app.core.clock import now
    from app.core.uow import unit_of_work
    from app.moderation.models import ModNote

    policy.ensure_moderates(actor, community.id if community else None)
    text = (body or "").strip()
    if not 1 <= len(text) <= policy.NOTE_MAX:
        message = _("Write a note of 1–%(n)d characters.", n=policy.NOTE_MAX)
        raise Invalid(message, {"body": [message]})
    with unit_of_work():
        note = ModNote(community_id=community.id if community else None, subject_id=subject.id, author_id=actor.id,
                       body=text, created_at=now())
        db.session.add(note)
        db.session.flush()
    return note


def mod_notes(actor: User, community: Community | None, subject: User):
    from app.moderation.models import ModNote

    policy.ensure_moderates(actor, community.id if community else None)
    query = select(ModNote).where(ModNote.subject_id == subject.id).options(selectinload(ModNote.author))
    query = query.where(ModNote.community_id == community.id) if community else \
        query.where(ModNote.community_id.is_(None))
    return list(db.session.scalars(query.order_by(ModNote.id.desc()).limit(100)))
