"""Moderation actions: one table says what each action applies to, who may take it and whether it can be
appealed; one function (`take_action`) checks, applies, logs and notifies, in one transaction.

Every action writes exactly one row of the moderation log (`ModAction`, append-only) with its reason, its
expiry if any, the queue item that caused it, and the action it reverses. Acting from the queue claims the
item with a conditional update on its version, so of two moderators acting at once one wins and the other
is told (409 `already-handled`). The enforcement state lives on the lower domains' rows (post and comment
status, community bans, account suspension, product and shop delisting), which their services obey.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.communities import services as communities
from app.communities.models import ROLE_MODERATOR, ROLE_OWNER, Community
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.uow import transactional
from app.extensions import db
from app.moderation import policy
from app.moderation.models import (
    APPEAL_DENIED,
    APPEAL_GRANTED,
    APPEAL_PENDING,
    ITEM_DISMISSED,
    ITEM_OPEN,
    ITEM_RESOLVED,
    KIND_COMMENT,
    KIND_POST,
    KIND_PRODUCT,
    KIND_SHOP,
    KIND_USER,
    Appeal,
    ModAction,
    QueueItem,
    Report,
    ReportMute,
)
from app.moderation.targets import Target, load_target
from app.posts.models import STATUS_PENDING, STATUS_PUBLISHED, STATUS_REMOVED, Comment, Post
from app.posts.services import add_to_post_counter, refresh_hot_score
from app.search.queue import queue_post, queue_post_counts, queue_product, queue_user
from app.shop.models import Product
from app.social.notifications import notify

COMMUNITY, OWNER, ADMIN = "community", "owner", "admin"  # who may take an action
APPEAL_WINDOW = timedelta(days=14)
MAX_PINNED = 3


@dataclass(frozen=True)
class ActionSpec:
    target_kind: str
    scope: str  # COMMUNITY: its moderators; OWNER: its owners; ADMIN: site admins
    label: object
    appealable: bool = False
    reverses: str | None = None  # the action this one undoes
    takes_expiry: bool = False


ACTIONS: dict[str, ActionSpec] = {
    "remove_post": ActionSpec(KIND_POST, COMMUNITY, _l("Removed a note"), appealable=True),
    "restore_post": ActionSpec(KIND_POST, COMMUNITY, _l("Restored a note"), reverses="remove_post"),
    "approve_post": ActionSpec(KIND_POST, COMMUNITY, _l("Approved a note")),
    "lock_comments": ActionSpec(KIND_POST, COMMUNITY, _l("Locked comments")),
    "unlock_comments": ActionSpec(KIND_POST, COMMUNITY, _l("Unlocked comments"), reverses="lock_comments"),
    "pin_post": ActionSpec(KIND_POST, COMMUNITY, _l("Pinned a note")),
    "unpin_post": ActionSpec(KIND_POST, COMMUNITY, _l("Unpinned a note"), reverses="pin_post"),
    "feature_post": ActionSpec(KIND_POST, COMMUNITY, _l("Added to Editor's picks")),
    "unfeature_post": ActionSpec(KIND_POST, COMMUNITY, _l("Removed from Editor's picks"), reverses="feature_post"),
    "remove_comment": ActionSpec(KIND_COMMENT, COMMUNITY, _l("Removed a comment"), appealable=True),
    "restore_comment": ActionSpec(KIND_COMMENT, COMMUNITY, _l("Restored a comment"), reverses="remove_comment"),
    "ban_user": ActionSpec(KIND_USER, COMMUNITY, _l("Banned a member"), appealable=True, takes_expiry=True),
    "unban_user": ActionSpec(KIND_USER, COMMUNITY, _l("Lifted a ban"), reverses="ban_user"),
    "warn_user": ActionSpec(KIND_USER, COMMUNITY, _l("Warned a member")),
    "mute_reports": ActionSpec(KIND_USER, COMMUNITY, _l("Muted a member's reports")),
    "unmute_reports": ActionSpec(KIND_USER, COMMUNITY, _l("Unmuted a member's reports"), reverses="mute_reports"),
    "suspend_user": ActionSpec(KIND_USER, ADMIN, _l("Suspended an account"), appealable=True, takes_expiry=True),
    "unsuspend_user": ActionSpec(KIND_USER, ADMIN, _l("Lifted a suspension"), reverses="suspend_user"),
    "delist_product": ActionSpec(KIND_PRODUCT, ADMIN, _l("Delisted a product")),
    "relist_product": ActionSpec(KIND_PRODUCT, ADMIN, _l("Relisted a product"), reverses="delist_product"),
    "delist_shop": ActionSpec(KIND_SHOP, ADMIN, _l("Delisted a shop")),
    "relist_shop": ActionSpec(KIND_SHOP, ADMIN, _l("Relisted a shop"), reverses="delist_shop"),
    # Logged by the other services here, never taken through take_action:
    "dismiss_item": ActionSpec("queue", COMMUNITY, _l("Dismissed reports")),
    "deny_appeal": ActionSpec("appeal", COMMUNITY, _l("Denied an appeal")),
    "appoint_moderator": ActionSpec(KIND_USER, OWNER, _l("Appointed a moderator")),
    "appoint_owner": ActionSpec(KIND_USER, OWNER, _l("Appointed an owner")),
    "remove_moderator": ActionSpec(KIND_USER, OWNER, _l("Removed a moderator")),
    "step_down": ActionSpec(KIND_USER, COMMUNITY, _l("Stepped down")),
}
TAKEABLE = tuple(name for name, spec in ACTIONS.items() if spec.target_kind not in ("queue", "appeal")
                 and name not in ("appoint_moderator", "appoint_owner", "remove_moderator", "step_down"))
# What a queue item's one-click buttons offer, per target kind.
QUEUE_ACTIONS = {
    KIND_POST: ("remove_post", "approve_post", "lock_comments"),
    KIND_COMMENT: ("remove_comment",),
    KIND_USER: ("warn_user", "ban_user", "suspend_user"),
    KIND_PRODUCT: ("delist_product",),
    KIND_SHOP: ("delist_shop", "suspend_user"),
}


def action_label(kind: str) -> str:
    spec = ACTIONS.get(kind)
    return str(spec.label) if spec else kind


# --- the one entry point -----------------------------------------------------------------------------------

@dataclass
class _Context:
    actor: User
    target: Target
    community: Community | None
    reason: str
    expires_at: datetime | None
    item: QueueItem | None


def _community(target: Target, community_id: int | None) -> Community | None:
    """Content answers to its own community; a user action (ban, warn, mute) names the community."""
    if target.kind in (KIND_POST, KIND_COMMENT):
        if community_id is not None and community_id != target.community_id:
            raise Forbidden(_("This belongs to another community."), code="other-community")
        return db.session.get(Community, target.community_id)
    if community_id is None:
        return None
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound(_("No such community."))
    return community


def _authorize(actor: User, spec: ActionSpec, community: Community | None, action: str) -> None:
    if spec.scope == ADMIN:
        policy.ensure_admin(actor)
    elif community is None:
        if spec.target_kind == KIND_USER:
            message = _("Choose the community this applies to.")
            raise Invalid(message, {"community": [message]})
        policy.ensure_admin(actor)
    elif spec.scope == OWNER:
        policy.ensure_owns(actor, community.id)
    else:
        policy.ensure_moderates(actor, community.id)


def _claim(item_id: int | None, seen_version: int | None, target: Target, status: str,
           actor: User, resolution: str) -> QueueItem | None:
    """Close the queue item the action came from, if its version is still the one the moderator saw."""
    if item_id is None:
        return None
    item = db.session.get(QueueItem, item_id)
    if item is None or (item.target_kind, item.target_id) != (target.kind, target.id):
        message = _("This queue item is about something else.")
        raise Invalid(message, {"queue_item_id": [message]})
    statement = update(QueueItem).where(QueueItem.id == item_id, QueueItem.status == ITEM_OPEN)
    if seen_version is not None:
        statement = statement.where(QueueItem.version == seen_version)
    result = db.session.execute(statement.values(
        status=status, version=QueueItem.version + 1, resolved_at=now(), resolved_by_id=actor.id,
        resolution=resolution, updated_at=now()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("Another moderator has already handled this item. Reload the queue to see what was done."),
                       code="already-handled")
    db.session.refresh(item)
    return item


def _close_other_items(target: Target, actor: User, resolution: str) -> list[QueueItem]:
    """An action taken outside the queue also settles the target's open item, if it has one."""
    items = list(db.session.scalars(select(QueueItem).where(
        QueueItem.target_kind == target.kind, QueueItem.target_id == target.id, QueueItem.status == ITEM_OPEN)))
    for item in items:
        db.session.execute(update(QueueItem).where(QueueItem.id == item.id, QueueItem.status == ITEM_OPEN).values(
            status=ITEM_RESOLVED, version=QueueItem.version + 1, resolved_at=now(), resolved_by_id=actor.id,
            resolution=resolution, updated_at=now()).execution_options(synchronize_session=False))
    return items


