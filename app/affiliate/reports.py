"""What the earnings page, the shop dashboard and the admin lists show: aggregate queries over the ledger,
the attributions and the orders — a fixed number per page or chart, never one per row."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Date, case, cast, distinct, func, select

from app.accounts.models import User
from app.affiliate.ledger import available_from
from app.affiliate.models import CommissionEntry, EntryKind, LineAttribution, ShareClick, ShareLink
from app.core.clock import now as clock_now
from app.core.errors import Invalid, NotFound
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.extensions import db
from app.posts.models import Post
from app.shop import catalog
from app.shop.models import KEPT_STATUSES, Order, OrderLine, OrderStatus, Product, Shop

DASHBOARD_PERIODS = (7, 30, 90)
KEPT = [str(status) for status in KEPT_STATUSES]


def _day(column):
    """A timestamp's calendar day, as a date on both databases."""
    return cast(column, Date) if db.session.get_bind().dialect.name == "postgresql" else func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


# --- a creator's earnings -----------------------------------------------------------------------------------

@dataclass
class EntryRow:
    entry: CommissionEntry
    product_title: str
    post_id: int | None
    post_title: str | None
    link_code: str | None
    order_status: str
    available_on: datetime | None
    refund_reason: str | None = None


def ledger_page(user: User, cursor: str | None = None, limit: int | None = None) -> Page:
    """The user's ledger rows, newest first, with what each row is about (one query for the rows and one
    for their context)."""
    page = paginate_desc(select(CommissionEntry).where(CommissionEntry.beneficiary_id == user.id),
                         CommissionEntry.created_at, CommissionEntry.id, cursor, clamp_limit(limit, 50))
    page.items = _with_context(page.items)
    return page


def _with_context(entries: list[CommissionEntry]) -> list[EntryRow]:
    if not entries:
        return []
    line_ids = {entry.order_line_id for entry in entries}
    context = {row.id: row for row in db.session.execute(
        select(OrderLine.id, OrderLine.product_title, Order.status, Order.completed_at, LineAttribution.post_id,
               Post.title.label("post_title"), ShareLink.code)
        .join(Order, Order.id == OrderLine.order_id)
        .outerjoin(LineAttribution, LineAttribution.order_line_id == OrderLine.id)
        .outerjoin(Post, Post.id == LineAttribution.post_id)
        .outerjoin(ShareLink, ShareLink.id == LineAttribution.link_id)
        .where(OrderLine.id.in_(line_ids)))}
    from app.shop.models import Refund

    refund_ids = {e.refund_id for e in entries if e.refund_id}
    reasons = dict(db.session.execute(select(Refund.id, Refund.reason).where(Refund.id.in_(refund_ids))).all()) \
        if refund_ids else {}
    rows = []
    for entry in entries:
        ctx = context.get(entry.order_line_id)
        rows.append(EntryRow(entry, ctx.product_title if ctx else "", ctx.post_id if ctx else None,
                             ctx.post_title if ctx else None, ctx.code if ctx else None,
                             ctx.status if ctx else "", available_from(ctx.completed_at) if ctx else None,
                             reasons.get(entry.refund_id)))
    return rows


