"""The shop's sales dashboard shows its group-buys (a panel registered through app.shop.hooks, so
app.affiliate and app.groupbuy never import each other): opened / filled / expired, fill rate, units, revenue."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.core.clock import frozen_at
from app.extensions import db
from app.groupbuy import services
from app.shop.models import Shop
from tests.conftest import DEFAULT_PASSWORD, log_in
from tests.groupbuy.conftest import NOW, GroupWorld, campaign_input, fresh_group, join, open_group
from tests.shop.conftest import open_shop, product_with_sku, user

LATER = NOW + timedelta(hours=25)  # past the 24 h window: open groups expire


@pytest.fixture(autouse=True)
def frozen():
    with frozen_at(LATER):
        yield


def other_shop(gw: GroupWorld) -> GroupWorld:
    merchant = user("othermerchant")
    shop = open_shop(merchant, gw.admin)
    product, sku = product_with_sku(merchant, shop.id, price=2000, stock=100, title="Tea set")
    campaign = services.create_campaign(merchant, product.id, campaign_input(sku.id), now=NOW)
    return GroupWorld(gw.admin, merchant, shop.id, product.id, sku.id, campaign.id)


def figure(html: str, label: str) -> str:
    panel = html[html.index('data-panel="groupbuy"'):]
    return re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", panel).group(1)


def test_the_dashboard_shows_this_shops_group_fill_rates_only(gw, client):
    filled, _leader, _a = open_group(gw, "ann", quantity=2)
    join(gw, filled, "bob")
    join(gw, filled, "cat")
    expired, _leader, _a = open_group(gw, "dan")
    other = other_shop(gw)
    theirs, _leader, _a = open_group(other, "eve")
    join(other, theirs, "fay")
    assert services.expire_overdue_groups(LATER) == 2  # ours and theirs
    assert fresh_group(filled).state == "filled" and fresh_group(expired).state == "expired"

    log_in(client, SimpleNamespace(username=gw.merchant.username, password=DEFAULT_PASSWORD))
    slug = db.session.get(Shop, gw.shop_id).slug
    html = client.get(f"/shop/{slug}/dashboard?days=7").get_data(as_text=True)
    assert figure(html, "Opened") == "2"
    assert figure(html, "Filled") == "1"
    assert figure(html, "Expired") == "1"  # the other shop's expired group is not counted
    assert figure(html, "Fill rate") == "50%"
    assert figure(html, "Units") == "4"  # 2 + 1 + 1 in the filled group; nothing from the expired one
    assert figure(html, "Revenue").endswith("¥24.00")  # 4 units at the ¥6.00 group price
    figures = services.shop_group_figures(gw.shop_id, NOW - timedelta(days=1))
    assert (figures.opened, figures.filled, figures.expired, figures.units, figures.revenue_cents) == (2, 1, 1, 4, 2400)
    assert services.shop_group_figures(gw.shop_id, NOW + timedelta(hours=1)).opened == 0  # before the period


def test_a_shop_without_group_buys_has_no_panel(gw, client):
    other = user("plainmerchant")
    shop = open_shop(other, gw.admin)
    log_in(client, SimpleNamespace(username=other.username, password=DEFAULT_PASSWORD))
    html = client.get(f"/shop/{shop.slug}/dashboard").get_data(as_text=True)
    assert "Sales dashboard" in html and 'data-panel="groupbuy"' not in html
