"""After-sales (售后): a buyer asks for a refund or a return of some units of a paid, shipped or completed
order within its return window; the shop approves or declines with a reason; silence approves.

One state machine (aftersale_models.AFTERSALE_TRANSITIONS) applied by `transition_after_sale`, a conditional
UPDATE … WHERE status = :seen plus an event row, exactly like orders.transition_order — so the shop's
approval racing the auto-approve job moves a request once and refunds once. Money moves only through
refunds.refund_for_after_sale (→ payments.issue_refund → hooks.refund_issued, so commissions reverse), in the
same transaction as the move that sends it.

    requested ─approve(refund)→ refunded          requested ─approve(return)→ awaiting_return
    awaiting_return ─buyer's tracking→ return_shipped ─shop confirms receipt→ refunded
    requested / return_shipped ─decline(reason)→ declined ─escalate (once)→ escalated
    escalated ─admin→ refunded | awaiting_return | closed;   requested / awaiting_return ─buyer→ cancelled

A request still open (requested, awaiting return, return shipped, escalated) holds its units: the units a
buyer can ask for are those bought, less those refunded, less those other open requests hold, counted under
a lock on the order row. Every move notifies the buyer and the shop and is kept in the order's history.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.core.images import Rendition, prepare_uploads, store_encoded
from app.core.pagination import Page, clamp_limit, int_key, paginate
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop.aftersale_models import (
    AFTERSALE_TRANSITIONS,
    OPEN_AFTERSALE_STATUSES,
    AfterSale,
    AfterSaleEvent,
    AfterSaleKind,
    AfterSaleLine,
    AfterSalePhoto,
    AfterSaleStatus,
)
from app.shop.models import KEPT_STATUSES, Order, OrderLine, Shop
from app.shop.orders import return_window_open
from app.shop.refunds import refund_for_after_sale
from app.social.notifications import notify

MAX_PHOTOS = 3
NOTE_MAX = 1000
PHOTO_WIDTH, PHOTO_MAX_BYTES = 1080, 10 * 1024 * 1024

# The reasons a buyer picks from (codes are stored and returned by the API; labels are translated).
REASONS = {
    "not_as_described": _l("Not as described"),
    "damaged": _l("Arrived damaged"),
    "wrong_item": _l("Wrong item or option"),
    "quality": _l("Quality problem"),
    "missing": _l("Missing parts or never arrived"),
    "changed_mind": _l("Changed my mind"),
    "other": _l("Other"),
}
KIND_LABELS = {AfterSaleKind.REFUND: _l("Refund only"), AfterSaleKind.RETURN: _l("Return and refund")}
STATUS_LABELS = {
    AfterSaleStatus.REQUESTED: _l("Waiting for the shop"),
    AfterSaleStatus.AWAITING_RETURN: _l("Return approved · send it back"),
    AfterSaleStatus.RETURN_SHIPPED: _l("Return on its way"),
    AfterSaleStatus.REFUNDED: _l("Refunded"),
    AfterSaleStatus.DECLINED: _l("Declined by the shop"),
    AfterSaleStatus.ESCALATED: _l("With the site's team"),
    AfterSaleStatus.CLOSED: _l("Closed"),
    AfterSaleStatus.CANCELLED: _l("Withdrawn"),
}
# The notification each move sends to the buyer and the shop (registered in app/shop/notices.py).
NOTIFICATION_OF = {status: f"aftersale_{status.value}" for status in AfterSaleStatus}


def auto_approve_hours() -> int:
    return int(current_app.config.get("AFTERSALE_AUTO_APPROVE_HOURS", 48))


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label else status


# --- the state machine -------------------------------------------------------------------------------------

def can_transition(from_status: str, to_status: str) -> bool:
    return AfterSaleStatus(to_status) in AFTERSALE_TRANSITIONS[AfterSaleStatus(from_status)]


def transition_after_sale(after_sale: AfterSale, to_status: AfterSaleStatus, *, actor_id: int | None, now: datetime,
                          note: str = "", values: dict | None = None, strict: bool = True) -> bool:
    """Move a request from the status it was read with to `to_status`, write its event and notify both
    parties; True when this call moved it. An illegal move raises Conflict; a lost race raises Conflict
    when `strict`, else returns False (the job skips what a person already did)."""
    from_status = AfterSaleStatus(after_sale.status)
    if not can_transition(from_status, to_status):
        raise Conflict(_("This request is %(current)s and cannot become %(wanted)s.",
                         current=status_label(from_status), wanted=status_label(to_status)),
                       code="invalid-transition")
    changes = {"status": str(to_status), "updated_at": now, **(values or {})}
    moved = db.session.execute(update(AfterSale).where(AfterSale.id == after_sale.id,
                                                       AfterSale.status == str(from_status))
                               .values(**changes).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        if strict:
            raise Conflict(_("This request changed in the meantime. Reload it and try again."),
                           code="concurrent-change")
        return False
    for key, value in changes.items():
        set_committed_value(after_sale, key, value)
    _record(after_sale, str(from_status), str(to_status), actor_id, note, now)
    return True


def _record(after_sale: AfterSale, from_status: str | None, to_status: str, actor_id: int | None, note: str,
            now: datetime) -> None:
    db.session.add(AfterSaleEvent(after_sale_id=after_sale.id, order_id=after_sale.order_id,
                                  from_status=from_status, to_status=to_status, actor_id=actor_id,
                                  note=(note or "")[:500], created_at=now))
    merchant_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == after_sale.shop_id))
    for recipient in {after_sale.buyer_id, merchant_id}:
        notify(recipient, NOTIFICATION_OF[AfterSaleStatus(to_status)], actor_id=actor_id,
               target_type="after_sale", target_id=after_sale.id)
    if to_status == AfterSaleStatus.ESCALATED:
        for admin_id in db.session.scalars(select(User.id).where(User.is_admin.is_(True))):
            notify(admin_id, NOTIFICATION_OF[AfterSaleStatus.ESCALATED], actor_id=actor_id,
                   target_type="after_sale", target_id=after_sale.id)


# --- what a buyer may ask for ----------------------------------------------------------------------------

def can_request(order: Order, now: datetime | None = None) -> bool:
    """Whether the order is one a buyer may open an after-sales request on (paid, kept, window open)."""
    return order.status in KEPT_STATUSES and return_window_open(order, now or clock_now())


def requestable_units(order: Order, *, excluding: int | None = None) -> dict[int, int]:
    """Order line id → units the buyer may still ask about: bought − refunded − held by open requests."""
    held_query = (select(AfterSaleLine.order_line_id, func.sum(AfterSaleLine.quantity))
                  .join(AfterSale, AfterSale.id == AfterSaleLine.after_sale_id)
                  .where(AfterSale.order_id == order.id,
                         AfterSale.status.in_([str(s) for s in OPEN_AFTERSALE_STATUSES]))
                  .group_by(AfterSaleLine.order_line_id))
    if excluding is not None:
        held_query = held_query.where(AfterSale.id != excluding)
    held = dict(db.session.execute(held_query).all())
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
                               .execution_options(populate_existing=True))
    return {line.id: max(0, line.quantity - line.refunded_quantity - int(held.get(line.id) or 0)) for line in lines}


def _checked_quantities(available: dict[int, int], quantities: Mapping) -> dict[int, int]:
    wanted: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for line_id, quantity in (quantities or {}).items():
        field = f"lines.{line_id}"
        if line_id not in available:
            errors[field] = [_("This item is not part of the order.")]
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            errors[field] = [_("Enter a number of units from 0 up.")]
        elif quantity > available[line_id]:
            errors[field] = [_("You can ask about at most %(count)d of this item.", count=available[line_id])]
        elif quantity:
            wanted[line_id] = quantity
    if errors:
        raise Invalid(_("Check the quantities."), errors)
    if not wanted:
        message = _("Choose at least one item and how many.")
        raise Invalid(message, {"lines": [message]})
    return wanted


def _lock_order(order_id: int) -> Order:
    return db.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                             .execution_options(populate_existing=True))


def request_after_sale(buyer: User, order_id: int, *, kind: str, quantities: Mapping[int, int], reason: str,
                       note: str = "", photos: Sequence[bytes] = (), now: datetime | None = None) -> AfterSale:
    """The buyer asks for a refund or a return of some units (order line id → units), with a reason from
    REASONS, a note and up to three photos. The shop has AFTERSALE_AUTO_APPROVE_HOURS to answer."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None or order.buyer_id != buyer.id:
        raise NotFound(_("No such order."))
    errors: dict[str, list[str]] = {}
    if kind not in {k.value for k in AfterSaleKind}:
        errors["kind"] = [_("Choose a refund or a return.")]
    elif kind == AfterSaleKind.RETURN and order.shipped_at is None:
        errors["kind"] = [_("Nothing has shipped yet: ask for a refund instead.")]
    if reason not in REASONS:
        errors["reason"] = [_("Choose a reason from the list.")]
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [_("Keep the note under %(count)d characters.", count=NOTE_MAX)]
    photos = [data for data in photos if data]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("Add at most %(count)d photos.", count=MAX_PHOTOS)]
    if order.status not in KEPT_STATUSES:
        raise Conflict(_("Only a paid order can have an after-sales request."), code="not-eligible")
    if not return_window_open(order, now):
        raise Conflict(_("The return window for this order has closed."), code="return-window-closed")
    try:  # checked again under the order's lock below; here so the form shows every error at once
        _checked_quantities(requestable_units(order), quantities)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(_("Check your request."), errors)
    prepared = prepare_uploads(photos, [Rendition("aftersales", PHOTO_WIDTH)], field="photos",
                               max_bytes=PHOTO_MAX_BYTES) if photos else []
    with unit_of_work():
        order = _lock_order(order.id)  # two requests at once cannot both take the same units
        if order.status not in KEPT_STATUSES:
            raise Conflict(_("Only a paid order can have an after-sales request."), code="not-eligible")
        wanted = _checked_quantities(requestable_units(order), quantities)
        after_sale = AfterSale(order_id=order.id, buyer_id=buyer.id, shop_id=order.shop_id, kind=kind,
                               status=AfterSaleStatus.REQUESTED, reason=reason, note=note,
                               respond_by=now + timedelta(hours=auto_approve_hours()), created_at=now,
                               updated_at=now)
        after_sale.lines = [AfterSaleLine(order_line_id=line_id, quantity=count)
                            for line_id, count in sorted(wanted.items())]
        after_sale.photos = [AfterSalePhoto(path=store_encoded(image), position=i)
                             for i, (image,) in enumerate(prepared)]
        db.session.add(after_sale)
        db.session.flush()
        _record(after_sale, None, AfterSaleStatus.REQUESTED, buyer.id, note, now)
    return after_sale


