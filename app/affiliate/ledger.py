"""The commission ledger: what the order hooks, the availability job and the payout run write.

Every change is a new row (see models.py for the buckets and the uniqueness that makes each write happen
once). Amounts are integer cents rounded down: a commission is floor(rate × what the buyer paid for the line
after discounts); after a refund of some units what is left is floor(commission × units kept / units bought),
so a sharer is never paid more than the rate of what was kept, and a full refund reverses exactly all.

Locks: a refund holds the order and its lines (app/shop/refunds.py); the availability job takes the order row
too, so the two are serialised per order and a commission is never both available and reversed. A payout
locks its payees' user rows, so two payout runs cannot pay one line twice (and the unique (line, kind, seq)
would refuse it anyway).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, case, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.affiliate.models import CommissionEntry, EntryKind, LineAttribution, Payout
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Forbidden, Invalid
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop.models import Order, OrderLine, OrderStatus, Refund
from app.shop.orders import return_window_days

RELEASABLE = (OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)


def commission_for(net_cents: int, rate_bps: int) -> int:
    """floor(rate × net): integer cents, rounded down."""
    return max(0, net_cents) * rate_bps // 10_000


def remaining_after_refund(commission: int, quantity: int, units_refunded: int) -> int:
    """What is left of a line's commission once `units_refunded` of its `quantity` units came back."""
    return commission * (quantity - units_refunded) // quantity


# --- written by the order hooks ----------------------------------------------------------------------------

def accrue_paid_order(order: Order, from_status: str, to_status: str, now: datetime) -> None:
    """Order-moved listener: a pending commission per attributed line once the order is paid."""
    if to_status != OrderStatus.PAID or from_status != OrderStatus.PENDING_PAYMENT:
        return
    rows = db.session.execute(
        select(LineAttribution, OrderLine.line_total_cents, OrderLine.discount_cents)
        .join(OrderLine, OrderLine.id == LineAttribution.order_line_id)
        .where(LineAttribution.order_id == order.id, LineAttribution.withheld == "")).all()
    for attribution, line_total, discount in rows:
        amount = commission_for(line_total - discount, attribution.rate_bps)
        if amount <= 0:
            continue
        insert_if_absent(CommissionEntry, order_line_id=attribution.order_line_id, order_id=order.id,
                         shop_id=order.shop_id, beneficiary_id=attribution.beneficiary_id, kind=EntryKind.PENDING,
                         seq=0, amount_cents=amount, pending_cents=amount, available_cents=0, paid_cents=0,
                         rate_bps=attribution.rate_bps, units=0, currency=order.currency, created_at=now)


@dataclass
class LineState:
    """One line's commission as its ledger rows say: the accrued amount, what was reversed, and so on."""

    commission: int = 0
    reversed_cents: int = 0
    units_reversed: int = 0
    released: bool = False
    paid_rows: int = 0
    pending: int = 0
    available: int = 0


def _line_states(line_ids, beneficiary_id: int | None = None) -> dict[tuple[int, int], LineState]:
    query = select(CommissionEntry).where(CommissionEntry.order_line_id.in_(list(line_ids)))
    if beneficiary_id is not None:
        query = query.where(CommissionEntry.beneficiary_id == beneficiary_id)
    states: dict[tuple[int, int], LineState] = {}
    for entry in db.session.scalars(query.execution_options(populate_existing=True)):
        state = states.setdefault((entry.order_line_id, entry.beneficiary_id), LineState())
        state.pending += entry.pending_cents
        state.available += entry.available_cents
        if entry.kind == EntryKind.PENDING:
            state.commission = entry.amount_cents
        elif entry.kind == EntryKind.REVERSED:
            state.reversed_cents += -entry.amount_cents
            state.units_reversed += entry.units
        elif entry.kind == EntryKind.AVAILABLE:
            state.released = True
        elif entry.kind == EntryKind.PAID_OUT:
            state.paid_rows += 1
    return states


