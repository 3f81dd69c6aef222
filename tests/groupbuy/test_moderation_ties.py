"""Moderation's bans reach group-buys: a member banned from the product's community cannot open or join its
groups, and nothing moves when they try; lifting the ban lets them in again."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from app.communities import services as communities
from app.core.errors import Forbidden
from app.core.uow import unit_of_work
from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import Group, GroupMember
from app.shop.models import Order, Product
from tests.factories import community
from tests.groupbuy.conftest import NOW, count, open_group
from tests.shop.conftest import buyer_with_address


@pytest.fixture
def place(gw):
    where = community(slug="skincare")
    with unit_of_work():
        db.session.execute(update(Product).where(Product.id == gw.product_id).values(community_id=where.id))
    return where


def test_a_banned_member_can_neither_open_nor_join_and_nothing_moves(gw, place):
    group_id, _leader, _ = open_group(gw, "gb_leader")
    banned, address = buyer_with_address("gb_banned")
    with unit_of_work():
        communities.record_ban(place, banned, "spam", gw.admin)
    before = (count(Group), count(GroupMember), count(Order))
    with pytest.raises(Forbidden) as refused:
        services.open_group(banned, gw.campaign_id, sku_id=gw.sku_id, address_id=address, now=NOW)
    assert refused.value.code == "banned-from-community"
    with pytest.raises(Forbidden):
        services.join_group(banned, group_id, sku_id=gw.sku_id, address_id=address, now=NOW)
    assert (count(Group), count(GroupMember), count(Order)) == before

    with unit_of_work():
        communities.lift_bans(place, banned)
    joined = services.join_group(banned, group_id, sku_id=gw.sku_id, address_id=address, now=NOW)
    assert joined.member.user_id == banned.id