def ledger_csv(user: User) -> str:
    """Every ledger row of the user as CSV (the export on the earnings page)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["created_at", "kind", "order_id", "order_line_id", "product", "note_id", "share_code",
                     "rate_bps", "amount_cents", "pending_cents", "available_cents", "paid_cents", "currency"])
    entries = list(db.session.scalars(select(CommissionEntry).where(CommissionEntry.beneficiary_id == user.id)
                                      .order_by(CommissionEntry.created_at, CommissionEntry.id)))
    for start in range(0, len(entries), 500):
        for row in _with_context(entries[start:start + 500]):
            e = row.entry
            writer.writerow([e.created_at.isoformat(), e.kind, e.order_id, e.order_line_id, row.product_title,
                             row.post_id or "", row.link_code or "", e.rate_bps, e.amount_cents, e.pending_cents,
                             e.available_cents, e.paid_cents, e.currency])
    return out.getvalue()


@dataclass
class Series:
    days: list[date]
    values: dict[str, list[int]] = field(default_factory=dict)


def earnings_series(user: User, days: int = 30, now: datetime | None = None) -> Series:
    """Commission earned (accrued less reversed) per day over the last `days` days: one query."""
    now = now or clock_now()
    start = (now - timedelta(days=days - 1)).date()
    day = _day(CommissionEntry.created_at)
    rows = db.session.execute(
        select(day, func.sum(case((CommissionEntry.kind == EntryKind.PENDING, CommissionEntry.amount_cents),
                                  else_=0)),
               func.sum(case((CommissionEntry.kind == EntryKind.REVERSED, -CommissionEntry.amount_cents), else_=0)))
        .where(CommissionEntry.beneficiary_id == user.id,
               CommissionEntry.created_at >= datetime.combine(start, datetime.min.time()))
        .group_by(day)).all()
    by_day = {_as_date(row[0]): (int(row[1] or 0), int(row[2] or 0)) for row in rows}
    axis = _days(start, days)
    return Series(axis, {"earned": [by_day.get(d, (0, 0))[0] for d in axis],
                         "reversed": [by_day.get(d, (0, 0))[1] for d in axis]})


def earnings_per_note(user: User, limit: int = 10) -> list[tuple[int | None, str, int]]:
    """(note id, title, commission net of reversals) for the notes that earned the most: one query."""
    net = func.sum(case((CommissionEntry.kind.in_([EntryKind.PENDING, EntryKind.REVERSED]),
                         CommissionEntry.amount_cents), else_=0))
    rows = db.session.execute(
        select(LineAttribution.post_id, Post.title, net)
        .join(CommissionEntry, (CommissionEntry.order_line_id == LineAttribution.order_line_id)
              & (CommissionEntry.beneficiary_id == LineAttribution.beneficiary_id))
        .outerjoin(Post, Post.id == LineAttribution.post_id)
        .where(LineAttribution.beneficiary_id == user.id)
        .group_by(LineAttribution.post_id, Post.title).order_by(net.desc()).limit(limit)).all()
    return [(post_id, title or _("Shared product links"), int(amount or 0)) for post_id, title, amount in rows]


@dataclass
class Funnel:
    link: ShareLink
    target_title: str
    clicks: int
    orders: int
    paid: int
    commission_cents: int


def link_funnels(user: User) -> list[Funnel]:
    """Per share link: clicks → orders → paid orders → commission (four grouped queries)."""
    links = list(db.session.scalars(select(ShareLink).where(ShareLink.sharer_id == user.id)
                                    .order_by(ShareLink.id.desc()).limit(100)))
    if not links:
        return []
    ids = [link.id for link in links]
    clicks = dict(db.session.execute(select(ShareClick.link_id, func.count()).where(ShareClick.link_id.in_(ids))
                                     .group_by(ShareClick.link_id)).all())
    orders = {row[0]: (int(row[1]), int(row[2] or 0)) for row in db.session.execute(
        select(LineAttribution.link_id, func.count(distinct(Order.id)),
               func.count(distinct(case((Order.paid_at.is_not(None), Order.id)))))
        .join(Order, Order.id == LineAttribution.order_id)
        .where(LineAttribution.link_id.in_(ids)).group_by(LineAttribution.link_id))}
    commission = dict(db.session.execute(
        select(LineAttribution.link_id, func.sum(CommissionEntry.amount_cents))
        .join(CommissionEntry, (CommissionEntry.order_line_id == LineAttribution.order_line_id)
              & (CommissionEntry.beneficiary_id == LineAttribution.beneficiary_id))
        .where(LineAttribution.link_id.in_(ids),
               CommissionEntry.kind.in_([EntryKind.PENDING, EntryKind.REVERSED]))
        .group_by(LineAttribution.link_id)).all())
    titles = dict(db.session.execute(select(Post.id, Post.title).where(
        Post.id.in_({link.post_id for link in links if link.post_id}))).all()) \
        | {("p", pid): t for pid, t in db.session.execute(select(Product.id, Product.title).where(
            Product.id.in_({link.product_id for link in links if link.product_id})))}
    result = []
    for link in links:
        title = titles.get(link.post_id) if link.post_id else titles.get(("p", link.product_id), "")
        placed, paid = orders.get(link.id, (0, 0))
        result.append(Funnel(link, title or "", int(clicks.get(link.id, 0)), placed, paid,
                             int(commission.get(link.id) or 0)))
    return result


def earnings_of(viewer: User, username: str | None = None) -> User:
    """Whose earnings the viewer may read: their own (admins anyone's)."""
    if username is None or username == viewer.username:
        return viewer
    if not viewer.is_admin:
        raise NotFound(_("No such page."))
    user = db.session.scalar(select(User).where(User.username_key == username.lower()))
    if user is None:
        raise NotFound(_("No such user."))
    return user


# --- invites ----------------------------------------------------------------------------------------------

def invited_by(user: User) -> list[User]:
    """Whom the user invited, newest first. Invites earn nothing by themselves."""
    return list(db.session.scalars(select(User).where(User.invited_by_id == user.id, User.deleted_at.is_(None))
                                   .order_by(User.id.desc()).limit(500)))


def inviter_for_code(code: str) -> User:
    user = db.session.scalar(select(User).where(User.invite_code == code, User.deleted_at.is_(None))) \
        if isinstance(code, str) and 0 < len(code) <= 16 else None
    if user is None:
        raise NotFound(_("This invite code does not exist."), code="unknown-invite")
    return user


# --- a shop's sales dashboard -----------------------------------------------------------------------------

@dataclass
class Dashboard:
    shop: Shop
    days: int
    series: Series
    totals: dict[str, int]
    top_products: list
    notes: list
    creators: list


def parse_period(value) -> int:
    if value in (None, ""):
        return 30
    if str(value) not in {str(d) for d in DASHBOARD_PERIODS}:
        raise Invalid(_("Choose 7, 30 or 90 days."), {"days": [_("Choose 7, 30 or 90 days.")]})
    return int(value)


def shop_dashboard(viewer: User, slug: str, days: int = 30, now: datetime | None = None) -> Dashboard:
    """The shop's sales per day for its owner (or an admin): orders, revenue, units, refunds and commission
    owed; top products; the notes and creators that drove sales. Six aggregate queries."""
    shop = catalog.get_shop(slug, viewer)
    if not catalog.can_manage(viewer, shop):
        raise NotFound(_("No such shop."))
    now = now or clock_now()
    start = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(start, datetime.min.time())
    day = _day(Order.paid_at)
    sold = (Order.shop_id == shop.id, Order.paid_at.is_not(None), Order.paid_at >= since)
    per_day = {_as_date(r[0]): r for r in db.session.execute(
        select(day, func.count(Order.id), func.sum(Order.total_cents), func.sum(Order.refunded_cents))
        .where(*sold).group_by(day))}
    units = {_as_date(r[0]): int(r[1] or 0) for r in db.session.execute(
        select(day, func.sum(OrderLine.quantity - OrderLine.refunded_quantity)).select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id).where(*sold).group_by(day))}
    cday = _day(CommissionEntry.created_at)
    commission = {_as_date(r[0]): int(r[1] or 0) for r in db.session.execute(
        select(cday, func.sum(CommissionEntry.amount_cents))
        .where(CommissionEntry.shop_id == shop.id, CommissionEntry.created_at >= since,
               CommissionEntry.kind.in_([EntryKind.PENDING, EntryKind.REVERSED])).group_by(cday))}
    axis = _days(start, days)
    series = Series(axis, {
        "orders": [int(per_day[d][1]) if d in per_day else 0 for d in axis],
        "revenue": [int(per_day[d][2] or 0) if d in per_day else 0 for d in axis],
        "refunds": [int(per_day[d][3] or 0) if d in per_day else 0 for d in axis],
        "units": [units.get(d, 0) for d in axis],
        "commission": [commission.get(d, 0) for d in axis],
    })
    totals = {name: sum(values) for name, values in series.values.items()}
    kept_net = OrderLine.line_total_cents - OrderLine.discount_cents - OrderLine.refunded_cents
    top_products = db.session.execute(
        select(OrderLine.product_id, OrderLine.product_title,
               func.sum(OrderLine.quantity - OrderLine.refunded_quantity).label("units"),
               func.sum(kept_net).label("revenue")).select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id).where(*sold)
        .group_by(OrderLine.product_id, OrderLine.product_title).order_by(func.sum(kept_net).desc()).limit(10)).all()
    attributed = (LineAttribution.shop_id == shop.id, Order.paid_at.is_not(None), Order.paid_at >= since)
    notes = db.session.execute(
        select(LineAttribution.post_id, Post.title, User.username, User.display_name,
               func.count(distinct(Order.id)).label("orders"), func.sum(kept_net).label("revenue"))
        .select_from(LineAttribution)
        .join(OrderLine, OrderLine.id == LineAttribution.order_line_id)
        .join(Order, Order.id == LineAttribution.order_id)
        .join(Post, Post.id == LineAttribution.post_id)
        .join(User, User.id == Post.author_id)
        .where(*attributed, LineAttribution.post_id.is_not(None))
        .group_by(LineAttribution.post_id, Post.title, User.username, User.display_name)
        .order_by(func.sum(kept_net).desc()).limit(10)).all()
    creators = db.session.execute(
        select(User.username, User.display_name, func.count(distinct(Order.id)).label("orders"),
               func.sum(kept_net).label("revenue")).select_from(LineAttribution)
        .join(OrderLine, OrderLine.id == LineAttribution.order_line_id)
        .join(Order, Order.id == LineAttribution.order_id)
        .join(User, User.id == LineAttribution.beneficiary_id)
        .where(*attributed).group_by(User.username, User.display_name)
        .order_by(func.sum(kept_net).desc()).limit(10)).all()
    return Dashboard(shop, days, series, totals, top_products, notes, creators)


