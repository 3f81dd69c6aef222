"""Payments: the provider interface, the sandbox provider, starting a payment, callbacks and refunds.

How a real provider (Alipay, WeChat Pay, Stripe…) plugs in
----------------------------------------------------------
Write a class with the `PaymentProvider` shape and register it under a name::

    class AlipayProvider:
        name = "alipay"
        def create_payment(self, payment) -> str: ...        # create the charge there; return its pay URL
        def verify_callback(self, payload: bytes, signature: str) -> CallbackEvent: ...
        def refund(self, payment, amount_cents, idempotency_key) -> str: ...

    register_provider("alipay", lambda app: AlipayProvider(app.config[...]))

and set PAYMENT_PROVIDER=alipay. `verify_callback` checks the provider's signature over the *raw* request
body (raise CallbackRejected with a reason when it does not hold) and translates the provider's fields
into a CallbackEvent (our payment id, amount in minor units, currency, succeeded/failed, their reference).
Everything else — amount and currency checks, idempotency, the callback log, paying orders, refunding a
late payment — is done here, the same for every provider. `refund` must pass `idempotency_key` to the
provider (Stripe's Idempotency-Key, Alipay's out_request_no) so a retried refund is never paid twice.

The sandbox provider stands in for a real one in development and tests: its pay page is
/pay/sandbox/<payment_id>, and its callbacks are JSON bodies signed with HMAC-SHA256 under a key derived
from SECRET_KEY. Its Pay button moves no money, so its routes exist only while PAYMENT_PROVIDER=sandbox,
and production refuses to start with it unless ALLOW_SANDBOX_PAYMENTS=1 (a staging server).

Idempotency: a payment moves created → succeeded with a conditional UPDATE, so of two identical
callbacks (replayed, or delivered twice at once) exactly one pays the orders; the other is logged as a
duplicate. A success that arrives after its orders were cancelled (reservation expired) refunds them,
once, in the same transaction that recorded the success.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import Conflict, NotFound
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.shop import coupons, hooks
from app.shop.models import (
    PAYMENT_TRANSITIONS,
    Order,
    OrderStatus,
    Payment,
    PaymentCallback,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundStatus,
)
from app.shop.orders import cancel_unpaid_orders, notify_order_parties, queue_sold_products, transition_order


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback, in our terms."""

    payment_id: int
    status: str  # "succeeded" or "failed"
    amount_cents: int
    currency: str
    provider_ref: str


class CallbackRejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, payment: Payment) -> str:
        """Open the payment at the provider; return the URL to send the buyer to. Called again when the
        buyer comes back to pay, so it must not open a second charge (use payment.id as their order number).
        Close the provider's session at `payment_deadline(payment)`: the stock is held until then, no longer."""

    def verify_callback(self, payload: bytes, signature: str) -> CallbackEvent:
        """Check the signature over the raw body and parse it, or raise CallbackRejected."""

    def refund(self, payment: Payment, amount_cents: int, idempotency_key: str) -> str:
        """Send money back; return the provider's reference. Must be idempotent on `idempotency_key`."""


class SandboxProvider:
    """A provider that moves no money: pay page /pay/sandbox/<id>, HMAC-SHA256 signed JSON callbacks."""

    name = "sandbox"

    def __init__(self, secret_key: str):
        self._key = hmac.new(secret_key.encode(), b"tastemaker:sandbox-payments", hashlib.sha256).digest()

    def create_payment(self, payment: Payment) -> str:
        return f"/pay/sandbox/{payment.id}"

    def sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def callback_for(self, payment: Payment, status: str = "succeeded", *, amount_cents: int | None = None,
                     currency: str | None = None) -> tuple[bytes, str]:
        """The signed body the sandbox pay page posts back (tests use it to play the provider)."""
        body = json.dumps({
            "payment_id": payment.id, "status": status,
            "amount_cents": payment.amount_cents if amount_cents is None else amount_cents,
            "currency": currency or payment.currency, "provider_ref": f"sandbox-{uuid.uuid4().hex[:16]}",
        }, sort_keys=True, separators=(",", ":")).encode()
        return body, self.sign(body)

    def verify_callback(self, payload: bytes, signature: str) -> CallbackEvent:
        if not hmac.compare_digest(self.sign(payload), (signature or "").strip().lower()):
            raise CallbackRejected("bad signature")
        try:
            data = json.loads(payload)
            event = CallbackEvent(payment_id=data["payment_id"], status=data["status"],
                                  amount_cents=data["amount_cents"], currency=data["currency"],
                                  provider_ref=str(data.get("provider_ref", ""))[:120])
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("malformed payload") from None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (event.payment_id, event.amount_cents)):
            raise CallbackRejected("malformed payload")
        if event.status not in ("succeeded", "failed") or not isinstance(event.currency, str):
            raise CallbackRejected("malformed payload")
        return event

    def refund(self, payment: Payment, amount_cents: int, idempotency_key: str) -> str:
        return f"sandbox-refund-{idempotency_key[:32]}"


