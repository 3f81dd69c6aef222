"""Group-buys in a browser: a reader opens a group and pays, two other readers join through the share link and
it fills; another group expires (the clock moves on, the expiry job runs) and its members see their refunds;
the merchant sees the campaign's figures. On a desktop in English and on a phone in Chinese."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import Group, GroupMember
from app.shop import cart, catalog, payments
from app.shop.models import Order, Payment, ProductStatus
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"
SHOTS = Path("/tmp/shots")


@pytest.fixture
def group_world(live_app, clock):
    """A shop with one product in a live campaign (groups of 3, 24 hours to fill), readers with addresses,
    and one open group (Ann and Bob paid) that is going to expire."""
    with live_app.app_context():
        admin, merchant = person("admin", is_admin=True), person("merchant")
        shop = catalog.apply_for_shop(merchant, slug="glow-lab", name="Glow Lab 光研所")
        catalog.approve_shop(admin, shop.id)
        product = catalog.create_product(merchant, shop.id, title="Glow serum 焕亮精华", description="30 ml")
        picture = io.BytesIO()
        Image.new("RGB", (600, 600), (236, 170, 190)).save(picture, "PNG")
        catalog.upload_product_images(merchant, product.id, [picture.getvalue()])
        sku = catalog.add_sku(merchant, product.id, code="GLOW-30", label="30 ml", price_cents=12_800, stock=20)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        campaign = services.create_campaign(merchant, product.id, services.CampaignInput(
            prices={sku.id: 8_900}, group_size=3, window_hours=24, starts_at=now() - timedelta(days=1),
            ends_at=now() + timedelta(days=7), per_order_limit=2, per_user_limit=2))
        addresses = {}
        for name in ("reader", "bob", "cat", "ann"):
            user = person(name, onboarded_at=now())
            addresses[name] = (user, cart.add_address(user, recipient_name=name.title(), phone="13800000000",
                                                      line1="花园路 1 号", region="上海市").id)
        provider = payments.get_provider("sandbox")

        def paid(joined):
            body, signature = provider.callback_for(db.session.get(Payment, joined.checkout.payment.id))
            payments.handle_payment_callback(provider, body, signature)

        ann, ann_address = addresses["ann"]
        doomed = services.open_group(ann, campaign.id, sku_id=sku.id, address_id=ann_address)
        paid(doomed)
        bob, bob_address = addresses["bob"]
        paid(services.join_group(bob, doomed.group.id, sku_id=sku.id, address_id=bob_address))
        return {"product_id": product.id, "doomed": doomed.group.id}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _shot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / name), full_page=True)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("device", ["desktop-en", "phone-zh"])
def test_open_share_fill_expire_and_the_merchants_figures(live_server, live_app, browser, group_world, clock,
                                                          screenshot_dir, device):
    phone = device.startswith("phone")
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone \
        else {"viewport": {"width": 1280, "height": 900}}
    locale = "zh-CN" if phone else "en-US"
    words = {"open": "发起拼团" if phone else "Open a group", "pay": "支付" if phone else "Pay",
             "join": "参团并支付" if phone else "Join and pay", "filled": "已成团" if phone else "Filled",
             "refunded": "已自动退款" if phone else "refunded automatically",
             "seats": "还差 2 人" if phone else "2 seats left"}

    def browse_as(username):
        page = browser.new_context(locale=locale, **options).new_page()
        _log_in(page, live_server, username)
        return page

    # The reader opens a group from the product page and pays for it.
    reader = browse_as("reader")
    reader.goto(f"{live_server}/products/{group_world['product_id']}")
    panel = reader.locator(".gb-panel")
    expect(panel).to_contain_text("89.00")
    _shot(reader, screenshot_dir, f"{device}-gb-product.png")
    panel.get_by_role("button", name=words["open"]).click()
    expect(reader).to_have_url(re.compile(r"/pay/sandbox/\d+$"))
    reader.get_by_role("button", name=words["pay"], exact=True).click()
    expect(reader).to_have_url(re.compile(r"/orders/\d+$"))
    expect(reader.locator(".gb-order-panel")).to_be_visible()
    with live_app.app_context():
        group_id = db.session.scalar(select(Group.id).where(Group.id != group_world["doomed"]))
    reader.goto(f"{live_server}/g/{group_id}")
    expect(reader.locator(".gb-status")).to_contain_text(words["seats"])
    share_url = reader.locator("#share-url").input_value()
    assert share_url.endswith(f"/g/{group_id}")
    _shot(reader, screenshot_dir, f"{device}-gb-group-open.png")

    # Two other readers join through the share link; the second payment fills the group.
    for name in ("bob", "cat"):
        friend = browse_as(name)
        friend.goto(f"{live_server}/g/{group_id}")
        friend.get_by_role("button", name=re.compile(words["join"])).click()
        expect(friend).to_have_url(re.compile(r"/pay/sandbox/\d+$"))
        friend.get_by_role("button", name=words["pay"], exact=True).click()
        expect(friend).to_have_url(re.compile(r"/orders/\d+$"))
    friend.goto(f"{live_server}/g/{group_id}")
    expect(friend.locator(".gb-hero")).to_contain_text(words["filled"])
    _shot(friend, screenshot_dir, f"{device}-gb-group-filled.png")
    with live_app.app_context():
        assert db.session.get(Group, group_id).state == "filled"
        assert db.session.scalar(select(Order.hold_reason).where(Order.hold_reason.is_not(None))) is None \
            or db.session.get(Group, group_world["doomed"]).state == "open"

    # The other group's time runs out; the expiry job refunds Ann and Bob.
    clock.advance(hours=25)
    with live_app.app_context():
        assert services.expire_overdue_groups() == 1
        bob_order = db.session.scalar(select(GroupMember.order_id).join(GroupMember.user)
                                      .where(GroupMember.group_id == group_world["doomed"],
                                             GroupMember.is_leader.is_(False)))
    bob = browse_as("bob")
    bob.goto(f"{live_server}/me/groups")
    expect(bob.locator("main")).to_contain_text("89.00")
    _shot(bob, screenshot_dir, f"{device}-gb-my-groups.png")
    bob.goto(f"{live_server}/orders/{bob_order}")
    expect(bob.locator(".gb-order-panel")).to_contain_text(words["refunded"])
    _shot(bob, screenshot_dir, f"{device}-gb-refunded-order.png")

    # The merchant sees the campaign's figures.
    merchant = browse_as("merchant")
    merchant.goto(f"{live_server}/shop/glow-lab/campaigns")
    figures = merchant.locator(".gb-figures").first
    expect(figures).to_contain_text("50%")
    _shot(merchant, screenshot_dir, f"{device}-gb-merchant.png")