def add_after_sale_photos(buyer: User, after_sale_id: int, photos: Sequence[bytes]) -> AfterSale:
    """The buyer adds photos to a request the shop has not answered yet (at most three in all)."""
    after_sale = _as_buyer(buyer, after_sale_id)
    photos = [data for data in photos if data]
    if not photos:
        raise Invalid(_("Attach at least one photo."), {"photos": [_("Attach at least one photo.")]})
    if after_sale.status != AfterSaleStatus.REQUESTED:
        raise Conflict(_("Photos can be added only while the shop has not answered."), code="not-awaiting-shop")
    if len(after_sale.photos) + len(photos) > MAX_PHOTOS:
        raise Invalid(_("Add at most %(count)d photos.", count=MAX_PHOTOS),
                      {"photos": [_("Add at most %(count)d photos.", count=MAX_PHOTOS)]})
    prepared = prepare_uploads(photos, [Rendition("aftersales", PHOTO_WIDTH)], field="photos",
                               max_bytes=PHOTO_MAX_BYTES)
    with unit_of_work():
        locked = db.session.scalar(select(AfterSale).where(AfterSale.id == after_sale.id).with_for_update()
                                   .execution_options(populate_existing=True))
        count = db.session.scalar(select(func.count()).select_from(AfterSalePhoto)
                                  .where(AfterSalePhoto.after_sale_id == locked.id))
        if count + len(prepared) > MAX_PHOTOS:
            raise Invalid(_("Add at most %(count)d photos.", count=MAX_PHOTOS),
                          {"photos": [_("Add at most %(count)d photos.", count=MAX_PHOTOS)]})
        for i, (image,) in enumerate(prepared):
            db.session.add(AfterSalePhoto(after_sale_id=locked.id, path=store_encoded(image), position=count + i))
    db.session.refresh(after_sale)
    return after_sale


