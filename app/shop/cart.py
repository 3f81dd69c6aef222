"""The buyer's cart and saved addresses."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.shop.checkout import attributions, is_id, max_quantity, parse_quantity
from app.shop.models import Address, Cart, CartItem, Product, ProductStatus, ShopStatus, Sku


def cart_of(user: User) -> Cart:
    """The user's cart (made on first use; race-safe)."""
    insert_if_absent(Cart, user_id=user.id, updated_at=clock_now())
    db.session.commit()
    return db.session.scalar(select(Cart).where(Cart.user_id == user.id).options(
        selectinload(Cart.items).joinedload(CartItem.sku).joinedload(Sku.product).joinedload(Product.shop)))


def add_to_cart(user: User, sku_id: int, quantity=1, source_post_id: int | None = None) -> CartItem:
    """Put units of a SKU in the cart (adding to what is there, up to the per-order limit)."""
    quantity = parse_quantity(quantity)
    sku = db.session.get(Sku, sku_id) if is_id(sku_id) else None
    if sku is None or not sku.is_active or sku.product.status != ProductStatus.ACTIVE \
            or sku.product.shop.status != ShopStatus.APPROVED:
        raise NotFound(_("This item is no longer for sale."))
    if source_post_id is not None and source_post_id not in attributions([source_post_id]):
        source_post_id = None  # a card from a removed or unknown note earns no attribution
    cart = cart_of(user)
    if not insert_if_absent(CartItem, cart_id=cart.id, sku_id=sku.id, quantity=quantity,
                            source_post_id=source_post_id, added_at=clock_now()):
        grown = db.session.execute(update(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku.id,
                                                          CartItem.quantity + quantity <= max_quantity())
                                   .values(quantity=CartItem.quantity + quantity)
                                   .execution_options(synchronize_session=False))
        if grown.rowcount != 1:
            db.session.rollback()
            message = _("You can order at most %(max)d of one item at a time.", max=max_quantity())
            raise Invalid(message, {"quantity": [message]})
    db.session.commit()
    return db.session.scalar(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku.id)
                             .execution_options(populate_existing=True))


def set_cart_quantity(user: User, item_id: int, quantity) -> None:
    """Change a line's quantity; 0 removes it."""
    if quantity in (0, "0"):
        remove_from_cart(user, item_id)
        return
    quantity = parse_quantity(quantity)
    item = db.session.get(CartItem, item_id) if is_id(item_id) else None
    if item is None or item.cart.user_id != user.id:
        raise NotFound(_("This item is not in your cart."))
    item.quantity = quantity
    db.session.commit()


def remove_from_cart(user: User, item_id: int) -> None:
    cart = cart_of(user)
    db.session.execute(delete(CartItem).where(CartItem.id == item_id, CartItem.cart_id == cart.id))
    db.session.commit()


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
    db.session.commit()
    return address


def delete_address(user: User, address_id: int) -> None:
    """Hide a saved address; orders keep their own copy."""
    address = db.session.get(Address, address_id)
    if address is None or address.user_id != user.id or address.deleted_at is not None:
        raise NotFound(_("No such address."))
    address.deleted_at = clock_now()
    db.session.commit()


def addresses_of(user: User) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user.id, Address.deleted_at.is_(None))
                                   .order_by(Address.id)))