def _tell_reporters(items: list[QueueItem], action: ModAction) -> None:
    ids = [item.id for item in items]
    if not ids:
        return
    reporters = list(db.session.scalars(select(Report.reporter_id).where(Report.item_id.in_(ids),
                                                                         Report.acted_at.is_(None))))
    db.session.execute(update(Report).where(Report.item_id.in_(ids), Report.acted_at.is_(None))
                       .values(acted_at=now()).execution_options(synchronize_session=False))
    for reporter_id in set(reporters):
        notify(reporter_id, "mod_report_acted", target_type="mod_action", target_id=action.id)


def log_action(actor: User, kind: str, *, target_kind: str, target_id: int, community_id: int | None,
               reason: str, target_user_id: int | None = None, expires_at: datetime | None = None,
               queue_item_id: int | None = None, reverses_id: int | None = None) -> ModAction:
    """Append one row to the moderation log (the only way rows get there; never updated afterwards)."""
    row = ModAction(community_id=community_id, actor_id=actor.id, kind=kind, target_kind=target_kind,
                    target_id=target_id, target_user_id=target_user_id, reason=reason, expires_at=expires_at,
                    queue_item_id=queue_item_id, reverses_id=reverses_id, created_at=now())
    db.session.add(row)
    db.session.flush()
    return row