def reverse_refunded_lines(order: Order, refund: Refund, now: datetime) -> None:
    """Refund-issued listener: reverse the refunded fraction of each credited line, at its stored rate.
    Before availability it comes off pending; after, off available — below zero (owed) if already paid out."""
    wanted = {line.order_line_id: line.quantity for line in refund.lines}
    if not wanted:
        return
    quantities = dict(db.session.execute(select(OrderLine.id, OrderLine.quantity)
                                         .where(OrderLine.id.in_(list(wanted)))).all())
    for (line_id, beneficiary_id), state in _line_states(wanted).items():
        if state.commission <= 0:
            continue
        units_after = min(quantities[line_id], state.units_reversed + wanted[line_id])
        left = remaining_after_refund(state.commission, quantities[line_id], units_after)
        amount = (state.commission - state.reversed_cents) - left
        bucket = {"available_cents": -amount, "pending_cents": 0} if state.released else \
            {"pending_cents": -amount, "available_cents": 0}
        insert_if_absent(CommissionEntry, order_line_id=line_id, order_id=order.id, shop_id=order.shop_id,
                         beneficiary_id=beneficiary_id, kind=EntryKind.REVERSED, seq=refund.id,
                         amount_cents=-amount, paid_cents=0, rate_bps=_rate_of(line_id, beneficiary_id),
                         units=units_after - state.units_reversed, refund_id=refund.id, currency=order.currency,
                         created_at=now, **bucket)


def _rate_of(line_id: int, beneficiary_id: int) -> int:
    return db.session.scalar(select(CommissionEntry.rate_bps).where(
        CommissionEntry.order_line_id == line_id, CommissionEntry.beneficiary_id == beneficiary_id,
        CommissionEntry.kind == EntryKind.PENDING)) or 0


# --- the availability job ----------------------------------------------------------------------------------

def available_from(completed_at: datetime | None) -> datetime | None:
    """When a completed order's commissions become available (its return window has passed)."""
    return completed_at + timedelta(days=return_window_days()) if completed_at else None


RELEASE_BATCH_ORDERS = 2000


def release_available_commissions(now: datetime | None = None, batch_size: int | None = None) -> int:
    """Job: make available what is still pending on orders completed more than the return window ago.

    Set-based: one read of the candidate orders, then batches of `batch_size` of them (in id order), one
    transaction per batch: lock the batch's still-releasable orders (FOR UPDATE, in id order — a refund takes
    the same order lock first, so a refund in flight is waited for and its reversal is seen), then one
    INSERT … SELECT writes an available row per (line, beneficiary) whose pending sum is positive and that has
    none yet. A wholly reversed line (pending 0) is skipped, so a commission is never both available and
    reversed; ON CONFLICT DO NOTHING on the (line, beneficiary, kind, seq) key makes a second run or a racing
    worker write each row once.
    Returns how many entries this run wrote."""
    now = now or clock_now()
    batch_size = batch_size or int(current_app.config.get("AFFILIATE_RELEASE_BATCH", RELEASE_BATCH_ORDERS))
    cutoff = now - timedelta(days=return_window_days())
    entry = CommissionEntry
    # One read of the candidates (orders with a line that has a pending row and no available one); each batch
    # re-checks them under the order locks. A GROUP BY, not an anti-join: right after a big release the
    # planner's stale row counts turned the NOT EXISTS into a quadratic nested loop.
    with unit_of_work():
        order_ids = sorted(set(db.session.scalars(
            select(entry.order_id).join(Order, Order.id == entry.order_id)
            .where(Order.status.in_([str(s) for s in RELEASABLE]), Order.completed_at <= cutoff)
            .group_by(entry.order_id, entry.order_line_id, entry.beneficiary_id)
            .having(func.sum(case((entry.kind == EntryKind.PENDING, 1), else_=0)) > 0,
                    func.sum(case((entry.kind == EntryKind.AVAILABLE, 1), else_=0)) == 0))))
    written = 0
    for start in range(0, len(order_ids), batch_size):
        with unit_of_work():
            written += _release_orders(order_ids[start:start + batch_size], cutoff, now)
    return written


def _release_orders(order_ids: list[int], cutoff: datetime, now: datetime) -> int:
    """One batch, inside the caller's transaction: lock, re-check, then a single INSERT … SELECT."""
    locked = list(db.session.scalars(
        select(Order.id).where(Order.id.in_(order_ids), Order.status.in_([str(s) for s in RELEASABLE]),
                               Order.completed_at.is_not(None), Order.completed_at <= cutoff)
        .order_by(Order.id).with_for_update()))
    if not locked:
        return 0
    entry = CommissionEntry
    pending = func.sum(entry.pending_cents)
    rate = func.coalesce(func.max(case((entry.kind == EntryKind.PENDING, entry.rate_bps), else_=None)), 0)
    rows = (select(entry.order_line_id, Order.id, Order.shop_id, entry.beneficiary_id,
                   literal(str(EntryKind.AVAILABLE)), literal(0), pending, -pending, pending, literal(0), rate,
                   literal(0), Order.currency, literal(now, DateTime()))
            .join(Order, Order.id == entry.order_id)
            .where(entry.order_id.in_(locked))
            .group_by(entry.order_line_id, entry.beneficiary_id, Order.id, Order.shop_id, Order.currency)
            .having(pending > 0,
                    func.sum(case((entry.kind == EntryKind.AVAILABLE, 1), else_=0)) == 0))
    table = entry.__table__
    columns = ["order_line_id", "order_id", "shop_id", "beneficiary_id", "kind", "seq", "amount_cents",
               "pending_cents", "available_cents", "paid_cents", "rate_bps", "units", "currency", "created_at"]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).from_select(columns, rows).on_conflict_do_nothing().returning(table.c.id)
    return len(db.session.execute(statement).all())