# --- transparent sales ------------------------------------------------------------------------------------

def product_sales(product_id: int) -> tuple[int, int]:
    """(units sold, of which through notes or share links) from paid, non-refunded order lines."""
    row = db.session.execute(
        select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.refunded_quantity), 0),
               func.coalesce(func.sum(case((LineAttribution.order_line_id.is_not(None),
                                            OrderLine.quantity - OrderLine.refunded_quantity), else_=0)), 0))
        .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .outerjoin(LineAttribution, LineAttribution.order_line_id == OrderLine.id)
        .where(OrderLine.product_id == product_id, Order.status.in_(KEPT))).one()
    return int(row[0]), int(row[1])


# --- admin: sharers whose attributed orders mostly come back -----------------------------------------------

def refund_heavy_sharers(min_orders: int = 3, share: float = 0.5) -> list:
    """Sharers with at least `min_orders` attributed orders of which more than `share` were refunded or
    cancelled — one grouped query."""
    bad = func.count(distinct(case((Order.status.in_([OrderStatus.REFUNDED, OrderStatus.CANCELLED]), Order.id))))
    total = func.count(distinct(Order.id))
    return db.session.execute(
        select(User.id, User.username, total.label("orders"), bad.label("bad"))
        .join(LineAttribution, LineAttribution.beneficiary_id == User.id)
        .join(Order, Order.id == LineAttribution.order_id)
        .group_by(User.id, User.username)
        .having(total >= min_orders, bad * 1.0 > total * share)
        .order_by(bad.desc())).all()


def contact_flags(limit: int = 100) -> list:
    from app.affiliate.models import AbuseFlag

    sharer = User.__table__.alias("sharer")
    buyer = User.__table__.alias("buyer")
    return db.session.execute(
        select(AbuseFlag.id, AbuseFlag.order_id, AbuseFlag.created_at, sharer.c.username.label("sharer"),
               buyer.c.username.label("buyer"))
        .join(sharer, sharer.c.id == AbuseFlag.sharer_id).join(buyer, buyer.c.id == AbuseFlag.buyer_id)
        .order_by(AbuseFlag.id.desc()).limit(limit)).all()
