"""Checkout: turn a cart (or a list of lines) into one order per shop and one payment for them all.

Every price is read from the SKUs on the server; a price a client sends is only compared, and a mismatch
refuses the checkout (the buyer must see what they pay). Stock is reserved with conditional updates
(`stock = stock - n WHERE stock >= n`, row count checked), in SKU id order so concurrent checkouts cannot
deadlock; the whole checkout is one transaction, so a refusal anywhere changes nothing.

An API client may send an Idempotency-Key with a checkout (see `check_out`): a retry with the same key and
body answers the checkout the first request placed instead of placing a second one.

A domain above the shop (group-buys) places orders through this same checkout with `TrustedTerms`: a price
per SKU that replaces the SKU's own, a hold that keeps the paid orders out of "to ship", and two callbacks
that run inside the checkout's transaction (one before any stock moves, one once the orders exist). Terms
are built by that domain's service from its own rows, never from what a client sent.

Holds are capped per buyer, so nobody can keep a product "sold out" without paying: at most
MAX_UNPAID_ORDERS orders awaiting payment at once, and at most MAX_HELD_UNITS_PER_SKU units of one SKU in
them (counting the checkout being placed). The count is taken under a lock on the buyer's own users row
(FOR NO KEY UPDATE on PostgreSQL, which leaves the row free for the foreign-key checks of notifications and
orders; SQLite lets one writer through at a time), so two concurrent checkouts by one buyer are counted
one after the other. A hold lasts ORDER_RESERVATION_MINUTES, which is also the payment window.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.communities.services import ensure_may_participate
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.parsing import MAX_ID, parse_id, parse_whole_number
from app.core.uow import unit_of_work
from app.extensions import db
from app.posts.models import STATUS_PUBLISHED, Post
from app.search.queue import queue_product_counts
from app.shop import coupons, hooks
from app.shop.models import (
    Address,
    Cart,
    CartItem,
    CheckoutKey,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PostProduct,
    Product,
    Sku,
)
from app.shop.orders import reservation_minutes
from app.shop.payments import get_provider, payment_state, start_payment
from app.shop.pricing import split_proportionally

MAX_LINES = 50


def max_quantity() -> int:
    """Most units of one SKU in one order (ORDER_MAX_QUANTITY, default 99)."""
    return int(current_app.config.get("ORDER_MAX_QUANTITY", 99))


def parse_quantity(value, field: str = "quantity") -> int:
    """A quantity from a form or JSON: a whole number from 1 to ORDER_MAX_QUANTITY, or Invalid."""
    if isinstance(value, int) and not isinstance(value, bool):
        quantity = value
    elif isinstance(value, str) and parse_whole_number(value, max_digits=9, signed=True) is not None:
        quantity = parse_whole_number(value, max_digits=9, signed=True)
    else:
        message = _("Enter the quantity as a whole number.")
        raise Invalid(message, {field: [message]})
    if quantity < 1:
        message = _("The quantity must be at least 1.")
        raise Invalid(message, {field: [message]})
    if quantity > max_quantity():
        message = _("You can order at most %(max)d of one item at a time.", max=max_quantity())
        raise Invalid(message, {field: [message]})
    return quantity


def is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _parse_id(value, field: str) -> int:
    if isinstance(value, str):
        value = parse_id(value)
    if is_id(value):
        return value
    message = _("Choose an item to buy.")
    raise Invalid(message, {field: [message]})


@dataclass(frozen=True)
class RequestedLine:
    sku_id: int
    quantity: int
    product_id: int | None = None  # what the client believes the SKU belongs to; checked
    unit_price_cents: int | None = None  # what the client showed the buyer; checked, never used
    source_post_id: int | None = None  # the note whose product card led here


@dataclass
class Checkout:
    payment: Payment
    orders: list[Order]


@dataclass(frozen=True)
class TrustedTerms:
    """What a trusted caller (a service above the shop, never user input) places an order on.

    `unit_prices`: SKU id → the price to charge instead of the SKU's price (a group price); a SKU not in it is
    refused. `hold_reason`: the orders are held (paid but not shippable, not in "to ship") until
    `orders.release_holds`. `reference` is folded into the Idempotency-Key fingerprint, so one key cannot answer
    two different targets. `before_stock()` runs in the checkout's transaction after the buyer's lock and
    before any stock moves (claim a seat there: lock order buyer → group → SKUs); `after_orders(checkout)`
    runs once the orders and the payment exist, in the same transaction. Either may raise a DomainError,
    which refuses the whole checkout.
    """

    unit_prices: Mapping[int, int]
    hold_reason: str | None = None
    reference: str = ""
    before_stock: Callable[[], None] | None = None
    after_orders: Callable[[Checkout], None] | None = None


def _requested_lines(buyer: User, cart_or_lines: Cart | Sequence[Mapping]) -> list[RequestedLine]:
    """Validate the shape and quantities of what was asked for; the same SKU twice is one line."""
    if isinstance(cart_or_lines, Cart):
        if cart_or_lines.user_id != buyer.id:
            raise Forbidden(_("This is not your cart."), code="not-your-cart")
        raw = [{"sku_id": item.sku_id, "quantity": item.quantity, "source_post_id": item.source_post_id}
               for item in cart_or_lines.items]
    elif isinstance(cart_or_lines, Sequence) and not isinstance(cart_or_lines, (str, bytes)):
        raw = list(cart_or_lines)
    else:
        raise Invalid(_("Your cart is empty."), {"lines": [_("Your cart is empty.")]}, code="cart-empty")
    if not raw:
        raise Invalid(_("Your cart is empty."), {"lines": [_("Your cart is empty.")]}, code="cart-empty")
    if len(raw) > MAX_LINES:
        message = _("An order can have at most %(max)d different items.", max=MAX_LINES)
        raise Invalid(message, {"lines": [message]})
    merged: dict[int, RequestedLine] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise Invalid(_("Choose an item to buy."), {f"lines.{index}": [_("Choose an item to buy.")]})
        sku_id = _parse_id(item.get("sku_id"), f"lines.{index}.sku_id")
        quantity = parse_quantity(item.get("quantity"), f"lines.{index}.quantity")
        product_id = item.get("product_id")
        product_id = None if product_id is None else _parse_id(product_id, f"lines.{index}.product_id")
        price = item.get("unit_price_cents")
        if price is not None and (not isinstance(price, int) or isinstance(price, bool)):
            message = _("The price sent with this item is not valid.")
            raise Invalid(message, {f"lines.{index}.unit_price_cents": [message]})
        source = item.get("source_post_id")
        source = source if is_id(source) else None
        if sku_id in merged:
            quantity = parse_quantity(merged[sku_id].quantity + quantity, f"lines.{index}.quantity")
            product_id = merged[sku_id].product_id if product_id is None else product_id
            price = merged[sku_id].unit_price_cents if price is None else price
            source = merged[sku_id].source_post_id or source
        merged[sku_id] = RequestedLine(sku_id, quantity, product_id, price, source)
    return list(merged.values())


def _buyer_address(buyer: User, address_id) -> Address:
    address = None
    if is_id(address_id):
        address = db.session.get(Address, address_id)
    if address is None or address.user_id != buyer.id or address.deleted_at is not None:
        message = _("Choose one of your saved addresses.")
        raise Invalid(message, {"address_id": [message]})
    return address


def ensure_may_buy_from_notes(buyer: User, post_ids) -> None:
    """A member banned from a community cannot buy from its notes' product cards (checkout-from-note)."""
    ids = {post_id for post_id in post_ids if post_id}
    if not ids:
        return
    for community_id in set(db.session.scalars(select(Post.community_id).where(Post.id.in_(ids)))):
        ensure_may_participate(buyer, community_id)


