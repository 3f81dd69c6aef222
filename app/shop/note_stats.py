"""A note's statistics for its author: how often it was shown and opened, what readers did with it, and
the sales it brought, per day in the reader's time zone.

Views (impressions), opens, shares and product clicks come from the event log (one grouped query per
period, on the (post_id, created_at) index); likes, saves and comments from the log too, so their days are
when they happened (the totals beside them are the note's counters). Attributed sales are the order lines
whose product card was on this note (`OrderLine.source_post_id`) in orders the buyer paid for and kept,
net of discounts and refunds. It lives with the shop because sales are the shop's; the page links to it
from the note, and the commissions page links here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import now
from app.core.errors import Forbidden, Invalid
from app.events.models import Event
from app.extensions import db
from app.posts.models import Post
from app.shop.models import KEPT_STATUSES, Order, OrderLine

PERIODS = (7, 30, 90)  # days a reader can choose
EVENT_SERIES = ("impression", "open", "like", "save", "comment", "share", "product_click")


@dataclass
class NoteStats:
    post: Post
    days: list[date]
    series: dict[str, list[int]]  # kind → one count per day ("sales_units", "sales_cents" too)
    totals: dict[str, int] = field(default_factory=dict)
    currency: str = "CNY"

    @property
    def open_rate(self) -> float | None:
        """Opens per view over the period (None before the note was shown)."""
        shown = self.totals.get("impression", 0)
        return self.totals.get("open", 0) / shown if shown else None


def can_see_stats(user: User | None, post: Post) -> bool:
    return bool(user and user.is_authenticated and (user.id == post.author_id or user.is_admin))


def parse_period(raw) -> int:
    """The period in days from a query string (7, 30 or 90; default 30); anything else is Invalid."""
    if raw in (None, ""):
        return 30
    if str(raw) not in {str(days) for days in PERIODS}:
        message = _("Choose 7, 30 or 90 days.")
        raise Invalid(message, {"days": [message]})
    return int(raw)


def _hour_bucket(column):
    """The hour a timestamp falls in, as text, on SQLite and PostgreSQL alike."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def note_stats(user: User | None, post: Post, days: int = 30, moment: datetime | None = None) -> NoteStats:
    """The author's (or an admin's) view of one note over the last `days` days; anyone else is refused."""
    if not can_see_stats(user, post):
        raise Forbidden(_("Only the author can see this note's statistics."))
    moment = moment or now()
    zone = get_timezone()
    today = _local(moment, zone).date()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    index = {day: position for position, day in enumerate(day_list)}
    # One extra day either side of the window in UTC, so every local day is whole whatever the zone.
    since = moment - timedelta(days=days + 1)
    series = {kind: [0] * days for kind in (*EVENT_SERIES, "sales_units", "sales_cents")}

    bucket = _hour_bucket(Event.created_at).label("bucket")
    rows = db.session.execute(
        select(Event.kind, bucket, func.count()).where(Event.post_id == post.id, Event.created_at >= since,
                                                      Event.kind.in_(EVENT_SERIES))
        .group_by(Event.kind, bucket))
    for kind, hour, count in rows:
        day = _local(datetime.strptime(hour, "%Y-%m-%d %H"), zone).date()
        if day in index:
            series[kind][index[day]] += count

    kept = [str(status) for status in KEPT_STATUSES]
    sales = db.session.execute(
        select(Order.paid_at, OrderLine.quantity - OrderLine.refunded_quantity,
               OrderLine.line_total_cents - OrderLine.discount_cents - OrderLine.refunded_cents, Order.currency)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.source_post_id == post.id, Order.status.in_(kept), Order.paid_at >= since))
    currency = "CNY"
    for paid_at, units, cents, order_currency in sales:
        currency = order_currency
        day = _local(paid_at, zone).date()
        if day in index:
            series["sales_units"][index[day]] += units
            series["sales_cents"][index[day]] += cents
    totals = {kind: sum(values) for kind, values in series.items()}
    totals.update(likes_total=post.like_count, saves_total=post.save_count, comments_total=post.comment_count)
    return NoteStats(post=post, days=day_list, series=series, totals=totals, currency=currency)


def _local(moment: datetime, zone) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)
