"""The buyer's cart and saved addresses."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Invalid, NotFound
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.shop.checkout import attributions, ensure_may_buy_from_notes, is_id, max_quantity, parse_quantity
from app.shop.models import Address, Cart, CartItem, Product, Sku


def cart_of(user: User) -> Cart:
    """The user's cart (made on first use; race-safe)."""
    with unit_of_work():
        insert_if_absent(Cart, user_id=user.id, updated_at=clock_now())
    return db.session.scalar(select(Cart).where(Cart.user_id == user.id).options(
        selectinload(Cart.items).joinedload(CartItem.sku).joinedload(Sku.product).joinedload(Product.shop)))


@dataclass
class CartSummary:
    """What the cart page shows: the items grouped by shop, and their total at today's prices."""

    items: list
    by_shop: dict
    total_cents: int
    currency: str


def summarize_cart(items: list) -> CartSummary:
    """Group cart items (a user's CartItems or a guest's GuestCartItems) by shop and total them."""
    by_shop: dict = {}
    for item in items:
        by_shop.setdefault(item.sku.product.shop, []).append(item)
    total = sum(item.sku.price_cents * item.quantity for item in items)
    return CartSummary(items, by_shop, total, items[0].sku.currency if items else "CNY")


def sku_for_sale(sku_id) -> Sku:
    """The SKU if it can be bought now (active, its product active, its shop approved), else NotFound."""
    sku = db.session.get(Sku, sku_id) if is_id(sku_id) else None
    if sku is None or not sku.is_active or not sku.product.is_listed:
        raise NotFound(_("This item is no longer for sale."), code="not-for-sale")
    return sku


def check_product(sku: Sku, product_id) -> None:
    if product_id not in (None, "") and str(product_id) != str(sku.product_id):
        message = _("This option belongs to another product.")
        raise Invalid(message, {"sku_id": [message]})


def check_stock(sku: Sku, quantity: int) -> None:
    """A cart may not hold more units than are in stock (checkout re-checks, and reserves)."""
    if quantity > sku.stock:
        message = (_("Sorry, %(title)s is sold out.", title=sku.product.title) if sku.stock <= 0 else
                   _("Only %(count)d left of %(title)s.", count=sku.stock, title=sku.product.title))
        raise Invalid(message, {"quantity": [message]})


@transactional
def add_to_cart(user: User, sku_id: int, quantity=1, source_post_id: int | None = None, *,
                product_id: int | None = None) -> CartItem:
    """Put units of a SKU in the cart (adding to what is there, up to the stock and the per-order limit).
    `product_id`, when the client sends it, must be the SKU's product."""
    quantity = parse_quantity(quantity)
    sku = sku_for_sale(sku_id)
    check_product(sku, product_id)
    if source_post_id is not None:
        ensure_may_buy_from_notes(user, [source_post_id])
    if source_post_id is not None and not attributions([(source_post_id, sku.product_id)], user.id):
        source_post_id = None  # a card from a removed or unknown note, or the buyer's own, earns no attribution
    cart = cart_of(user)
    held = db.session.scalar(select(CartItem.quantity).where(CartItem.cart_id == cart.id,
                                                             CartItem.sku_id == sku.id)) or 0
    check_stock(sku, held + quantity)
    if not insert_if_absent(CartItem, cart_id=cart.id, sku_id=sku.id, quantity=quantity,
                            source_post_id=source_post_id, added_at=clock_now(), price_seen_cents=sku.price_cents):
        grown = db.session.execute(update(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku.id,
                                                          CartItem.quantity + quantity <= max_quantity())
                                   .values(quantity=CartItem.quantity + quantity, price_seen_cents=sku.price_cents,
                                           source_post_id=func.coalesce(source_post_id, CartItem.source_post_id))
                                   .execution_options(synchronize_session=False))
        if grown.rowcount != 1:
            message = _("You can order at most %(max)d of one item at a time.", max=max_quantity())
            raise Invalid(message, {"quantity": [message]})
    db.session.flush()
    return db.session.scalar(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku.id)
                             .execution_options(populate_existing=True))


@transactional
def set_cart_quantity(user: User, item_id: int, quantity) -> None:
    """Change a line's quantity; 0 removes it."""
    if quantity in (0, "0"):
        remove_from_cart(user, item_id)
        return
    quantity = parse_quantity(quantity)
    item = db.session.get(CartItem, item_id) if is_id(item_id) else None
    if item is None or item.cart.user_id != user.id:
        raise NotFound(_("This item is not in your cart."))
    check_stock(item.sku, quantity)
    item.quantity = quantity


@transactional
def remove_from_cart(user: User, item_id: int) -> None:
    cart = cart_of(user)
    db.session.execute(delete(CartItem).where(CartItem.id == item_id, CartItem.cart_id == cart.id))