def attributions(pairs, buyer_id: int | None = None) -> dict[tuple[int, int], int]:
    """(post id, product id) → the post's author, for the notes a purchase started from: only a published
    note that tags that very product earns the attribution (a card cannot be borrowed for another product),
    and never the buyer's own note (nobody earns from their own purchase)."""
    wanted = {(post_id, product_id) for post_id, product_id in pairs if is_id(post_id) and is_id(product_id)}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(PostProduct.post_id, PostProduct.product_id, Post.author_id)
        .join(Post, Post.id == PostProduct.post_id)
        .where(PostProduct.post_id.in_({post_id for post_id, _p in wanted}),
               PostProduct.product_id.in_({product_id for _p, product_id in wanted}),
               Post.status == STATUS_PUBLISHED))
    return {(row.post_id, row.product_id): row.author_id for row in rows
            if (row.post_id, row.product_id) in wanted and row.author_id != buyer_id}


@dataclass
class PricedCheckout:
    """What a checkout would cost, priced from the SKUs on the server (shared by quote and place)."""

    requested: list[RequestedLine]
    skus: dict[int, Sku]
    by_shop: dict[int, list[RequestedLine]]
    subtotals: dict[int, int]
    currency: str
    quote: coupons.CouponQuote | None
    unit_prices: Mapping[int, int] | None = None  # TrustedTerms' prices, replacing the SKUs' own

    def unit_price_cents(self, sku_id: int) -> int:
        if self.unit_prices is not None:
            return self.unit_prices[sku_id]
        return self.skus[sku_id].price_cents

    @property
    def discounts(self) -> dict[int, int]:
        return self.quote.discounts if self.quote else {}

    @property
    def subtotal_cents(self) -> int:
        return sum(self.subtotals.values())

    @property
    def discount_cents(self) -> int:
        return sum(self.discounts.values())

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents

    def shop_total_cents(self, shop_id: int) -> int:
        """What the buyer pays the shop: its subtotal less its part of the discount."""
        return self.subtotals[shop_id] - self.discounts.get(shop_id, 0)

    def line_total_cents(self, line: RequestedLine) -> int:
        return self.unit_price_cents(line.sku_id) * line.quantity

    def line_discounts(self, shop_id: int) -> list[int]:
        """The shop's discount split over its lines in proportion to their totals (what a refund returns)."""
        return split_proportionally(self.discounts.get(shop_id, 0),
                                    [self.line_total_cents(line) for line in self.by_shop[shop_id]])