PROVIDERS: dict[str, Callable[..., PaymentProvider]] = {
    "sandbox": lambda app: SandboxProvider(app.config["SECRET_KEY"]),
}


def register_provider(name: str, factory: Callable[..., PaymentProvider]) -> None:
    PROVIDERS[name] = factory


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider by name (default: PAYMENT_PROVIDER, else the sandbox)."""
    name = name or current_app.config.get("PAYMENT_PROVIDER", "sandbox")
    return PROVIDERS[name](current_app)


# --- the payment state machine ----------------------------------------------------------------------------

def transition_payment(payment: Payment, to_status: PaymentStatus, *, values: dict | None = None,
                       strict: bool = True) -> bool:
    """Move a payment along PAYMENT_TRANSITIONS with a conditional update; True when this call moved it."""
    from_status = PaymentStatus(payment.status)
    if to_status not in PAYMENT_TRANSITIONS[from_status]:
        if strict:
            raise Conflict(_("This payment cannot change from %(current)s to %(wanted)s.",
                             current=str(from_status), wanted=str(to_status)), code="invalid-transition")
        return False
    changes = {"status": str(to_status), **(values or {})}
    result = db.session.execute(update(Payment).where(Payment.id == payment.id,
                                                      Payment.status == str(from_status))
                                .values(**changes).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if strict:
            raise Conflict(_("This payment changed in the meantime. Reload and try again."), code="concurrent-change")
        return False
    for key, value in changes.items():
        set_committed_value(payment, key, value)
    return True


def payment_deadline(payment: Payment) -> datetime | None:
    """The end of the payment window: when the first of its orders stops holding stock."""
    return min((order.reserved_until for order in payment.orders), default=None)


def payment_of(buyer: User, payment_id: int) -> Payment:
    """The buyer's own payment (with its orders), or NotFound for anyone else's."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.buyer_id != buyer.id:
        raise NotFound(_("No such payment."))
    return payment


def start_payment(buyer: User, payment_id: int, provider: PaymentProvider | None = None,
                  now: datetime | None = None) -> str:
    """Where to send the buyer to pay a checkout; refused once the checkout is paid, cancelled or expired."""
    now = now or clock_now()
    provider = provider or get_provider()
    payment = payment_of(buyer, payment_id)
    if payment.status not in (PaymentStatus.CREATED, PaymentStatus.FAILED):
        raise Conflict(_("This order has already been paid."), code="already-paid")
    for order in payment.orders:
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(_("This order was cancelled and can no longer be paid."), code="order-cancelled")
        if order.reserved_until <= now:
            raise Conflict(_("The items are no longer held for you. Add them to your cart again."),
                           code="reservation-expired")
    return provider.create_payment(payment)


# --- callbacks --------------------------------------------------------------------------------------------

def handle_payment_callback(provider: PaymentProvider, payload: bytes | str, signature: str,
                            now: datetime | None = None) -> PaymentCallback:
    """Verify and apply one provider callback; every call is logged with its outcome, and only a verified
    callback for the right payment, amount and currency changes anything. Idempotent."""
    now = now or clock_now()
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    log = {"provider": provider.name, "payload": raw.decode("utf-8", "replace")[:20_000],
           "signature": (signature or "")[:200], "received_at": now}
    try:
        event = provider.verify_callback(raw, signature or "")
    except CallbackRejected as exc:
        return _log_callback(log, "rejected", exc.reason)
    if not 0 < event.payment_id < 2**31:
        return _log_callback({**log, "verified": True}, "rejected", "unknown payment")
    log.update(verified=True, payment_id=event.payment_id)
    payment = db.session.scalar(select(Payment).where(Payment.id == event.payment_id)
                                .execution_options(populate_existing=True))
    if payment is None or payment.provider != provider.name:
        return _log_callback(log, "rejected", "unknown payment")
    if event.amount_cents != payment.amount_cents or event.currency != payment.currency:
        return _log_callback(log, "rejected", f"amount mismatch: got {event.amount_cents} {event.currency}, "
                                              f"expected {payment.amount_cents} {payment.currency}")
    try:
        with unit_of_work():
            if event.status == "failed":
                moved = transition_payment(payment, PaymentStatus.FAILED, strict=False)
                return _log_callback(log, "failed" if moved else "duplicate", "" if moved else "already settled")
            outcome, reason = _record_success(provider, payment, event, now)
            return _log_callback(log, outcome, reason)
    except Exception:  # the unit rolled the effect back; the log row says so in a transaction of its own
        _log_callback(log, "error", "exception while applying; rolled back")
        raise


@transactional
def _log_callback(fields: dict, outcome: str, reason: str) -> PaymentCallback:
    """Write the log row in the same transaction as the callback's effect (joining its unit of work)."""
    entry = PaymentCallback(outcome=outcome, reason=reason[:300], **fields)
    db.session.add(entry)
    return entry