# --- who may act -----------------------------------------------------------------------------------------

def _get(after_sale_id: int) -> AfterSale:
    after_sale = db.session.get(AfterSale, after_sale_id)
    if after_sale is None:
        raise NotFound(_("No such after-sales request."))
    return after_sale


def _shop_owner_id(after_sale: AfterSale) -> int:
    return db.session.scalar(select(Shop.owner_id).where(Shop.id == after_sale.shop_id))


def _as_shop(actor: User, after_sale_id: int) -> AfterSale:
    after_sale = _get(after_sale_id)
    if actor.id == after_sale.buyer_id:
        raise Forbidden(_("Only the shop can answer a request on its order."), code="not-your-shop")
    if actor.id != _shop_owner_id(after_sale) and not actor.is_admin:
        raise Forbidden(_("Only the shop can answer a request on its order."), code="not-your-shop")
    return after_sale


def _as_buyer(actor: User, after_sale_id: int) -> AfterSale:
    after_sale = _get(after_sale_id)
    if actor.id != after_sale.buyer_id:
        raise NotFound(_("No such after-sales request."))
    return after_sale


def after_sale_for(viewer: User, after_sale_id: int) -> AfterSale:
    """A request as its buyer, its shop or an admin may see it (NotFound for anyone else)."""
    after_sale = db.session.scalar(select(AfterSale).where(AfterSale.id == after_sale_id)
                                   .options(selectinload(AfterSale.lines).joinedload(AfterSaleLine.order_line),
                                            selectinload(AfterSale.photos), selectinload(AfterSale.events)))
    if after_sale is None or (viewer.id not in (after_sale.buyer_id, _shop_owner_id(after_sale))
                              and not viewer.is_admin):
        raise NotFound(_("No such after-sales request."))
    return after_sale