def _last_action(kind: str, target: Target, community_id: int | None) -> ModAction | None:
    query = select(ModAction).where(ModAction.kind == kind, ModAction.target_kind == target.kind,
                                    ModAction.target_id == target.id)
    if target.kind == KIND_USER:
        query = query.where(ModAction.community_id.is_(None) if community_id is None
                            else ModAction.community_id == community_id)
    return db.session.scalar(query.order_by(ModAction.id.desc()).limit(1))


def check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= now():
        message = _("Choose an end in the future, or none for good.")
        raise Invalid(message, {"expires_at": [message]}, code="expiry-in-past")
    return expires_at


@transactional
def take_action(actor: User, action: str, *, target_kind: str, target_id: int, reason: str | None,
                community_id: int | None = None, expires_at: datetime | None = None,
                queue_item_id: int | None = None, seen_version: int | None = None,
                reverses_id: int | None = None) -> ModAction:
    """Check, apply, log and notify one moderation action. Raises a DomainError and changes nothing when
    the actor may not, the reason is missing, the target is in the wrong state, or the item was taken."""
    policy.ensure_signed_in(actor)
    spec = ACTIONS.get(action)
    if spec is None or action not in TAKEABLE:
        message = _("Not a known moderation action.")
        raise Invalid(message, {"action": [message]})
    if target_kind != spec.target_kind:
        message = _("This action does not apply to that kind of target.")
        raise Invalid(message, {"target_kind": [message]})
    target = load_target(target_kind, target_id)
    community = _community(target, community_id)
    _authorize(actor, spec, community, action)
    reason_text = policy.clean_reason(reason)
    if spec.takes_expiry:
        check_expiry(expires_at)
    elif expires_at is not None:
        message = _("Only bans and suspensions take an end date.")
        raise Invalid(message, {"expires_at": [message]})
    item = _claim(queue_item_id, seen_version, target, ITEM_RESOLVED, actor, action)
    ctx = _Context(actor, target, community, reason_text, expires_at, item)
    APPLY[action](ctx)
    if reverses_id is None and spec.reverses:
        previous = _last_action(spec.reverses, target, community.id if community else None)
        reverses_id = previous.id if previous else None
    row = log_action(actor, action, target_kind=target.kind, target_id=target.id,
                     community_id=community.id if community else None, reason=reason_text,
                     target_user_id=target.owner_id, expires_at=expires_at,
                     queue_item_id=item.id if item else None, reverses_id=reverses_id)
    settled = ([item] if item else []) + (_close_other_items(target, actor, action)
                                          if action in ("remove_post", "remove_comment", "ban_user", "suspend_user",
                                                        "delist_product", "delist_shop", "approve_post")
                                          else [])
    _tell_reporters(settled, row)
    NOTICES.get(action, lambda ctx, row: None)(ctx, row)
    return row