@transactional
def add_address(user: User, *, recipient_name: str, phone: str, line1: str, region: str = "",
                postal_code: str = "") -> Address:
    """Save a shipping address for checkouts."""
    values = {"recipient_name": recipient_name, "phone": phone, "line1": line1, "region": region,
              "postal_code": postal_code}
    values = {key: " ".join((value or "").split()) for key, value in values.items()}
    limits = {"recipient_name": 60, "phone": 30, "line1": 200, "region": 120, "postal_code": 20}
    errors = {key: [_("This is too long.")] for key, limit in limits.items() if len(values[key]) > limit}
    for key in ("recipient_name", "phone", "line1"):
        if not values[key]:
            errors[key] = [_("This field is required.")]
    if errors:
        raise Invalid(_("Check the address."), errors)
    address = Address(user_id=user.id, created_at=clock_now(), **values)
    db.session.add(address)
    return address


@transactional
def delete_address(user: User, address_id: int) -> None:
    """Hide a saved address; orders keep their own copy."""
    address = db.session.get(Address, address_id)
    if address is None or address.user_id != user.id or address.deleted_at is not None:
        raise NotFound(_("No such address."))
    address.deleted_at = clock_now()


def addresses_of(user: User) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user.id, Address.deleted_at.is_(None))
                                   .order_by(Address.id)))


# --- a visitor's cart, kept in their session until they log in -------------------------------------------

GUEST_CART_MAX_LINES = 30


def add_to_guest_cart(lines: list, sku_id, quantity=1, source_post_id=None, product_id=None) -> list:
    """The same checks as add_to_cart, on a session's list of [sku_id, quantity, source_post_id]."""
    quantity = parse_quantity(quantity)
    sku = sku_for_sale(sku_id)
    check_product(sku, product_id)
    source = source_post_id if attributions([(source_post_id, sku.product_id)]) else None
    lines = [list(line) for line in lines if isinstance(line, list) and len(line) == 3]
    for line in lines:
        if line[0] == sku.id:
            check_stock(sku, line[1] + quantity)
            if line[1] + quantity > max_quantity():
                message = _("You can order at most %(max)d of one item at a time.", max=max_quantity())
                raise Invalid(message, {"quantity": [message]})
            line[1] += quantity
            line[2] = source or line[2]
            return lines
    check_stock(sku, quantity)
    if len(lines) >= GUEST_CART_MAX_LINES:
        message = _("Your cart is full. Log in to keep shopping.")
        raise Invalid(message, {"quantity": [message]})
    return lines + [[sku.id, quantity, source]]


@dataclass
class GuestCartItem:
    """A session cart line shaped like a CartItem for the cart page (its id is the SKU's)."""

    id: int
    sku_id: int
    sku: Sku
    quantity: int
    source_post_id: int | None


def guest_cart_items(lines: list) -> list[GuestCartItem]:
    """A session cart as unsaved CartItems (for the same cart page), dropping what is no longer for sale."""
    wanted = {line[0]: line for line in lines if isinstance(line, list) and len(line) == 3 and is_id(line[0])}
    if not wanted:
        return []
    skus = db.session.scalars(select(Sku).where(Sku.id.in_(wanted)).options(
        selectinload(Sku.product).selectinload(Product.shop), selectinload(Sku.product).selectinload(
            Product.images)))
    items = []
    for sku in skus:
        if sku.is_active and sku.product.is_listed:
            line = wanted[sku.id]
            items.append(GuestCartItem(id=sku.id, sku_id=sku.id, sku=sku, quantity=line[1], source_post_id=line[2]))
    return sorted(items, key=lambda item: item.sku_id)


def merge_guest_cart(user: User, lines: list) -> int:
    """Move a visitor's session cart into their account's cart at log-in; lines that no longer fit
    (sold out, over the limit) are skipped, not failed. Returns how many lines moved."""
    moved = 0
    for line in lines or []:
        if not (isinstance(line, list) and len(line) == 3):
            continue
        try:
            add_to_cart(user, line[0], line[1], line[2] if is_id(line[2]) else None)
            moved += 1
        except (Invalid, NotFound):
            continue  # add_to_cart's own unit of work rolled that line back
    return moved


def set_guest_cart_quantity(lines: list, sku_id, quantity) -> list:
    """Change (or with 0, drop) one line of a session cart, under the same limits as a saved cart."""
    lines = [list(line) for line in lines if isinstance(line, list) and len(line) == 3]
    if quantity in (0, "0"):
        return [line for line in lines if line[0] != sku_id]
    quantity = parse_quantity(quantity)
    if not any(line[0] == sku_id for line in lines):
        raise NotFound(_("This item is not in your cart."))
    check_stock(sku_for_sale(sku_id), quantity)
    return [[line[0], quantity, line[2]] if line[0] == sku_id else line for line in lines]


def cart_units_of(user):
    """The SUM of units in a user's cart as a scalar subquery; `user` is a user id or a bound parameter
    (app.core.badges)."""
    return (select(func.coalesce(func.sum(CartItem.quantity), 0))
            .join(Cart, Cart.id == CartItem.cart_id).where(Cart.user_id == user).scalar_subquery())


def cart_units(user_id: int) -> int:
    """Units in a user's cart, for the nav's badge: one SUM over the cart's items."""
    return int(db.session.scalar(select(cart_units_of(user_id))) or 0)


def guest_cart_units(lines: list) -> int:
    """Units in a visitor's session cart ([sku_id, quantity, source] lines), ignoring malformed lines."""
    return sum(line[1] for line in lines or [] if isinstance(line, list | tuple) and len(line) > 1
               and isinstance(line[1], int) and line[1] > 0)