def _record_success(provider: PaymentProvider, payment: Payment, event: CallbackEvent,
                    now: datetime) -> tuple[str, str]:
    if not transition_payment(payment, PaymentStatus.SUCCEEDED, strict=False,
                              values={"provider_ref": event.provider_ref, "succeeded_at": now}):
        return "duplicate", "payment already recorded"
    # Money arrived after the hold ran out: the orders are cancelled (if the job has not done it yet)…
    cancel_unpaid_orders(payment.id, actor_id=None, note="reservation expired", now=now, overdue_only=True)
    orders = list(db.session.scalars(select(Order).where(Order.payment_id == payment.id).order_by(Order.id)
                                     .execution_options(populate_existing=True)))
    paid, late = [], []
    for order in orders:
        if order.status == OrderStatus.PENDING_PAYMENT and transition_order(
                order, OrderStatus.PAID, now=now, strict=False, note=f"paid via {provider.name}"):
            queue_sold_products(order)
            notify_order_parties(order, OrderStatus.PAID)
            paid.append(order)
        else:
            late.append(order)
    if paid:
        coupons.consume_redemption(payment.id, now)
    # …and whatever could not be paid is sent back, in this same transaction, so exactly once.
    for order in late:
        issue_refund(provider, payment, order, order.total_cents, actor_id=None,
                     reason="paid after the order was cancelled", now=now)
    if not late:
        return "paid", ""
    return ("paid", "some orders refunded: paid late") if paid else ("refunded", "paid after cancellation")


# --- refunds through the provider -------------------------------------------------------------------------

def issue_refund(provider: PaymentProvider, payment: Payment, order: Order, amount_cents: int, *,
                 actor_id: int | None, reason: str, now: datetime,
                 lines: list[tuple[int, int, int]] = (), idempotency_key: str | None = None) -> Refund:
    """Record and send a refund of `amount_cents` of `payment` for `order` (lines: order line id, quantity,
    amount). Runs inside the caller's transaction; the payment's refunded total only grows through a
    conditional update bounded by the amount paid, so no refund can exceed what was paid. A caller that
    retries a refund passes its own stable `idempotency_key` (unique among refunds, and sent to the
    provider), so a retry after a failure can never refund twice."""
    if amount_cents > 0:  # units whose price the discount covered entirely move no money
        grown = db.session.execute(
            update(Payment).where(Payment.id == payment.id,
                                  Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED]),
                                  Payment.refunded_cents + amount_cents <= Payment.amount_cents)
            .values(refunded_cents=Payment.refunded_cents + amount_cents)
            .execution_options(synchronize_session=False))
        if grown.rowcount != 1:
            raise Conflict(_("This payment cannot be refunded by that much."), code="refund-exceeds-payment")
        db.session.refresh(payment)  # the row is locked by the update above, so this read is current
        wanted = PaymentStatus.REFUNDED if payment.refunded_cents == payment.amount_cents \
            else PaymentStatus.PARTIALLY_REFUNDED
        transition_payment(payment, wanted)
        bounded = db.session.execute(update(Order).where(Order.id == order.id,
                                                         Order.refunded_cents + amount_cents <= Order.total_cents)
                                     .values(refunded_cents=Order.refunded_cents + amount_cents)
                                     .execution_options(synchronize_session=False))
        if bounded.rowcount != 1:
            raise Conflict(_("This order cannot be refunded by that much."), code="refund-exceeds-payment")
        set_committed_value(order, "refunded_cents", order.refunded_cents + amount_cents)
    refund = Refund(payment_id=payment.id, order_id=order.id, amount_cents=amount_cents, currency=payment.currency,
                    status=RefundStatus.SUCCEEDED, reason=reason[:300], actor_id=actor_id,
                    idempotency_key=idempotency_key or uuid.uuid4().hex, created_at=now)
    refund.lines = [RefundLine(order_line_id=line_id, quantity=quantity, amount_cents=cents)
                    for line_id, quantity, cents in lines]
    db.session.add(refund)
    db.session.flush()
    hooks.refund_issued(order, refund, now)
    if amount_cents > 0:
        refund.provider_ref = provider.refund(payment, amount_cents, refund.idempotency_key)
    return refund


# --- what the buyer sees of a payment ---------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentState:
    """A buyer's payment and, while it can still be paid, where to pay it (else why not)."""

    payment: Payment
    redirect_url: str | None
    refusal: str | None


def payment_state(buyer: User, payment_id: int, provider: PaymentProvider | None = None,
                  now: datetime | None = None) -> PaymentState:
    """The buyer's own payment with the provider's pay URL while start_payment would allow paying."""
    payment = payment_of(buyer, payment_id)
    try:
        return PaymentState(payment, start_payment(buyer, payment_id, provider, now), None)
    except Conflict as refused:
        return PaymentState(payment, None, refused.message)