@transactional
def dismiss_item(actor: User, item_id: int, reason: str | None, seen_version: int | None = None) -> ModAction:
    """No action needed: close the item (one log row); its reporters are not told anything was removed."""
    item = db.session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(_("No such queue item."))
    policy.ensure_moderates(actor, item.community_id)
    reason_text = policy.clean_reason(reason)
    target = Target(item.target_kind, item.target_id, None, item.community_id, item.target_user_id)
    _claim(item.id, seen_version, target, ITEM_DISMISSED, actor, "dismiss_item")
    if item.target_kind == KIND_POST:  # dismissing a note that waited for approval publishes it
        post = db.session.get(Post, item.target_id)
        if post is not None and post.status == STATUS_PENDING:
            _publish_pending(post)
    return log_action(actor, "dismiss_item", target_kind=item.target_kind, target_id=item.target_id,
                      community_id=item.community_id, reason=reason_text, target_user_id=item.target_user_id,
                      queue_item_id=item.id)


# --- what each action does ----------------------------------------------------------------------------------

def _set_post_status(post: Post, from_statuses: tuple[str, ...], to_status: str, **values) -> bool:
    result = db.session.execute(update(Post).where(Post.id == post.id, Post.status.in_(from_statuses))
                                .values(status=to_status, **values).execution_options(synchronize_session=False))
    db.session.refresh(post)
    return result.rowcount == 1


def _community_post_count(community_id: int, delta: int) -> None:
    db.session.execute(update(Community).where(Community.id == community_id)
                       .values(post_count=Community.post_count + delta).execution_options(synchronize_session=False))


def _remove_post(ctx: _Context) -> None:
    post = ctx.target.obj
    was_published = post.status == STATUS_PUBLISHED
    if not _set_post_status(post, (STATUS_PUBLISHED, STATUS_PENDING), STATUS_REMOVED, removed_reason=ctx.reason,
                            removed_at=now(), pinned_at=None, featured_at=None):
        raise Conflict(_("This note is already removed."), code="already-removed")
    if was_published:
        _community_post_count(post.community_id, -1)
    queue_post(post.id)


def _restore_post(ctx: _Context) -> None:
    post = ctx.target.obj
    if not _set_post_status(post, (STATUS_REMOVED,), STATUS_PUBLISHED, removed_reason=None, removed_at=None):
        raise Conflict(_("This note is not removed."), code="not-removed")
    _community_post_count(post.community_id, +1)
    queue_post(post.id)


def _publish_pending(post: Post) -> None:
    if not _set_post_status(post, (STATUS_PENDING,), STATUS_PUBLISHED):
        raise Conflict(_("This note is not waiting for approval."), code="not-pending")
    _community_post_count(post.community_id, +1)
    queue_post(post.id)


def _approve_post(ctx: _Context) -> None:
    _publish_pending(ctx.target.obj)


def _post_flag(column: str, value, conflict: str, code: str, published_only: bool = True):
    def apply(ctx: _Context) -> None:
        post = ctx.target.obj
        if published_only and post.status != STATUS_PUBLISHED:
            raise Conflict(_("This note is not published."), code="not-published")
        current = getattr(post, column)
        if (current is not None and current is not False) == bool(value):
            raise Conflict(conflict, code=code)
        if column == "pinned_at" and value:
            pinned = db.session.scalar(select(func.count()).select_from(Post).where(
                Post.community_id == post.community_id, Post.pinned_at.is_not(None),
                Post.status == STATUS_PUBLISHED)) or 0
            if pinned >= MAX_PINNED:
                raise Conflict(_("At most %(n)d notes can be pinned. Unpin one first.", n=MAX_PINNED),
                               code="pin-limit")
        setattr(post, column, now() if value is True and column != "comments_locked" else value)
        db.session.flush()
    return apply


