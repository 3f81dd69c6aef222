"""Notifications are created through `notify`, by any service; pages read them grouped.

Writing: every domain calls `notify(...)` inside its own transaction. Target conventions so rows group
and link well: likes, saves, comments and mentions in a note use target ("post", post.id); replies and
mentions in a comment use ("comment", comment.id); follows use ("user", recipient id).

Settings: every kind belongs to a category the recipient may turn off (social, orders, group-buys,
earnings; see CATEGORIES). A kind names its category when registered (`register_kind(..., category=...)`);
a kind registered without one, or not registered yet, is placed by its name's prefix (CATEGORY_PREFIXES:
order_/aftersale_/refund_ → orders, group_/groupbuy_ → groupbuy, commission_/earning_/payout_ → earnings).
`notify` drops the row when the recipient turned the kind's category off. Kinds in no category
(moderation notices, for instance) are always delivered.

Reading: `grouped_notifications` folds unread and recent rows into groups ("Ann, Bob and 3 others liked
your note"). How a kind reads and what a target links to come from two small registries below, so later
domains (orders, group-buys, commissions, moderation) add kinds and target types without touching views.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape
from sqlalchemy import case, delete, distinct, func, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import now
from app.core.errors import Invalid, NotFound
from app.core.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from app.core.uow import transactional
from app.extensions import db
from app.social.models import Notification, NotificationMute

RECENT_READ_DAYS = 30  # read notifications older than this drop off the page; unread ones never do
ACTORS_SHOWN = 2


# Categories a reader can turn off in Settings → Notifications, in the order the page lists them.
CATEGORIES: dict[str, Any] = {
    "social": _l("Likes, saves, comments, replies, follows and mentions"),
    "orders": _l("Orders: payment, shipping, completion, refunds and after-sales"),
    "groupbuy": _l("Group-buys: a group filled, expired or refunded"),
    "earnings": _l("Earnings: commissions from the sales your notes and links bring"),
}
CATEGORY_TITLES: dict[str, Any] = {
    "social": _l("Social"), "orders": _l("Orders"), "groupbuy": _l("Group-buys"), "earnings": _l("Earnings"),
}
CATEGORY_PREFIXES = (("order_", "orders"), ("aftersale", "orders"), ("refund", "orders"),
                     ("groupbuy", "groupbuy"), ("group_", "groupbuy"),
                     ("commission", "earnings"), ("earning", "earnings"), ("payout", "earnings"))


def category_of(kind: str) -> str | None:
    """The settings category a kind belongs to (None: always delivered)."""
    spec = KINDS.get(kind)
    if spec is not None and spec.category:
        return spec.category
    for prefix, category in CATEGORY_PREFIXES:
        if kind.startswith(prefix):
            return category
    return None


def notify(recipient_id: int, kind: str, *, actor_id: int | None = None, target_type: str | None = None,
           target_id: int | None = None) -> Notification | None:
    """Add a notification to the current transaction (the caller commits). Nobody is notified of
    their own actions, nor of a category they turned off (returns None then). Rows with the same
    (kind, target) group together on the notifications page; kinds registered with
    `group_by_target` group every kind about one target (an order's moves read as one line)."""
    if actor_id is not None and actor_id == recipient_id:
        return None
    category = category_of(kind)
    if category is not None and db.session.scalar(select(NotificationMute.user_id).where(
            NotificationMute.user_id == recipient_id, NotificationMute.category == category)) is not None:
        return None
    spec = KINDS.get(kind)
    if spec is not None and spec.group_by_target and target_type and target_id is not None:
        group_key = f"{target_type}:{target_id}"
    else:
        group_key = f"{kind}:{target_type or '-'}:{target_id or actor_id or '-'}"
    notification = Notification(recipient_id=recipient_id, actor_id=actor_id, kind=kind, target_type=target_type,
                                target_id=target_id, group_key=group_key)
    db.session.add(notification)
    return notification


# --- registries: how a kind reads, how a target type loads and links ---------------------------------

@dataclass(frozen=True)
class NotificationKind:
    """`message` may use %(actors)s (names, already escaped) and %(target)s (the target's label)."""

    message: Any  # a lazy_gettext string
    icon: str = "bell"
    url: Callable[[NotificationGroup], str | None] | None = None  # default: the target's link
    category: str | None = None  # a CATEGORIES key the reader may turn off; None: by prefix, else always sent
    group_by_target: bool = False  # one line per target whatever the kind (an order's moves)


@dataclass(frozen=True)
class TargetType:
    load: Callable[[list[int]], dict[int, Any]]  # one batched query for all ids on a page
    url: Callable[[Any], str]
    label: Callable[[Any], str]
    detail: Callable[[Any], str | None] | None = None  # a second line, e.g. an order's product names
    thumbnail: Callable[[Any], str | None] | None = None  # a media path shown beside the line


KINDS: dict[str, NotificationKind] = {}
TARGET_TYPES: dict[str, TargetType] = {}
FALLBACK_KIND = NotificationKind(_l("%(actors)s: new activity"))
FALLBACK_KIND_NO_ACTOR = NotificationKind(_l("You have a new notification"))


def register_kind(kind: str, message, icon: str = "bell",
                  url: Callable[[NotificationGroup], str | None] | None = None, *, category: str | None = None,
                  group_by_target: bool = False) -> None:
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown notification category {category!r}; one of {sorted(CATEGORIES)}")
    KINDS[kind] = NotificationKind(message, icon, url, category, group_by_target)


def register_target_type(name: str, load: Callable[[list[int]], dict[int, Any]], url: Callable[[Any], str],
                         label: Callable[[Any], str], *, detail: Callable[[Any], str | None] | None = None,
                         thumbnail: Callable[[Any], str | None] | None = None) -> None:
    TARGET_TYPES[name] = TargetType(load, url, label, detail, thumbnail)


def _load_users(ids: list[int]) -> dict[int, Any]:
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


register_target_type("user", _load_users, lambda user: url_for("feeds.profile", username=user.username),
                     lambda user: user.name)


def _follow_url(group: NotificationGroup) -> str | None:
    if len(group.actors) == 1 and group.actor_count == 1:
        return url_for("feeds.profile", username=group.actors[0].username)
    return url_for("social.followers", username=group.target.username) if group.target else None


register_kind("follow", _l("%(actors)s started following you"), "user", _follow_url, category="social")
register_kind("like", _l("%(actors)s liked your note"), "heart", category="social")
register_kind("save", _l("%(actors)s saved your note"), "bookmark", category="social")
register_kind("comment", _l("%(actors)s commented on your note"), "comment", category="social")
register_kind("reply", _l("%(actors)s replied to your comment"), "comment", category="social")
register_kind("mention", _l("%(actors)s mentioned you"), "at", category="social")


# --- reading -------------------------------------------------------------------------------------------

@dataclass
class NotificationGroup:
    """One line on the notifications page: same group_key and read state, newest row first."""

    id: int  # the newest row; marking it read marks the whole group
    kind: str
    target_type: str | None
    target_id: int | None
    unread: bool
    latest_at: datetime
    count: int
    actor_count: int
    actors: list[User] = field(default_factory=list)
    target: Any = None

    @property
    def spec(self) -> NotificationKind:
        if self.kind in KINDS:
            return KINDS[self.kind]
        return FALLBACK_KIND if self.actors else FALLBACK_KIND_NO_ACTOR

    @property
    def actors_text(self) -> Markup:
        """ "Ann", "Ann and Bob", "Ann, Bob and 3 others": names escaped and bold, phrasing translated."""
        names = [Markup("<strong>%s</strong>") % actor.name for actor in self.actors[:ACTORS_SHOWN]]
        others = max(self.actor_count - len(names), 0)
        slots = {"first": "%(first)s", "second": "%(second)s"}  # filled below with the escaped names
        if not names:
            return escape(_("Someone"))
        if len(names) == 1 and not others:
            return names[0]
        if len(names) == 2 and not others:
            template = _("%(first)s and %(second)s", **slots)
        elif len(names) == 1:
            template = ngettext("%(first)s and %(num)d other", "%(first)s and %(num)d others", others,
                                first=slots["first"])
        else:
            template = ngettext("%(first)s, %(second)s and %(num)d other",
                                "%(first)s, %(second)s and %(num)d others", others, **slots)
        filled = dict(zip(("first", "second"), names, strict=False))
        return Markup(template) % filled  # nosec B704 # -- catalog text, not user input; % escapes the names

    @property
    def target_label(self) -> str | None:
        kind = TARGET_TYPES.get(self.target_type or "")
        return kind.label(self.target) if kind and self.target is not None else None

    @property
    def target_detail(self) -> str | None:
        kind = TARGET_TYPES.get(self.target_type or "")
        return kind.detail(self.target) if kind and kind.detail and self.target is not None else None

    @property
    def thumbnail(self) -> str | None:
        kind = TARGET_TYPES.get(self.target_type or "")
        return kind.thumbnail(self.target) if kind and kind.thumbnail and self.target is not None else None

    @property
    def message(self) -> Markup:
        """The translated sentence, names in bold; user-provided text is escaped."""
        filled = {"actors": self.actors_text, "target": self.target_label or ""}
        return Markup(str(self.spec.message)) % filled  # nosec B704 # -- catalog text; % escapes the target

    @property
    def url(self) -> str | None:
        if self.spec.url is not None:
            return self.spec.url(self)
        kind = TARGET_TYPES.get(self.target_type or "")
        return kind.url(self.target) if kind and self.target is not None else None


def _recent(recipient_id: int):
    """Unread rows of any age, read rows of the last RECENT_READ_DAYS."""
    return (Notification.recipient_id == recipient_id) & (
        Notification.read_at.is_(None) | (Notification.created_at >= now() - timedelta(days=RECENT_READ_DAYS)))


def _unread_flag():
    return case((Notification.read_at.is_(None), 1), else_=0)


def grouped_notifications(user: User, cursor: str | None = None, limit: int | None = None) -> Page:
    """The user's notifications as groups, newest first (Page of NotificationGroup, cursor-paginated).

    A fixed number of queries: the groups, their newest rows with actors, then one per target type.
    """
    limit = clamp_limit(limit, 30)
    unread = _unread_flag().label("unread")
    latest_id = func.max(Notification.id).label("latest_id")
    query = (select(Notification.group_key, unread, latest_id, func.max(Notification.created_at).label("latest_at"),
                    func.count().label("count"), func.count(distinct(Notification.actor_id)).label("actor_count"))
             .where(_recent(user.id)).group_by(Notification.group_key, unread))
    if cursor:
        key = decode_cursor(cursor)
        if len(key) != 1 or not isinstance(key[0], int):
            raise Invalid(_("The page cursor is not valid."), {"cursor": [_("Not a valid cursor.")]})
        query = query.having(func.max(Notification.id) < key[0])
    rows = db.session.execute(query.order_by(latest_id.desc()).limit(limit + 1)).all()
    next_cursor = encode_cursor([rows[limit - 1].latest_id]) if len(rows) > limit else None
    rows = rows[:limit]
    if not rows:
        return Page(items=[], next_cursor=None)

    # The newest few rows of each group (for the actor names, kind and target), in one query.
    rank = func.row_number().over(partition_by=(Notification.group_key, _unread_flag()),
                                  order_by=Notification.id.desc()).label("rank")
    ranked = (select(Notification.id, rank)
              .where(_recent(user.id), Notification.group_key.in_({row.group_key for row in rows})).subquery())
    newest = db.session.scalars(select(Notification).join(ranked, ranked.c.id == Notification.id)
                                .where(ranked.c.rank <= ACTORS_SHOWN + 3).order_by(Notification.id.desc())
                                .options(selectinload(Notification.actor)))
    by_group: dict[tuple[str, bool], list[Notification]] = {}
    for item in newest:
        by_group.setdefault((item.group_key, item.read_at is None), []).append(item)

    groups = []
    for row in rows:
        items = by_group.get((row.group_key, bool(row.unread)), [])
        if not items:
            continue
        head = items[0]
        actors: list[User] = []
        for item in items:
            if item.actor is not None and item.actor not in actors and len(actors) < ACTORS_SHOWN:
                actors.append(item.actor)
        groups.append(NotificationGroup(
            id=head.id, kind=head.kind, target_type=head.target_type, target_id=head.target_id,
            unread=bool(row.unread), latest_at=row.latest_at, count=row.count, actor_count=row.actor_count,
            actors=actors))
    _attach_targets(groups)
    return Page(items=groups, next_cursor=next_cursor)


def _attach_targets(groups: list[NotificationGroup]) -> None:
    """Load every group's target with one query per target type (no N+1)."""
    wanted: dict[str, set[int]] = {}
    for group in groups:
        if group.target_type in TARGET_TYPES and group.target_id is not None:
            wanted.setdefault(group.target_type, set()).add(group.target_id)
    loaded = {name: TARGET_TYPES[name].load(sorted(ids)) for name, ids in wanted.items()}
    for group in groups:
        group.target = loaded.get(group.target_type or "", {}).get(group.target_id)


def unread_count_of(recipient):
    """The COUNT of a user's unread notifications (on the (recipient, read_at) index), as a scalar subquery;
    `recipient` is a user id or a bound parameter (app.core.badges)."""
    return select(func.count()).select_from(Notification).where(
        Notification.recipient_id == recipient, Notification.read_at.is_(None)).scalar_subquery()


def unread_count(user_id: int) -> int:
    """Unread notifications of a user: one COUNT on the (recipient, read_at) index."""
    return db.session.scalar(select(unread_count_of(user_id))) or 0


@transactional
def mark_read(user: User, notification_id: int) -> int:
    """Mark a notification, and the unread rows grouped with it, read; someone else's is NotFound."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != user.id:
        raise NotFound(_("No such notification."))
    result = db.session.execute(
        update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None),
                                   Notification.group_key == notification.group_key)
        .values(read_at=now()).execution_options(synchronize_session=False))
    return result.rowcount


@transactional
def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    result = db.session.execute(
        update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now()).execution_options(synchronize_session=False))
    return result.rowcount


# --- settings ------------------------------------------------------------------------------------------

def notification_settings(user: User) -> dict[str, bool]:
    """Each category and whether the user receives it (all on until turned off)."""
    muted = set(db.session.scalars(select(NotificationMute.category).where(NotificationMute.user_id == user.id)))
    return {category: category not in muted for category in CATEGORIES}


@transactional
def set_notification_settings(user: User, enabled: dict[str, bool]) -> dict[str, bool]:
    """Turn categories on or off; categories not named keep their setting. An unknown one changes nothing."""
    unknown = sorted(set(enabled) - set(CATEGORIES))
    if unknown:
        raise Invalid(_("There is no notification setting called %(name)s.", name=unknown[0]),
                      {unknown[0]: [_("Not a notification setting.")]})
    current = notification_settings(user)
    for category, on in enabled.items():
        if on and not current[category]:
            db.session.execute(delete(NotificationMute).where(NotificationMute.user_id == user.id,
                                                              NotificationMute.category == category))
        elif not on and current[category]:
            db.session.add(NotificationMute(user_id=user.id, category=category, created_at=now()))
    return {**current, **{category: bool(on) for category, on in enabled.items()}}