# --- moves -----------------------------------------------------------------------------------------------

def _refund(after_sale: AfterSale, actor_id: int | None, now: datetime, note: str) -> None:
    """Send the request's refund and record it on the request (inside the caller's unit)."""
    quantities = {line.order_line_id: line.quantity for line in after_sale.lines}
    refund = refund_for_after_sale(after_sale.order_id, quantities, note or _("After-sales request #%(id)s",
                                                                              id=after_sale.id),
                                   actor_id=actor_id, now=now)
    db.session.execute(update(AfterSale).where(AfterSale.id == after_sale.id).values(refund_id=refund.id)
                       .execution_options(synchronize_session=False))
    set_committed_value(after_sale, "refund_id", refund.id)


def _approve(after_sale: AfterSale, actor_id: int | None, now: datetime, note: str, strict: bool = True) -> bool:
    """Refund now (a refund request), or ask the buyer to send the goods back (a return)."""
    if after_sale.kind == AfterSaleKind.RETURN and after_sale.return_tracking is None:
        return transition_after_sale(after_sale, AfterSaleStatus.AWAITING_RETURN, actor_id=actor_id, now=now,
                                     note=note, values={"respond_by": None}, strict=strict)
    if not transition_after_sale(after_sale, AfterSaleStatus.REFUNDED, actor_id=actor_id, now=now, note=note,
                                 values={"respond_by": None}, strict=strict):
        return False
    _refund(after_sale, actor_id, now, note)
    return True


def approve_after_sale(actor: User, after_sale_id: int, note: str = "", now: datetime | None = None) -> AfterSale:
    """The shop (or an admin) approves: a refund is sent at once; a return waits for the goods."""
    now = now or clock_now()
    after_sale = _as_shop(actor, after_sale_id)
    if after_sale.status != AfterSaleStatus.REQUESTED:
        raise Conflict(_("Only a request waiting for the shop can be approved."), code="not-awaiting-shop")
    with unit_of_work():
        _approve(after_sale, actor.id, now, note)
    return after_sale


def _reason_text(reason: str, field: str = "reason") -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(_("Say why."), {field: [_("Say why.")]})
    if len(reason) > 500:
        raise Invalid(_("Keep it under 500 characters."), {field: [_("Keep it under 500 characters.")]})
    return reason


def decline_after_sale(actor: User, after_sale_id: int, reason: str, now: datetime | None = None) -> AfterSale:
    """The shop declines a request (or a returned parcel) with a reason the buyer sees."""
    now = now or clock_now()
    reason = _reason_text(reason)
    after_sale = _as_shop(actor, after_sale_id)
    with unit_of_work():
        transition_after_sale(after_sale, AfterSaleStatus.DECLINED, actor_id=actor.id, now=now, note=reason,
                              values={"decline_reason": reason, "respond_by": None})
    return after_sale