def _remove_comment(ctx: _Context) -> None:
    comment: Comment = ctx.target.obj
    result = db.session.execute(update(Comment).where(Comment.id == comment.id, Comment.status == STATUS_PUBLISHED)
                                .values(status=STATUS_REMOVED, removed_reason=ctx.reason)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("This comment is already removed."), code="already-removed")
    add_to_post_counter(comment.post_id, "comment_count", -1)
    refresh_hot_score(comment.post_id)
    queue_post_counts(comment.post_id)
    db.session.refresh(comment)


def _restore_comment(ctx: _Context) -> None:
    comment: Comment = ctx.target.obj
    result = db.session.execute(update(Comment).where(Comment.id == comment.id, Comment.status == STATUS_REMOVED)
                                .values(status=STATUS_PUBLISHED, removed_reason=None)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("This comment is not removed."), code="not-removed")
    add_to_post_counter(comment.post_id, "comment_count", +1)
    refresh_hot_score(comment.post_id)
    queue_post_counts(comment.post_id)
    db.session.refresh(comment)


def _ban(ctx: _Context) -> None:
    user: User = ctx.target.obj
    community = ctx.community
    if user.id == ctx.actor.id:
        raise Invalid(_("You cannot ban yourself."), code="ban-self")
    role = policy.role_in(user, community.id)
    if role == ROLE_OWNER or user.is_admin:
        raise Forbidden(_("An owner or a site admin cannot be banned."), code="ban-owner")
    if role == ROLE_MODERATOR and not policy.owns(ctx.actor, community.id):
        raise Forbidden(_("Only an owner can ban a moderator."), code="ban-moderator")
    if communities.active_ban(user.id, community.id) is not None:
        raise Conflict(_("This member is already banned."), code="already-banned")
    if role == ROLE_MODERATOR:
        communities.set_role(community, user, "member")
    communities.record_ban(community, user, ctx.reason, ctx.actor, ctx.expires_at)


def _unban(ctx: _Context) -> None:
    if not communities.lift_bans(ctx.community, ctx.target.obj):
        raise Conflict(_("This member is not banned."), code="not-banned")


def _warn(ctx: _Context) -> None:
    if ctx.target.obj.id == ctx.actor.id:
        raise Invalid(_("You cannot warn yourself."), code="warn-self")


def _mute(ctx: _Context) -> None:
    if not insert_if_absent(ReportMute, user_id=ctx.target.obj.id, community_key=ctx.community.id if ctx.community
                            else 0, created_at=now()):
        raise Conflict(_("This member's reports are already muted."), code="already-muted")


def _unmute(ctx: _Context) -> None:
    from sqlalchemy import delete

    key = ctx.community.id if ctx.community else 0
    result = db.session.execute(delete(ReportMute).where(ReportMute.user_id == ctx.target.obj.id,
                                                         ReportMute.community_key == key))
    if result.rowcount != 1:
        raise Conflict(_("This member's reports are not muted."), code="not-muted")


def _suspend(ctx: _Context) -> None:
    user: User = ctx.target.obj
    if user.id == ctx.actor.id:
        raise Invalid(_("You cannot suspend yourself."), code="suspend-self")
    if user.is_admin:
        raise Forbidden(_("A site admin cannot be suspended."), code="suspend-admin")
    if user.is_suspended:
        raise Conflict(_("This account is already suspended."), code="already-suspended")
    user.suspended_at, user.suspended_until, user.suspension_reason = now(), ctx.expires_at, ctx.reason
    db.session.flush()
    _reindex_user(user)


def _unsuspend(ctx: _Context) -> None:
    user: User = ctx.target.obj
    if user.suspended_at is None:
        raise Conflict(_("This account is not suspended."), code="not-suspended")
    user.suspended_at = user.suspended_until = user.suspension_reason = None
    db.session.flush()
    _reindex_user(user)


def _reindex_user(user: User) -> None:
    """A suspension hides (and its end shows) the account's notes and products in search."""
    queue_user(user.id)
    for post_id in db.session.scalars(select(Post.id).where(Post.author_id == user.id)):
        queue_post(post_id)
    from app.shop.models import Shop

    for product_id in db.session.scalars(select(Product.id).join(Shop, Shop.id == Product.shop_id)
                                         .where(Shop.owner_id == user.id)):
        queue_product(product_id)