# --- balances ---------------------------------------------------------------------------------------------

@dataclass
class Balances:
    pending_cents: int
    available_cents: int  # net: may be negative when owed, taken from future earnings before any payout
    paid_cents: int
    reversed_cents: int
    owed_cents: int = 0  # what refunds after payout took back (lines whose available part is below zero)
    currency: str = "CNY"

    @property
    def earned_available_cents(self) -> int:
        """Available before the debt is taken off (the lines still to be paid)."""
        return self.available_cents + self.owed_cents

    @property
    def payable_cents(self) -> int:
        return max(0, self.available_cents)


def balances(user_id: int) -> Balances:
    """A user's totals: sums of their ledger rows (never stored). `owed` sums the lines left below zero."""
    row = db.session.execute(select(
        func.coalesce(func.sum(CommissionEntry.pending_cents), 0),
        func.coalesce(func.sum(CommissionEntry.available_cents), 0),
        func.coalesce(func.sum(CommissionEntry.paid_cents), 0),
        func.coalesce(func.sum(case((CommissionEntry.kind == EntryKind.REVERSED, -CommissionEntry.amount_cents),
                                    else_=0)), 0),
    ).where(CommissionEntry.beneficiary_id == user_id)).one()
    per_line = (select(func.sum(CommissionEntry.available_cents).label("left"))
                .where(CommissionEntry.beneficiary_id == user_id)
                .group_by(CommissionEntry.order_line_id).subquery())
    owed = db.session.scalar(select(func.coalesce(func.sum(per_line.c.left), 0)).where(per_line.c.left < 0))
    return Balances(int(row[0]), int(row[1]), int(row[2]), int(row[3]), -int(owed or 0))


# --- payouts ----------------------------------------------------------------------------------------------

def payout_minimum() -> int:
    return int(current_app.config.get("AFFILIATE_PAYOUT_MINIMUM_CENTS", 1000))


def _check_minimum(minimum_cents) -> int:
    if not isinstance(minimum_cents, int) or isinstance(minimum_cents, bool) or minimum_cents < 1:
        message = _("The minimum must be a whole number of cents, at least 1.")
        raise Invalid(message, {"minimum_cents": [message]})
    return minimum_cents


def payable_balances(minimum_cents: int | None = None) -> list[tuple[User, int]]:
    """Who a payout run would pay now and how much: available balances of at least the minimum."""
    minimum = _check_minimum(payout_minimum() if minimum_cents is None else minimum_cents)
    total = func.sum(CommissionEntry.available_cents)
    rows = db.session.execute(select(CommissionEntry.beneficiary_id, total).group_by(CommissionEntry.beneficiary_id)
                              .having(total >= minimum).order_by(CommissionEntry.beneficiary_id)).all()
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))}
    return [(users[user_id], int(amount)) for user_id, amount in rows]


class BatchTaken(Exception):
    """A concurrent run recorded the same batch first (raised after rolling back)."""


def run_payout(admin: User, batch: str, minimum_cents: int | None = None, *, user_ids: list[int] | None = None,
               now: datetime | None = None) -> Payout:
    """Pay every available balance of at least the minimum (or of the given users), writing the paid-out
    rows in one transaction. The same `batch` twice pays once: the second run returns the first's payout.
    A user's debt (a negative line after a late refund) is settled from their other lines first."""
    if not admin.is_admin:
        raise Forbidden(_("Only administrators run payouts."), code="not-admin")
    batch = (batch or "").strip()
    if not batch or len(batch) > 64:
        message = _("Give the payout batch a key of 1 to 64 characters.")
        raise Invalid(message, {"batch": [message]})
    minimum = _check_minimum(payout_minimum() if minimum_cents is None else minimum_cents)
    now = now or clock_now()
    done = db.session.scalar(select(Payout).where(Payout.batch == batch))
    if done:
        return done
    try:
        with unit_of_work():
            payout = Payout(batch=batch, admin_id=admin.id, minimum_cents=minimum, created_at=now)
            db.session.add(payout)
            try:
                db.session.flush()  # a concurrent run of the same batch waits here on the unique index
            except IntegrityError:
                raise BatchTaken() from None
            _pay(payout, minimum, user_ids)
    except BatchTaken:
        db.session.rollback()
        return db.session.scalar(select(Payout).where(Payout.batch == batch))
    return payout


