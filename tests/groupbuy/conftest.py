"""Fixtures for group-buys: a shop with a product, a live campaign, buyers with addresses, and helpers that
open, join and pay through the services (the sandbox provider plays the payment)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import Group, GroupMember
from app.shop.models import Order, OrderLine, OrderStatus, Refund, Sku
from tests.shop.conftest import buyer_with_address, open_shop, pay, product_with_sku, user

NOW = datetime(2026, 3, 1, 12, 0)


@dataclass
class GroupWorld:
    admin: object
    merchant: object
    shop_id: int
    product_id: int
    sku_id: int
    campaign_id: int


def campaign_input(sku_id: int, **overrides) -> services.CampaignInput:
    fields = dict(prices={sku_id: 600}, group_size=3, window_hours=24, starts_at=NOW - timedelta(days=1),
                  ends_at=NOW + timedelta(days=10), per_order_limit=2, per_user_limit=3)
    fields.update(overrides)
    return services.CampaignInput(**fields)


@pytest.fixture
def gw(ctx) -> GroupWorld:
    admin = user("gadmin", is_admin=True)
    merchant = user("gmerchant")
    shop = open_shop(merchant, admin)
    product, sku = product_with_sku(merchant, shop.id, price=1000, stock=100, title="Hand cream")
    campaign = services.create_campaign(merchant, product.id, campaign_input(sku.id), now=NOW)
    return GroupWorld(admin, merchant, shop.id, product.id, sku.id, campaign.id)


def open_group(gw: GroupWorld, name: str | None = None, now=NOW, quantity=1, paid=True):
    leader, address = buyer_with_address(name)
    joined = services.open_group(leader, gw.campaign_id, sku_id=gw.sku_id, quantity=quantity, address_id=address,
                                 now=now)
    if paid:
        pay(joined.checkout.payment.id, now=now)
    return joined.group.id, leader, address


def join(gw: GroupWorld, group_id: int, name: str | None = None, now=NOW, quantity=1, paid=True, buyer=None):
    if buyer is None:
        buyer, address = buyer_with_address(name)
    else:
        buyer, address = buyer
    joined = services.join_group(buyer, group_id, sku_id=gw.sku_id, quantity=quantity, address_id=address, now=now)
    if paid:
        pay(joined.checkout.payment.id, now=now)
    return joined


def fresh_group(group_id: int) -> Group:
    db.session.expire_all()
    return db.session.get(Group, group_id)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stock_balances(sku_id: int, stocked: int) -> None:
    """Units stocked = on hand + reserved (unpaid orders) + sold (paid and kept, not refunded)."""
    db.session.expire_all()
    on_hand = db.session.get(Sku, sku_id).stock
    reserved = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                                 .join(Order, Order.id == OrderLine.order_id)
                                 .where(OrderLine.sku_id == sku_id, Order.status == OrderStatus.PENDING_PAYMENT))
    sold = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.refunded_quantity), 0))
                             .join(Order, Order.id == OrderLine.order_id)
                             .where(OrderLine.sku_id == sku_id,
                                    Order.status.notin_([OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED])))
    assert on_hand + reserved + sold == stocked, (on_hand, reserved, sold, stocked)


def refunds_of(group_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(select(Refund).join(GroupMember, GroupMember.order_id == Refund.order_id)
                                   .where(GroupMember.group_id == group_id).order_by(Refund.id)))
