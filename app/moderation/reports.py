"""Reports and the queue: a reader reports a target with a reason; every report of one target merges into
one open queue item (a count and the reasons), which a moderator of that community (or an admin, for
users, products and shops) takes one action on. The system files items too (near-duplicates, undisclosed
advertising, notes waiting for approval): `flag`.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Invalid, NotFound, RateLimited
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.moderation import policy
from app.moderation.models import (
    ITEM_OPEN,
    KIND_COMMENT,
    KIND_POST,
    REASONS,
    TARGET_KINDS,
    QueueItem,
    Report,
    ReportMute,
)
from app.moderation.targets import Target, load_target, load_targets, snapshot
from app.posts.models import STATUS_PUBLISHED
from app.posts.pace import is_new_account

REPORT_NOTE_MAX = 1000
REPORTS_PER_HOUR = {True: 5, False: 30}  # keyed by "is a new account"
AGES = {"day": timedelta(days=1), "week": timedelta(days=7), "older": None}


def _open_item(target: Target) -> QueueItem:
    """The open queue item of this target, created if there is none (race-safe: one open item per target)."""
    insert_if_absent(QueueItem, target_kind=target.kind, target_id=target.id, community_id=target.community_id,
                     target_user_id=target.owner_id, status=ITEM_OPEN, report_count=0, reasons="", version=1,
                     created_at=now(), updated_at=now())
    return db.session.scalar(select(QueueItem).where(QueueItem.target_kind == target.kind,
                                                     QueueItem.target_id == target.id,
                                                     QueueItem.status == ITEM_OPEN)
                             .execution_options(populate_existing=True))


def _add_reason(item: QueueItem, reason: str) -> None:
    reasons = item.reason_list
    if reason not in reasons:
        item.reasons = " ".join([*reasons, reason])


def is_muted(user_id: int, community_id: int | None) -> bool:
    return db.session.scalar(select(ReportMute.id).where(ReportMute.user_id == user_id,
                                                         ReportMute.community_key == (community_id or 0))) is not None


def _ensure_report_pace(reporter: User) -> None:
    from flask import current_app

    if not current_app.config.get("WRITE_PACE_LIMITS", True):
        return
    new = is_new_account(reporter)
    recent = db.session.scalar(select(func.count()).select_from(Report).where(
        Report.reporter_id == reporter.id, Report.created_at >= now() - timedelta(hours=1))) or 0
    if recent >= REPORTS_PER_HOUR[new]:
        raise RateLimited(_("You have sent many reports in the last hour. Try again a little later."))


def report(reporter: User, target_kind: str, target_id: int, reason: str, note: str | None = "") -> Report:
    """Report a target. Reporting your own content, or the same thing twice, is refused with a clear message;
    a muted reporter's report is kept but does not reach the queue."""
    policy.ensure_signed_in(reporter)
    if reason not in REASONS:
        message = _("Choose a reason.")
        raise Invalid(message, {"reason": [message]})
    note = (note or "").strip()
    if len(note) > REPORT_NOTE_MAX:
        message = _("Keep the note to %(n)d characters.", n=REPORT_NOTE_MAX)
        raise Invalid(message, {"note": [message]})
    target = load_target(target_kind, target_id)
    if target.kind in (KIND_POST, KIND_COMMENT) and target.obj.status != STATUS_PUBLISHED:
        raise Conflict(_("This has already been taken down."), code="already-removed")
    if target.owner_id == reporter.id:
        raise Invalid(_("You cannot report your own content."), code="own-content")
    if db.session.scalar(select(Report.id).where(Report.reporter_id == reporter.id, Report.target_kind == target.kind,
                                                 Report.target_id == target.id)) is not None:
        raise Conflict(_("You have already reported this. Thank you — the moderators will look at it."),
                       code="already-reported")
    _ensure_report_pace(reporter)
    try:
        with unit_of_work():
            muted = is_muted(reporter.id, target.community_id)
            item = _open_item(target)
            made = Report(item_id=item.id, reporter_id=reporter.id, target_kind=target.kind, target_id=target.id,
                          reason=reason, note=note, snapshot=snapshot(target), muted=muted, created_at=now())
            db.session.add(made)
            db.session.flush()
            if not muted:
                db.session.execute(update(QueueItem).where(QueueItem.id == item.id).values(
                    report_count=QueueItem.report_count + 1, updated_at=now())
                    .execution_options(synchronize_session=False))
                db.session.refresh(item)
                _add_reason(item, reason)
    except IntegrityError:  # the same reporter, twice at once: the unique constraint caught the second
        raise Conflict(_("You have already reported this. Thank you — the moderators will look at it."),
                       code="already-reported") from None
    return made