def _pay(payout: Payout, minimum: int, user_ids: list[int] | None) -> None:
    total = func.sum(CommissionEntry.available_cents)
    query = select(CommissionEntry.beneficiary_id).group_by(CommissionEntry.beneficiary_id)
    if user_ids is not None:
        query = query.where(CommissionEntry.beneficiary_id.in_(user_ids))
    candidates = sorted(db.session.scalars(query.having(total >= minimum)))
    if user_ids is not None:
        refused = sorted(set(user_ids) - set(candidates))
        if refused:
            message = _("Nothing to pay: this balance is empty, owed or below the minimum.")
            raise Invalid(message, {"user_ids": [message]}, code="nothing-to-pay")
    if not candidates:
        message = _("Nothing to pay: no available balance reaches the minimum.")
        raise Invalid(message, {"minimum_cents": [message]}, code="nothing-to-pay")
    # Payees' rows, in id order: a second payout run (another batch) waits here and then sees these rows.
    db.session.execute(select(User.id).where(User.id.in_(candidates)).order_by(User.id).with_for_update(key_share=True))
    paid_total, payees = 0, 0
    for user_id in candidates:
        lines = db.session.execute(
            select(CommissionEntry.order_line_id, CommissionEntry.order_id, CommissionEntry.shop_id,
                   func.sum(CommissionEntry.available_cents), func.max(CommissionEntry.currency),
                   func.sum(case((CommissionEntry.kind == EntryKind.PAID_OUT, 1), else_=0)))
            .where(CommissionEntry.beneficiary_id == user_id)
            .group_by(CommissionEntry.order_line_id, CommissionEntry.order_id, CommissionEntry.shop_id)
            .having(func.sum(CommissionEntry.available_cents) != 0)
            .execution_options(populate_existing=True)).all()
        amount = sum(int(row[3]) for row in lines)
        if amount < minimum:
            continue
        for line_id, order_id, shop_id, unsettled, currency, paid_rows in lines:
            db.session.add(CommissionEntry(
                order_line_id=line_id, order_id=order_id, shop_id=shop_id, beneficiary_id=user_id,
                kind=EntryKind.PAID_OUT, seq=int(paid_rows), amount_cents=int(unsettled), pending_cents=0,
                available_cents=-int(unsettled), paid_cents=int(unsettled), units=0,
                rate_bps=_rate_of(line_id, user_id), payout_id=payout.id, currency=currency,
                created_at=payout.created_at))
        paid_total += amount
        payees += 1
    if not payees:
        message = _("Nothing to pay: no available balance reaches the minimum.")
        raise Invalid(message, {"minimum_cents": [message]}, code="nothing-to-pay")
    payout.total_cents, payout.payees = paid_total, payees
    db.session.flush()


def payout_rows(payout_id: int) -> list[tuple[User, int]]:
    """Who a payout paid and how much (sums of its rows)."""
    rows = db.session.execute(select(CommissionEntry.beneficiary_id, func.sum(CommissionEntry.paid_cents))
                              .where(CommissionEntry.payout_id == payout_id)
                              .group_by(CommissionEntry.beneficiary_id).order_by(CommissionEntry.beneficiary_id)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))}
    return [(users[user_id], int(amount)) for user_id, amount in rows]


def payout_csv(payout: Payout) -> str:
    """The CSV the finance team pays from: one row per payee."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["payout_batch", "user_id", "username", "amount_cents", "amount", "currency"])
    for user, cents in payout_rows(payout.id):
        writer.writerow([payout.batch, user.id, user.username, cents, f"{cents / 100:.2f}", "CNY"])
    return out.getvalue()


def recent_payouts(limit: int = 20) -> list[Payout]:
    return list(db.session.scalars(select(Payout).order_by(Payout.id.desc()).limit(limit)))


def refuse_unless_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden(_("Only administrators can see this."), code="not-admin")