def price_checkout(buyer: User, cart_or_lines: Cart | Sequence[Mapping], coupon_code: str | None = None,
                   now: datetime | None = None, unit_prices: Mapping[int, int] | None = None) -> PricedCheckout:
    """Validate every line against what is for sale and in stock, and price it (with the coupon, if any).
    Changes nothing; raises Invalid with per-line errors, or the coupon's refusal. `unit_prices` come from
    a trusted caller only (see TrustedTerms)."""
    return _price_lines(buyer, _requested_lines(buyer, cart_or_lines), coupon_code, now or clock_now(), unit_prices)


def _price_lines(buyer: User, requested: list[RequestedLine], coupon_code: str | None,
                 now: datetime, unit_prices: Mapping[int, int] | None = None) -> PricedCheckout:
    """price_checkout for lines already validated by _requested_lines (so a checkout parses its cart once)."""
    skus = {sku.id: sku for sku in db.session.scalars(
        select(Sku).where(Sku.id.in_([line.sku_id for line in requested]))
        .options(joinedload(Sku.product).joinedload(Product.shop))
        .execution_options(populate_existing=True))}

    errors: dict[str, list[str]] = {}
    for index, line in enumerate(requested):
        sku = skus.get(line.sku_id)
        field = f"lines.{index}"
        if sku is None or not sku.is_active or not sku.product.is_listed:
            errors[f"{field}.sku_id"] = [_("This item is no longer for sale.")]
        elif line.product_id is not None and line.product_id != sku.product_id:
            errors[f"{field}.sku_id"] = [_("This option belongs to another product.")]
        elif unit_prices is not None and sku.id not in unit_prices:
            errors[f"{field}.sku_id"] = [_("This option is not part of the offer.")]
        elif line.unit_price_cents is not None and line.unit_price_cents != (
                unit_prices[sku.id] if unit_prices is not None else sku.price_cents):
            errors[f"{field}.unit_price_cents"] = [
                _("The price of %(title)s has changed; check your cart.", title=sku.product.title)]
        elif line.quantity > sku.stock:
            errors[f"{field}.quantity"] = [_("Only %(count)d left of %(title)s.", count=sku.stock,
                                             title=sku.product.title)]
    if errors:
        # Only short stock: the client may offer to lower the quantities; anything else needs another look.
        short = all(key.endswith(".quantity") for key in errors)
        raise Invalid(_("Some items cannot be ordered as they are."), errors,
                      code="out-of-stock" if short else "items-unavailable")
    currencies = {skus[line.sku_id].currency for line in requested}
    if len(currencies) != 1:
        raise Invalid(_("Items priced in different currencies must be ordered separately."),
                      {"lines": [_("Items priced in different currencies must be ordered separately.")]},
                      code="mixed-currencies")
    currency = currencies.pop()

    by_shop: dict[int, list[RequestedLine]] = {}
    for line in requested:
        by_shop.setdefault(skus[line.sku_id].shop_id, []).append(line)
    priced = PricedCheckout(requested, skus, by_shop, {}, currency, None, unit_prices)
    priced.subtotals = {shop_id: sum(priced.line_total_cents(line) for line in lines)
                        for shop_id, lines in by_shop.items()}
    if coupon_code and coupons.normalise_code(coupon_code):
        priced.quote = coupons.quote_coupon(coupon_code, buyer.id, priced.subtotals, currency, now)
    return priced