def submit_return_tracking(buyer: User, after_sale_id: int, tracking_number: str,
                           now: datetime | None = None) -> AfterSale:
    """The buyer sent the goods back; the shop has AFTERSALE_AUTO_APPROVE_HOURS to confirm receipt."""
    now = now or clock_now()
    tracking = " ".join((tracking_number or "").split())
    if not tracking or len(tracking) > 64:
        message = _("Enter the tracking number (up to 64 characters).")
        raise Invalid(message, {"tracking_number": [message]})
    after_sale = _as_buyer(buyer, after_sale_id)
    with unit_of_work():
        transition_after_sale(after_sale, AfterSaleStatus.RETURN_SHIPPED, actor_id=buyer.id, now=now, note=tracking,
                              values={"return_tracking": tracking,
                                      "respond_by": now + timedelta(hours=auto_approve_hours())})
    return after_sale


def confirm_return_received(actor: User, after_sale_id: int, now: datetime | None = None) -> AfterSale:
    """The shop has the goods back: the refund is sent."""
    now = now or clock_now()
    after_sale = _as_shop(actor, after_sale_id)
    if after_sale.status != AfterSaleStatus.RETURN_SHIPPED:
        raise Conflict(_("Only a return on its way back can be confirmed."), code="not-return-shipped")
    with unit_of_work():
        transition_after_sale(after_sale, AfterSaleStatus.REFUNDED, actor_id=actor.id, now=now,
                              values={"respond_by": None})
        _refund(after_sale, actor.id, now, "")
    return after_sale


