"""Fixtures for sharing commissions: a shop with a 5 % product, a creator with a note tagging it, a reader,
and helpers that walk an order through click → buy → pay → ship → complete with explicit times."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.affiliate import attribution, ledger
from app.affiliate.models import CommissionEntry
from app.extensions import db
from app.posts.models import Post
from app.shop import cart, orders, refunds
from app.shop.models import Order, OrderLine, PostProduct
from tests import factories
from tests.shop.conftest import buy, buyer_with_address, open_shop, pay, product_with_sku, user

T0 = datetime(2026, 3, 1, 12, 0)
RATE = 500  # product_with_sku's commission


@dataclass
class Aff:
    admin: User
    merchant: User
    shop_id: int
    product_id: int
    sku_id: int
    creator: User
    post_id: int
    reader: User
    address_id: int


def note_tagging(author: User, product_id: int, title: str = "My favourite tint") -> Post:
    post = factories.post(author, title=title, created_at=T0 - timedelta(days=3))
    db.session.add(PostProduct(post_id=post.id, product_id=product_id, position=0))
    db.session.commit()
    return post


@pytest.fixture
def aff(ctx) -> Aff:
    admin = user("admin", is_admin=True)
    merchant = user("merchant")
    shop = open_shop(merchant, admin)
    product, sku = product_with_sku(merchant, shop.id, price=1999, stock=100)
    creator = user("creator")
    cart.add_address(creator, recipient_name="Creator", phone="13911112222", line1="9 Studio Lane",
                     region="Hangzhou", postal_code="310000")
    post = note_tagging(creator, product.id)
    reader, address_id = buyer_with_address("reader")
    return Aff(admin, merchant, shop.id, product.id, sku.id, creator, post.id, reader, address_id)


def click(link, visitor: User, at: datetime) -> bool:
    return attribution.record_click(link, visitor_id=visitor.id, anon_id=None, user_agent="Mozilla/5.0", now=at)


def buy_paid(aff: Aff, quantity: int = 3, at: datetime = T0, buyer: User | None = None,
             address_id: int | None = None) -> Order:
    placed = buy(buyer or aff.reader, address_id or aff.address_id, aff.sku_id, quantity, now=at)
    pay(placed.payment.id, now=at)
    db.session.expire_all()
    return db.session.get(Order, placed.orders[0].id)


def complete(aff: Aff, order_id: int, at: datetime) -> None:
    orders.ship_order(aff.merchant, order_id, "SF123", now=at)
    order = db.session.get(Order, order_id)
    orders.confirm_delivery(db.session.get(User, order.buyer_id), order_id, now=at)


def refund_units(aff: Aff, order_id: int, units: int | None, at: datetime):
    line_id = db.session.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id))
    return refunds.refund_order(aff.merchant, order_id, None if units is None else {line_id: units}, "changed mind",
                                now=at)


def entries(user_id: int | None = None) -> list[tuple[str, int]]:
    db.session.expire_all()
    query = select(CommissionEntry.kind, CommissionEntry.amount_cents).order_by(CommissionEntry.id)
    if user_id is not None:
        query = query.where(CommissionEntry.beneficiary_id == user_id)
    return [(kind, amount) for kind, amount in db.session.execute(query)]


def ledger_sum(user_id: int) -> tuple[int, int, int]:
    row = db.session.execute(select(func.sum(CommissionEntry.pending_cents), func.sum(CommissionEntry.available_cents),
                                    func.sum(CommissionEntry.paid_cents))
                             .where(CommissionEntry.beneficiary_id == user_id)).one()
    return tuple(int(v or 0) for v in row)


def release(at: datetime) -> int:
    return ledger.release_available_commissions(at)