# --- idempotency keys -------------------------------------------------------------------------------------

KEY_LIFETIME = timedelta(hours=24)  # an older key is forgotten: the same key then places a new checkout
_KEY = re.compile(r"[\x20-\x7e]{1,100}")  # printable ASCII


@dataclass(frozen=True)
class KeyClaim:
    """An Idempotency-Key and the fingerprint of the request it came with."""

    key: str
    request_hash: str


class KeyReused(Invalid):
    """The key was already recorded with a different request (422, like any Invalid)."""


class KeyTaken(Exception):
    """Another transaction recorded the same key first (raised after rolling back)."""


def claim_for(key: str, lines: Sequence[Mapping] | None, address_id, coupon_code: str | None,
              reference: str = "") -> KeyClaim:
    """Check the key's shape (1–100 printable ASCII characters) and fingerprint the request it came with
    (and the trusted caller's `reference`, e.g. which group a join is for)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        message = _("The Idempotency-Key header must be 1 to 100 printable ASCII characters.")
        raise Invalid(message, {"Idempotency-Key": [message]})
    fields = {"lines": lines, "address_id": address_id, "coupon_code": coupon_code}
    if reference:
        fields["reference"] = reference
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return KeyClaim(key, hashlib.sha256(body.encode()).hexdigest())


def _remembered_key(buyer: User, claim: KeyClaim, now: datetime) -> CheckoutKey | None:
    """The buyer's live record of this key, or None; a key recorded with another request is refused."""
    row = db.session.scalar(select(CheckoutKey).where(CheckoutKey.buyer_id == buyer.id, CheckoutKey.key == claim.key)
                            .execution_options(populate_existing=True))
    if row is None or row.created_at <= now - KEY_LIFETIME:
        return None
    if row.request_hash != claim.request_hash:
        message = _("This Idempotency-Key was already used for a different checkout request. "
                    "Send a new key for a new request.")
        raise KeyReused(message, {"Idempotency-Key": [message]})
    return row