def escalate_after_sale(buyer: User, after_sale_id: int, note: str = "", now: datetime | None = None) -> AfterSale:
    """A declined buyer asks the site's admins to decide — once per request."""
    now = now or clock_now()
    after_sale = _as_buyer(buyer, after_sale_id)
    if after_sale.escalated_at is not None:
        raise Conflict(_("This request has already been escalated once."), code="already-escalated")
    note = (note or "").strip()
    if len(note) > 500:
        raise Invalid(_("Keep it under 500 characters."), {"note": [_("Keep it under 500 characters.")]})
    with unit_of_work():
        order = _lock_order(after_sale.order_id)
        available = requestable_units(order, excluding=after_sale.id)
        if any(line.quantity > available.get(line.order_line_id, 0) for line in after_sale.lines):
            raise Conflict(_("These items have been refunded or asked about since."), code="units-taken")
        # escalated_at IS NULL in the same conditional update: two escalations at once, one wins.
        moved = db.session.execute(update(AfterSale).where(AfterSale.id == after_sale.id,
                                                           AfterSale.escalated_at.is_(None))
                                   .values(escalated_at=now).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            raise Conflict(_("This request has already been escalated once."), code="already-escalated")
        set_committed_value(after_sale, "escalated_at", now)
        transition_after_sale(after_sale, AfterSaleStatus.ESCALATED, actor_id=buyer.id, now=now, note=note)
    return after_sale


RESOLUTIONS = ("refund", "close")


def resolve_escalation(admin: User, after_sale_id: int, decision: str, note: str,
                       now: datetime | None = None) -> AfterSale:
    """An admin decides an escalated request: `refund` (a return first waits for the goods) or `close`."""
    now = now or clock_now()
    if not admin.is_admin:
        raise Forbidden(_("Only the site's administrators decide escalated requests."))
    if decision not in RESOLUTIONS:
        raise Invalid(_("Choose to refund or to close."), {"decision": [_("Choose to refund or to close.")]})
    note = _reason_text(note, "note")
    after_sale = _get(after_sale_id)
    if after_sale.status != AfterSaleStatus.ESCALATED:
        raise Conflict(_("Only an escalated request can be decided here."), code="not-escalated")
    with unit_of_work():
        if decision == "close":
            transition_after_sale(after_sale, AfterSaleStatus.CLOSED, actor_id=admin.id, now=now, note=note)
        else:
            _approve(after_sale, admin.id, now, note)
    return after_sale


def cancel_after_sale(buyer: User, after_sale_id: int, now: datetime | None = None) -> AfterSale:
    """The buyer withdraws a request the shop has not refunded."""
    now = now or clock_now()
    after_sale = _as_buyer(buyer, after_sale_id)
    with unit_of_work():
        transition_after_sale(after_sale, AfterSaleStatus.CANCELLED, actor_id=buyer.id, now=now,
                              values={"respond_by": None})
    return after_sale


def approve_overdue_after_sales(now: datetime | None = None) -> int:
    """Job: a request (or a returned parcel) the shop left unanswered past `respond_by` is approved
    (the parcel's refund sent). Idempotent and safe on several workers; returns how many it moved."""
    now = now or clock_now()
    with unit_of_work():
        due = list(db.session.scalars(
            select(AfterSale.id).where(AfterSale.status.in_([AfterSaleStatus.REQUESTED,
                                                             AfterSaleStatus.RETURN_SHIPPED]),
                                       AfterSale.respond_by.is_not(None), AfterSale.respond_by <= now)
            .order_by(AfterSale.id)))
    count = 0
    note = _("Approved automatically: the shop did not answer in time.")
    for after_sale_id in due:
        try:
            with unit_of_work():
                after_sale = db.session.get(AfterSale, after_sale_id, populate_existing=True)
                if after_sale.status == AfterSaleStatus.REQUESTED:
                    moved = _approve(after_sale, None, now, note, strict=False)
                elif after_sale.status == AfterSaleStatus.RETURN_SHIPPED:
                    moved = transition_after_sale(after_sale, AfterSaleStatus.REFUNDED, actor_id=None, now=now,
                                                  note=note, values={"respond_by": None}, strict=False)
                    if moved:
                        _refund(after_sale, None, now, note)
                else:
                    moved = False
        except DomainError:  # e.g. the shop refunded the units by hand meanwhile: leave it for a person
            current_app.logger.warning("after-sales request %s could not be approved automatically", after_sale_id)
            continue
        count += int(bool(moved))
    return count


# --- reading ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    """One line of an order's history: an order move or an after-sales step."""

    at: datetime
    order_status: str | None
    after_sale_id: int | None
    after_sale_status: str | None
    note: str


def order_history(order: Order) -> list[HistoryEntry]:
    """The order's moves and its after-sales steps, oldest first."""
    entries = [HistoryEntry(event.created_at, event.to_status, None, None, "") for event in order.events]
    for event in db.session.scalars(select(AfterSaleEvent).where(AfterSaleEvent.order_id == order.id)
                                    .order_by(AfterSaleEvent.id)):
        entries.append(HistoryEntry(event.created_at, None, event.after_sale_id, event.to_status, event.note))
    return sorted(entries, key=lambda entry: entry.at)


def after_sales_of_order(order: Order) -> list[AfterSale]:
    return list(db.session.scalars(select(AfterSale).where(AfterSale.order_id == order.id)
                                   .options(selectinload(AfterSale.lines)).order_by(AfterSale.id)))


def _listing(query, status: str | None, cursor: str | None, limit: int | None) -> Page:
    if status:
        if status not in {s.value for s in AfterSaleStatus}:
            raise Invalid(_("Unknown request status."), {"status": [_("Unknown request status.")]})
        query = query.where(AfterSale.status == status)
    query = query.options(selectinload(AfterSale.lines).joinedload(AfterSaleLine.order_line),
                          selectinload(AfterSale.photos))
    return paginate(query, [int_key(AfterSale.id, "id")], cursor, clamp_limit(limit))


def buyer_after_sales_page(buyer: User, *, status: str | None = None, cursor: str | None = None,
                           limit: int | None = None) -> Page:
    """The buyer's requests, newest first."""
    return _listing(select(AfterSale).where(AfterSale.buyer_id == buyer.id), status, cursor, limit)


def shop_after_sales_page(merchant: User, shop_id: int, *, status: str | None = None, cursor: str | None = None,
                          limit: int | None = None) -> Page:
    """A shop's requests for its owner (or an admin), newest first."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or (shop.owner_id != merchant.id and not merchant.is_admin):
        raise Forbidden(_("Only the shop's owner can see its after-sales requests."), code="not-your-shop")
    return _listing(select(AfterSale).where(AfterSale.shop_id == shop.id), status, cursor, limit)


def escalated_page(admin: User, *, cursor: str | None = None, limit: int | None = None) -> Page:
    """Requests escalated to the admins and not decided yet."""
    if not admin.is_admin:
        raise Forbidden(_("Only the site's administrators decide escalated requests."))
    return _listing(select(AfterSale), AfterSaleStatus.ESCALATED, cursor, limit)
