"""Fixtures for the storefront: an approved shop with a product, a buyer with an address, paying helpers.

Everything is made through the shop services (apply → approve → product → SKU → publish), so the
fixtures exercise the same rules the pages will.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.shop import cart, catalog, checkout, payments
from app.shop.models import (
    Coupon,
    CouponRedemption,
    CouponUserUse,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentCallback,
    ProductStatus,
    Refund,
    Sku,
)
from tests.social.conftest import person

_seq = itertools.count(1)


def user(name: str | None = None, **fields) -> User:
    return person(name or f"u{next(_seq)}", **fields)


def open_shop(owner: User, admin: User, slug: str | None = None):
    shop = catalog.apply_for_shop(owner, slug=slug or f"shop-{owner.username}", name=f"{owner.username}'s shop")
    return catalog.approve_shop(admin, shop.id)


def product_with_sku(merchant: User, shop_id: int, *, price: int = 1000, stock: int = 10, title: str = "Lip tint",
                     code: str | None = None, label: str = "Rose"):
    product = catalog.create_product(merchant, shop_id, title=title, commission_bps=500)
    sku = catalog.add_sku(merchant, product.id, code=code or f"SKU{next(_seq)}", label=label, price_cents=price,
                          stock=stock)
    catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
    return product, sku


def buyer_with_address(name: str | None = None) -> tuple[User, int]:
    buyer = user(name)
    address = cart.add_address(buyer, recipient_name="Li Lei", phone="13800000000", line1="1 Garden Road",
                               region="Shanghai", postal_code="200000")
    return buyer, address.id


def sandbox():
    return payments.get_provider("sandbox")


def pay(payment_id: int, now=None, **overrides):
    """Play the provider: a correctly signed success callback for the payment."""
    payment = db.session.get(Payment, payment_id)
    body, signature = sandbox().callback_for(payment, **overrides)
    return payments.handle_payment_callback(sandbox(), body, signature, now=now)


def buy(buyer: User, address_id: int, sku_id: int, quantity: int = 1, coupon: str | None = None, now=None):
    return checkout.place_orders(buyer, [{"sku_id": sku_id, "quantity": quantity}], address_id, coupon, now=now)


def fresh(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def snapshot() -> dict:
    """Everything a refused action must leave as it was."""
    db.session.expire_all()

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    return {
        "stock": dict(db.session.execute(select(Sku.id, Sku.stock)).all()),
        "uses_left": dict(db.session.execute(select(Coupon.id, Coupon.uses_left)).all()),
        "user_uses": sorted(db.session.execute(select(CouponUserUse.coupon_id, CouponUserUse.user_id,
                                                      CouponUserUse.uses)).all()),
        "orders": sorted(db.session.execute(select(Order.id, Order.status, Order.refunded_cents,
                                                   Order.tracking_number)).all()),
        "lines": sorted(db.session.execute(select(OrderLine.id, OrderLine.refunded_quantity)).all()),
        "payments": sorted(db.session.execute(select(Payment.id, Payment.status, Payment.refunded_cents)).all()),
        "redemptions": sorted(db.session.execute(select(CouponRedemption.id, CouponRedemption.status)).all()),
        "events": count(OrderEvent),
        "refunds": count(Refund),
    }


def callbacks_logged() -> list[PaymentCallback]:
    db.session.expire_all()
    return list(db.session.scalars(select(PaymentCallback).order_by(PaymentCallback.id)))


@dataclass
class World:
    admin: User
    merchant: User
    shop_id: int
    product_id: int
    sku_id: int
    buyer: User
    address_id: int


@pytest.fixture
def world(ctx) -> World:
    admin = user("admin", is_admin=True)
    merchant = user("merchant")
    shop = open_shop(merchant, admin)
    product, sku = product_with_sku(merchant, shop.id)
    buyer, address_id = buyer_with_address("buyer")
    return World(admin, merchant, shop.id, product.id, sku.id, buyer, address_id)