def _delist(model_kind: str, value: bool):
    def apply(ctx: _Context) -> None:
        obj = ctx.target.obj
        if (obj.delisted_at is not None) == value:
            raise Conflict(_("This is already delisted.") if value else _("This is not delisted."),
                           code="already-delisted" if value else "not-delisted")
        obj.delisted_at, obj.delist_reason = (now(), ctx.reason) if value else (None, None)
        db.session.flush()
        if model_kind == KIND_PRODUCT:
            queue_product(obj.id)
        else:
            for product_id in db.session.scalars(select(Product.id).where(Product.shop_id == obj.id)):
                queue_product(product_id)
    return apply


APPLY = {
    "remove_post": _remove_post,
    "restore_post": _restore_post,
    "approve_post": _approve_post,
    "lock_comments": _post_flag("comments_locked", True, _l("Comments are already locked."), "already-locked"),
    "unlock_comments": _post_flag("comments_locked", False, _l("Comments are not locked."), "not-locked"),
    "pin_post": _post_flag("pinned_at", True, _l("This note is already pinned."), "already-pinned"),
    "unpin_post": _post_flag("pinned_at", None, _l("This note is not pinned."), "not-pinned"),
    "feature_post": _post_flag("featured_at", True, _l("This note is already an editor's pick."), "already-featured"),
    "unfeature_post": _post_flag("featured_at", None, _l("This note is not an editor's pick."), "not-featured"),
    "remove_comment": _remove_comment,
    "restore_comment": _restore_comment,
    "ban_user": _ban,
    "unban_user": _unban,
    "warn_user": _warn,
    "mute_reports": _mute,
    "unmute_reports": _unmute,
    "suspend_user": _suspend,
    "unsuspend_user": _unsuspend,
    "delist_product": _delist(KIND_PRODUCT, True),
    "relist_product": _delist(KIND_PRODUCT, False),
    "delist_shop": _delist(KIND_SHOP, True),
    "relist_shop": _delist(KIND_SHOP, False),
}


def _notify_owner(kind: str):
    def send(ctx: _Context, row: ModAction) -> None:
        if ctx.target.owner_id is not None:
            notify(ctx.target.owner_id, kind, target_type="mod_action", target_id=row.id)
    return send


NOTICES = {
    "remove_post": _notify_owner("mod_removed_post"),
    "remove_comment": _notify_owner("mod_removed_comment"),
    "restore_post": _notify_owner("mod_restored"),
    "restore_comment": _notify_owner("mod_restored"),
    "approve_post": _notify_owner("mod_approved"),
    "ban_user": _notify_owner("mod_banned"),
    "unban_user": _notify_owner("mod_unbanned"),
    "warn_user": _notify_owner("mod_warned"),
    "feature_post": _notify_owner("mod_featured"),
    "delist_product": _notify_owner("mod_delisted"),
    "delist_shop": _notify_owner("mod_delisted"),
}


# --- appeals --------------------------------------------------------------------------------------------------

def appeal_deadline(action: ModAction) -> datetime:
    return action.created_at + APPEAL_WINDOW