def _record_key(buyer: User, claim: KeyClaim, now: datetime) -> CheckoutKey:
    """Insert the key's row before any stock moves. A concurrent checkout with the same key blocks on the
    unique index until this transaction ends; if it commits, that one fails here with KeyTaken."""
    db.session.execute(delete(CheckoutKey).where(CheckoutKey.buyer_id == buyer.id, CheckoutKey.key == claim.key,
                                                 CheckoutKey.created_at <= now - KEY_LIFETIME)
                       .execution_options(synchronize_session=False))
    row = CheckoutKey(buyer_id=buyer.id, key=claim.key, request_hash=claim.request_hash, created_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        raise KeyTaken() from None
    return row


# --- holds: what one buyer may keep reserved without paying ----------------------------------------------

class HoldLimitReached(Conflict):
    """The buyer already holds as much unpaid as they may (409, a stable code for API clients)."""

    code = "hold-limit-reached"


def max_unpaid_orders() -> int:
    return int(current_app.config.get("MAX_UNPAID_ORDERS", 5))


def max_held_units_per_sku() -> int:
    return int(current_app.config.get("MAX_HELD_UNITS_PER_SKU", 10))


def _lock_buyer(buyer: User) -> None:
    """Serialise one buyer's checkouts until this transaction ends (a no-op on SQLite, whose writers queue)."""
    db.session.execute(select(User.id).where(User.id == buyer.id).with_for_update(key_share=True))


def _held(buyer: User, now: datetime):
    """The buyer's orders still holding stock for them: awaiting payment, reservation not yet run out."""
    return (Order.buyer_id == buyer.id, Order.status == OrderStatus.PENDING_PAYMENT, Order.reserved_until > now)


def check_holds(buyer: User, priced: PricedCheckout, now: datetime) -> None:
    """Refuse (HoldLimitReached) a checkout that would leave the buyer more than MAX_UNPAID_ORDERS orders
    awaiting payment, or more than MAX_HELD_UNITS_PER_SKU units of one SKU in them. Call it under
    `_lock_buyer`, so a concurrent checkout of the same buyer counts after this one commits."""
    unpaid = db.session.scalar(select(func.count(Order.id)).where(*_held(buyer, now)))
    if unpaid + len(priced.by_shop) > max_unpaid_orders():
        message = _("You have %(count)d orders awaiting payment, and at most %(max)d can wait at once. "
                    "Pay for or cancel one before placing another.", count=unpaid, max=max_unpaid_orders())
        raise HoldLimitReached(message, {"lines": [message]})
    held = dict(db.session.execute(
        select(OrderLine.sku_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(*_held(buyer, now), OrderLine.sku_id.in_([line.sku_id for line in priced.requested]))
        .group_by(OrderLine.sku_id)).all())
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(priced.requested):
        already = int(held.get(line.sku_id) or 0)
        if already + line.quantity > max_held_units_per_sku():
            title = priced.skus[line.sku_id].product.title
            errors[f"lines.{index}.quantity"] = [
                _("You can hold at most %(max)d of %(title)s unpaid at a time; you already hold %(held)d.",
                  max=max_held_units_per_sku(), title=title, held=already) if already else
                _("You can hold at most %(max)d of %(title)s unpaid at a time.",
                  max=max_held_units_per_sku(), title=title)]
    if errors:
        raise HoldLimitReached(next(iter(errors.values()))[0], errors)


# --- placing orders ---------------------------------------------------------------------------------------

def place_orders(buyer: User, cart_or_lines: Cart | Sequence[Mapping], address_id: int,
                 coupon_code: str | None = None, now: datetime | None = None,
                 claim: KeyClaim | None = None, terms: TrustedTerms | None = None) -> Checkout:
    """Place one order per shop for what is asked, reserve its stock (and the coupon's use) until the
    reservation deadline, and open one payment for all of them. Refuses, changing nothing, on any bad
    line, stock shortfall or coupon problem. With a `claim`, records its key in the same transaction
    (KeyTaken when a concurrent checkout recorded it first). `terms`: see TrustedTerms."""
    now = now or clock_now()
    with unit_of_work():
        # The key first: a concurrent request with it waits here, before pricing or taking any stock.
        key_row = _record_key(buyer, claim, now) if claim else None
        requested = _requested_lines(buyer, cart_or_lines)  # an empty or malformed cart is said first
        ensure_may_buy_from_notes(buyer, [line.source_post_id for line in requested])
        address = _buyer_address(buyer, address_id)
        priced = _price_lines(buyer, requested, coupon_code, now, terms.unit_prices if terms else None)
        requested, skus, by_shop, subtotals, currency, quote = (priced.requested, priced.skus, priced.by_shop,
                                                                priced.subtotals, priced.currency, priced.quote)
        _lock_buyer(buyer)
        check_holds(buyer, priced, now)
        if terms and terms.before_stock:
            terms.before_stock()
        authors = attributions(((line.source_post_id, skus[line.sku_id].product_id) for line in requested),
                               buyer.id)

        for line in sorted(requested, key=lambda line: line.sku_id):
            taken = db.session.execute(
                update(Sku).where(Sku.id == line.sku_id, Sku.stock >= line.quantity)
                .values(stock=Sku.stock - line.quantity).execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                title = skus[line.sku_id].product.title
                message = _("Sorry, %(title)s has just sold out in that quantity.", title=title)
                raise Conflict(message, {"lines": [message]}, code="out-of-stock")
            queue_product_counts(skus[line.sku_id].product_id)  # its stock moved (and may have run out)

        discounts = priced.discounts
        payment = Payment(buyer_id=buyer.id, provider=get_provider().name, currency=currency, created_at=now,
                          amount_cents=priced.total_cents)
        db.session.add(payment)
        db.session.flush()
        if key_row:
            key_row.payment_id = payment.id
        reserved_until = now + timedelta(minutes=reservation_minutes())
        orders = []
        for shop_id in sorted(by_shop):
            lines = by_shop[shop_id]
            discount = discounts.get(shop_id, 0)
            order = Order(buyer_id=buyer.id, shop_id=shop_id, payment_id=payment.id,
                          status=OrderStatus.PENDING_PAYMENT, subtotal_cents=subtotals[shop_id],
                          discount_cents=discount, total_cents=priced.shop_total_cents(shop_id), currency=currency,
                          coupon_id=quote.coupon.id if quote and shop_id in discounts else None,
                          address_id=address.id, shipping_name=address.recipient_name,
                          shipping_phone=address.phone, shipping_address=address.as_text()[:400],
                          reserved_until=reserved_until, created_at=now, updated_at=now,
                          hold_reason=terms.hold_reason if terms else None)
            for line, line_discount in zip(lines, priced.line_discounts(shop_id), strict=True):
                sku = skus[line.sku_id]
                author_id = authors.get((line.source_post_id, sku.product_id))
                source = line.source_post_id if author_id else None
                order.lines.append(OrderLine(
                    sku_id=sku.id, product_id=sku.product_id, product_title=sku.product.title[:120],
                    sku_label=sku.label, unit_price_cents=priced.unit_price_cents(sku.id), quantity=line.quantity,
                    line_total_cents=priced.line_total_cents(line), discount_cents=line_discount,
                    source_post_id=source, source_author_id=author_id if source else None))
            db.session.add(order)
            db.session.flush()
            db.session.add(OrderEvent(order_id=order.id, from_status=None, to_status=OrderStatus.PENDING_PAYMENT,
                                      actor_id=buyer.id, note="placed", created_at=now))
            hooks.order_placed(order, now)  # commissions snapshot their attribution (app/shop/hooks.py)
            orders.append(order)
        if quote:
            shop_order = next((o.id for o in orders if o.shop_id == quote.coupon.shop_id), None)
            coupons.reserve_coupon(quote, buyer.id, payment.id, shop_order, now)
        if terms and terms.after_orders:
            terms.after_orders(Checkout(payment=payment, orders=orders))
        if isinstance(cart_or_lines, Cart):
            db.session.execute(delete(CartItem).where(CartItem.cart_id == cart_or_lines.id,
                                                      CartItem.sku_id.in_([line.sku_id for line in requested]))
                               .execution_options(synchronize_session=False))
    if isinstance(cart_or_lines, Cart):
        db.session.expire(cart_or_lines, ["items"])
    return Checkout(payment=payment, orders=orders)


# --- checking out the buyer's cart (or given lines) -------------------------------------------------------

@dataclass
class StartedCheckout:
    """Placed orders, their payment, and where to send the buyer to pay it (None, with the `refusal`, when a
    replayed checkout can no longer be paid). `replayed`: answered from an earlier request's key."""

    payment: Payment
    orders: list[Order]
    redirect_url: str | None
    refusal: str | None = None
    replayed: bool = False


def _cart_or_lines(buyer: User, lines: Sequence[Mapping] | None) -> Cart | Sequence[Mapping]:
    """`lines` when given, else the buyer's saved cart (no cart yet is an empty one)."""
    if lines is not None:
        return lines
    return db.session.scalar(select(Cart).where(Cart.user_id == buyer.id)) or []


def quote_checkout(buyer: User, lines: Sequence[Mapping] | None = None, coupon_code: str | None = None,
                   now: datetime | None = None) -> PricedCheckout:
    """What the buyer's cart (or `lines`) costs with the coupon, priced on the server; changes nothing."""
    return price_checkout(buyer, _cart_or_lines(buyer, lines), coupon_code, now)


@dataclass
class CartQuote:
    """The checkout page's view of the buyer's cart: priced, and why the coupon typed was not applied."""

    priced: PricedCheckout
    coupon_error: str | None = None


def quote_cart(buyer: User, coupon_code: str | None = None, now: datetime | None = None) -> CartQuote:
    """Price the buyer's cart for the checkout page. A coupon that does not apply does not hide the total:
    its refusal comes back as `coupon_error` with the cart priced without it. Problems of the cart's own
    lines (sold out, no longer for sale) raise Invalid."""
    cart = _cart_or_lines(buyer, None)
    try:
        return CartQuote(price_checkout(buyer, cart, coupon_code or None, now))
    except Invalid as exc:
        if not coupon_code or any(key.startswith("lines") for key in exc.errors):
            raise
        return CartQuote(price_checkout(buyer, cart, None, now), exc.message)


def check_out(buyer: User, lines: Sequence[Mapping] | None, address_id: int, coupon_code: str | None = None,
              now: datetime | None = None, idempotency_key: str | None = None,
              terms: TrustedTerms | None = None) -> StartedCheckout:
    """Place the orders for the buyer's cart (or `lines`) and open their payment at the provider.

    With an `idempotency_key` (scoped to the buyer), the first request records the key with a hash of
    `lines`, `address_id` and `coupon_code` in the checkout's own transaction (a refused checkout records
    nothing, so the key can be retried). A repeat with the same key and body answers that checkout as it
    now stands (`replayed`), with the same payment's pay URL, never a second payment; the same key with
    another body is Invalid. Keys older than KEY_LIFETIME (24 h) are forgotten and may be reused; their
    rows are replaced then, and nothing else cleans them up. `terms`: see TrustedTerms (a trusted caller only).
    """
    now = now or clock_now()
    claim = (claim_for(idempotency_key, lines, address_id, coupon_code, terms.reference if terms else "")
             if idempotency_key is not None else None)
    if claim:
        remembered = _remembered_key(buyer, claim, now)
        if remembered:
            return _replay(buyer, remembered, now)
    try:
        placed = place_orders(buyer, _cart_or_lines(buyer, lines), address_id, coupon_code, now, claim, terms)
    except KeyTaken:
        # A concurrent request with this key committed its checkout while we waited on the unique index.
        return _replay(buyer, _remembered_key(buyer, claim, now), now)
    return StartedCheckout(placed.payment, placed.orders, start_payment(buyer, placed.payment.id, now=now))


def _replay(buyer: User, remembered: CheckoutKey | None, now: datetime) -> StartedCheckout:
    """The checkout a key recorded, as it now stands; its pay URL while it can be paid, else why not.
    Conflict when that checkout cannot be seen (yet), which a committed key row rules out in practice."""
    if remembered is None or remembered.payment_id is None:
        raise Conflict(_("A checkout with this Idempotency-Key is still in progress. Retry in a moment."),
                       code="checkout-in-progress")
    db.session.expire_all()  # the orders' status, not what this session saw before
    state = payment_state(buyer, remembered.payment_id, now=now)
    return StartedCheckout(state.payment, list(state.payment.orders), state.redirect_url, state.refusal,
                           replayed=True)