@transactional
def flag(target: Target, reason: str, why: str) -> QueueItem:
    """The system puts a target in the queue (joined into the caller's transaction)."""
    item = _open_item(target)
    _add_reason(item, reason)
    item.auto_flag = why[:300]
    item.updated_at = now()
    return item


# --- reading the queue ------------------------------------------------------------------------------------

def get_item(actor: User, item_id: int) -> QueueItem:
    item = db.session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(_("No such queue item."))
    policy.ensure_moderates(actor, item.community_id)
    return item


def queue(actor: User, *, community_id: int | None = None, reason: str | None = None, kind: str | None = None,
          age: str | None = None, status: str = ITEM_OPEN, cursor: str | None = None,
          limit: int | None = None) -> Page:
    """Open items the actor may act on, newest activity first: one community's (its moderators), or every
    community plus the site-wide items (admins). Filters: reason, kind, age (day, week, older)."""
    policy.ensure_signed_in(actor)
    scope = policy.moderated_community_ids(actor)
    if scope is not None and not scope:
        policy.ensure_moderates(actor, community_id)  # raises: moderates nothing
    query = select(QueueItem).where(QueueItem.status == status).options(
        selectinload(QueueItem.reports).selectinload(Report.reporter), selectinload(QueueItem.community),
        selectinload(QueueItem.target_user))
    if community_id is not None:
        policy.ensure_moderates(actor, community_id)
        query = query.where(QueueItem.community_id == community_id)
    elif scope is not None:
        query = query.where(QueueItem.community_id.in_(scope))
    if reason:
        if reason not in REASONS:
            raise Invalid(_("Choose a reason."), {"reason": [_("Choose a reason.")]})
        query = query.where(QueueItem.reasons.contains(reason))
    if kind:
        if kind not in TARGET_KINDS:
            raise Invalid(_("Choose a note, comment, user, product or shop."), {"kind": [_("Not a known kind.")]})
        query = query.where(QueueItem.target_kind == kind)
    if age:
        if age not in AGES:
            raise Invalid(_("Choose day, week or older."), {"age": [_("Choose day, week or older.")]})
        if age == "older":
            query = query.where(QueueItem.created_at < now() - AGES["week"])
        else:
            query = query.where(QueueItem.created_at >= now() - AGES[age])
    page = paginate_desc(query, QueueItem.created_at, QueueItem.id, cursor, clamp_limit(limit, 20))
    attach_targets(page.items)
    return page


def attach_targets(items: list[QueueItem]) -> None:
    """Give each item its current target (`item.target`, None if gone), batched per kind."""
    loaded = load_targets({(item.target_kind, item.target_id) for item in items})
    for item in items:
        item.target = loaded.get((item.target_kind, item.target_id))


def open_count(actor: User) -> int:
    """How many open items wait for this moderator (for the nav badge)."""
    scope = policy.moderated_community_ids(actor)
    query = select(func.count()).select_from(QueueItem).where(QueueItem.status == ITEM_OPEN)
    if scope is not None:
        if not scope:
            return 0
        query = query.where(QueueItem.community_id.in_(scope))
    return db.session.scalar(query) or 0
