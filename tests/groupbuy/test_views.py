"""The group-buy pages: product panel, group page (public, OpenGraph), joining by form, the merchant's pages."""
from types import SimpleNamespace

import pytest

from app.core.clock import frozen_at
from app.extensions import db
from app.groupbuy.models import Campaign, Group
from tests.conftest import DEFAULT_PASSWORD, log_in
from tests.groupbuy.conftest import NOW, fresh_group, join, open_group
from tests.shop.conftest import buyer_with_address, pay


@pytest.fixture(autouse=True)
def frozen():
    with frozen_at(NOW):
        yield


def as_login(user):
    return SimpleNamespace(username=user.username, password=DEFAULT_PASSWORD)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_product_page_shows_the_group_price_and_groups_to_join(gw, client):
    group_id, leader, _ = open_group(gw, "ann")
    html = text(client.get(f"/products/{gw.product_id}"))
    assert "Group-buy" in html and "6.00" in html and "Log in to open a group" in html
    assert f"/g/{group_id}" in html and "2 seats left" in html


def test_the_group_page_is_public_with_share_tags_and_hides_the_unpaid(gw, client):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob", paid=False)
    html = text(client.get(f"/g/{group_id}"))
    assert 'property="og:title"' in html and "1 seat left at CN¥6.00" in html
    assert "ann" in html and "bob" not in html  # bob has not paid: never shown
    assert client.get("/g/999999").status_code == 404
    assert client.get("/g/abc").status_code == 404


def test_a_reader_joins_through_the_share_link_and_the_group_fills(gw, client):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob")
    cat, address = buyer_with_address("cat")
    log_in(client, as_login(cat))
    response = client.post_form(f"/g/{group_id}/join", {"sku_id": str(gw.sku_id), "quantity": "1",
                                                        "address_id": str(address)})
    assert response.status_code == 302 and "/pay/sandbox/" in response.headers["Location"]
    payment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    pay(payment_id, now=NOW)
    assert fresh_group(group_id).state == "filled"
    html = text(client.get(f"/g/{group_id}"))
    assert "Every order ships now" in html
    assert "Filled" in text(client.get("/me/groups"))


def test_joining_twice_is_refused_with_a_message(gw, client):
    group_id, leader, address = open_group(gw, "ann")
    log_in(client, as_login(leader))
    response = client.post_form(f"/g/{group_id}/join", {"sku_id": str(gw.sku_id), "address_id": str(address)},
                                follow_redirects=True)
    assert "You are already in this group." in text(response)


def test_the_merchant_sees_campaign_figures_and_open_groups(gw, client):
    group_id, _, _ = open_group(gw, "ann")
    log_in(client, as_login(gw.merchant))
    shop_slug = db.session.get(Campaign, gw.campaign_id).shop.slug
    html = text(client.get(f"/shop/{shop_slug}/campaigns"))
    assert "Hand cream" in html and "Fill rate" in html
    html = text(client.get(f"/shop/{shop_slug}/campaigns/{gw.campaign_id}"))
    assert f"/g/{group_id}" in html
    bad = client.post_form(f"/shop/{shop_slug}/campaigns/{gw.campaign_id}",
                           {f"price-{gw.sku_id}": "12", "group_size": "51", "window_hours": "0",
                            "starts_at": "2026-03-01T00:00", "ends_at": "2026-02-01T00:00", "save": "1"})
    assert bad.status_code == 422
    assert "from 2 to 50 people" in text(bad)
    assert db.session.get(Campaign, gw.campaign_id).group_size == 3
    assert client.post_form(f"/shop/{shop_slug}/campaigns/{gw.campaign_id}/end").status_code == 302
    assert db.session.get(Group, group_id).state == "expired"


def test_the_following_feed_shows_one_group_opened_by_someone_followed(gw, client):
    from app.social.services import follow

    group_id, ann, _ = open_group(gw, "ann")
    open_group(gw, "amy")
    reader, _ = buyer_with_address("reader")
    follow(reader, ann)
    log_in(client, as_login(reader))
    html = text(client.get("/following"))
    assert html.count("gb-feed-card") == 1
    assert "ann opened a group for Hand cream" in html and f"/g/{group_id}" in html


def test_a_reader_without_an_address_is_sent_to_add_one_from_the_group_and_product_pages(gw, client):
    from tests.shop.conftest import user

    group_id, _, _ = open_group(gw, "ann")
    newcomer = user("no_address_yet")
    log_in(client, as_login(newcomer))
    for path in (f"/g/{group_id}", f"/products/{gw.product_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'href="/checkout"' in text(response)