def can_appeal(user: User | None, action: ModAction) -> bool:
    """The person acted against, once, within 14 days, while the action still stands."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and action.target_user_id == user.id
                and ACTIONS.get(action.kind) and ACTIONS[action.kind].appealable
                and now() <= appeal_deadline(action) and not _reversed(action)
                and db.session.scalar(select(Appeal.id).where(Appeal.action_id == action.id)) is None)


def is_reversed(action: ModAction) -> bool:
    return _reversed(action)


def _reversed(action: ModAction) -> bool:
    return db.session.scalar(select(ModAction.id).where(ModAction.reverses_id == action.id)) is not None


def get_action(action_id: int) -> ModAction:
    action = db.session.get(ModAction, action_id)
    if action is None:
        raise NotFound(_("No such moderation action."))
    return action


def action_for(viewer: User | None, action_id: int) -> ModAction:
    """An entry of the log as `viewer` may see it: a community's entries are public (like its log); site-wide
    ones (suspensions, delistings) only to the admins and the person concerned."""
    action = get_action(action_id)
    concerned = viewer is not None and getattr(viewer, "is_authenticated", False) and \
        viewer.id == action.target_user_id
    if action.community_id is None and not concerned and not policy.moderates(viewer, None):
        raise NotFound(_("No such moderation action."))
    return action


def appeal(user: User, action_id: int, reason: str | None) -> Appeal:
    """Appeal a removal, ban or suspension: once, within 14 days, with a written reason."""
    policy.ensure_signed_in(user)
    action = get_action(action_id)
    if action.target_user_id != user.id:
        raise Forbidden(_("Only the person this action was taken against can appeal it."), code="not-yours")
    spec = ACTIONS.get(action.kind)
    if spec is None or not spec.appealable:
        raise Invalid(_("This action cannot be appealed."), code="not-appealable")
    text = policy.clean_reason(reason)
    if db.session.scalar(select(Appeal.id).where(Appeal.action_id == action.id)) is not None:
        raise Conflict(_("You have already appealed this. An appeal can be made once."), code="already-appealed")
    if now() > appeal_deadline(action):
        raise Conflict(_("Appeals must be made within 14 days of the action."), code="appeal-window-closed")
    if _reversed(action):
        raise Conflict(_("This action has already been undone."), code="already-reversed")
    from sqlalchemy.exc import IntegrityError

    from app.core.uow import unit_of_work

    try:
        with unit_of_work():
            made = Appeal(action_id=action.id, appellant_id=user.id, community_id=action.community_id, reason=text,
                          status=APPEAL_PENDING, created_at=now())
            db.session.add(made)
            db.session.flush()
    except IntegrityError:  # a second appeal at the same moment
        raise Conflict(_("You have already appealed this. An appeal can be made once."),
                       code="already-appealed") from None
    return made


REVERSAL = {"remove_post": "restore_post", "remove_comment": "restore_comment", "ban_user": "unban_user",
            "suspend_user": "unsuspend_user"}


@transactional
def decide_appeal(actor: User, appeal_id: int, grant: bool, reason: str | None) -> ModAction:
    """A moderator other than the one who acted grants (the action is undone) or denies an appeal."""
    policy.ensure_signed_in(actor)
    found = db.session.get(Appeal, appeal_id)
    if found is None:
        raise NotFound(_("No such appeal."))
    action = found.action
    if action.kind == "suspend_user":
        policy.ensure_admin(actor)
    else:
        policy.ensure_moderates(actor, action.community_id)
    if actor.id in (action.actor_id, found.appellant_id):
        raise Forbidden(_("Another moderator must decide this appeal, not the one who acted or appealed."),
                        code="own-appeal")
    text = policy.clean_reason(reason)
    result = db.session.execute(update(Appeal).where(Appeal.id == found.id, Appeal.status == APPEAL_PENDING).values(
        status=APPEAL_GRANTED if grant else APPEAL_DENIED, decided_by_id=actor.id, decided_at=now(),
        decision_reason=text).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("This appeal has already been decided."), code="already-decided")
    db.session.refresh(found)
    if grant:
        row = take_action(actor, REVERSAL[action.kind], target_kind=action.target_kind, target_id=action.target_id,
                          reason=text, community_id=action.community_id, reverses_id=action.id)
    else:
        row = log_action(actor, "deny_appeal", target_kind=action.target_kind, target_id=action.target_id,
                         community_id=action.community_id, reason=text, target_user_id=found.appellant_id,
                         reverses_id=None)
    notify(found.appellant_id, "mod_appeal_granted" if grant else "mod_appeal_denied", target_type="mod_action",
           target_id=row.id)
    return row


def pending_appeals(actor: User, limit: int = 50) -> list[Appeal]:
    """Appeals this moderator may decide (not of their own actions), oldest first."""
    policy.ensure_signed_in(actor)
    scope = policy.moderated_community_ids(actor)
    query = select(Appeal).join(ModAction, ModAction.id == Appeal.action_id).where(
        Appeal.status == APPEAL_PENDING, ModAction.actor_id != actor.id)
    if scope is not None:
        if not scope:
            policy.ensure_moderates(actor, None)
        query = query.where(Appeal.community_id.in_(scope))
    return list(db.session.scalars(query.order_by(Appeal.created_at).limit(limit)))


def appeal_of(action: ModAction) -> Appeal | None:
    return db.session.scalar(select(Appeal).where(Appeal.action_id == action.id))


def latest_action_on(kind: str, target_id: int, action_kind: str) -> ModAction | None:
    return db.session.scalar(select(ModAction).where(ModAction.kind == action_kind, ModAction.target_kind == kind,
                                                     ModAction.target_id == target_id)
                             .order_by(ModAction.id.desc()).limit(1))
