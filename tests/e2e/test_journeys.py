"""The reader's and creator's new journeys in a browser, on a desktop in English and a phone in Chinese: the
phone tab bar and Me, grouped order notifications with the product, notification settings, the photo-first
note editor (previews, reorder, tap to pin) and a note's statistics. Screenshots land in /tmp/shots too."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.core.clock import frozen_at, now
from app.events.log import record_action, record_impressions
from app.extensions import db
from app.posts import services as posts
from app.shop import catalog, checkout, orders, payments, tags
from app.shop.cart import add_address
from app.shop.models import Payment, ProductStatus
from tests import factories
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"
SHOTS = Path("/tmp/shots")


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def journey_world(live_app, tmp_path):
    with live_app.app_context():
        admin, merchant = person("admin", is_admin=True), person("merchant")
        creator = person("creator", onboarded_at=now(), timezone="Asia/Shanghai")
        reader = person("reader", onboarded_at=now())
        community = factories.community("glow", owner=creator, name="美妆护肤 Glow Lab", vertical="beauty")
        shop = catalog.apply_for_shop(merchant, slug="glow-lab", name="Glow Lab 光研所")
        catalog.approve_shop(admin, shop.id)
        product = catalog.create_product(merchant, shop.id, title="清爽防晒霜 Daily sunscreen SPF50")
        catalog.upload_product_images(merchant, product.id, [_png((250, 210, 140))])
        sku = catalog.add_sku(merchant, product.id, code="SUN-50", label="50 ml", price_cents=12_800, stock=9)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        note = posts.create_post(creator, community_slug="glow", title="新手必看：防晒霜怎么选",
                                 body="看 SPF 和 PA，通勤选清爽的。", kind="note", images=[_png((235, 200, 190))])
        tags.set_post_products(creator, note, [product.id])
        posts.edit_post(creator, note, title="新手必看：防晒霜怎么选（更新）")
        address = add_address(reader, recipient_name="李雷", phone="13800000000", line1="花园路 1 号",
                              region="上海市")
        for days_ago in range(6, 0, -1):
            with frozen_at(now() - timedelta(days=days_ago)):
                record_impressions([note.id] * (3 + 2 * (6 - days_ago)), surface="for_you", request_id=f"r{days_ago}",
                                   user_id=reader.id)
                for _ in range(1 + (6 - days_ago) // 2):
                    record_action("open", user_id=reader.id, post_id=note.id)
        record_action("product_click", user_id=reader.id, post_id=note.id)
        placed = checkout.place_orders(reader, [{"sku_id": sku.id, "quantity": 2, "source_post_id": note.id}],
                                       address.id)
        provider = payments.get_provider("sandbox")
        body, signature = provider.callback_for(db.session.get(Payment, placed.payment.id))
        payments.handle_payment_callback(provider, body, signature)
        orders.ship_order(merchant, placed.orders[0].id, "SF1234567890")
        factories.post(author=creator, community_=community, title="A rich night cream that works")
        return {"note_id": note.id}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()


def _shot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / name), full_page=True)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("device", ["desktop-en", "phone-zh"])
def test_nav_notifications_editor_and_statistics(live_server, browser, journey_world, screenshot_dir, tmp_path,
                                                 device):
    phone = device.startswith("phone")
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone \
        else {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(locale="zh-CN" if phone else "en-US", timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    _log_in(page, live_server, "reader")

    page.goto(f"{live_server}/c")
    tabbar = page.locator("nav.tabbar")
    if phone:
        expect(tabbar).to_be_visible()
        expect(tabbar).to_contain_text("购物车")
        expect(page.locator(".nav-settings")).to_be_hidden()
    else:
        expect(tabbar).to_be_hidden()
    _shot(page, screenshot_dir, f"{device}-communities-nav.png")

    page.goto(f"{live_server}/notifications")
    line = page.locator(".notification").first
    expect(line).to_contain_text("SF" if False else ("已发货" if phone else "has shipped"))
    expect(line).to_contain_text("Daily sunscreen")
    expect(line.locator("img.notification-thumb")).to_be_visible()
    expect(page.locator(".notification")).to_have_count(1)  # paid + shipped read as one line
    _shot(page, screenshot_dir, f"{device}-notifications.png")

    page.goto(f"{live_server}/settings/notifications")
    page.locator("input[value=groupbuy]").uncheck()
    page.locator("main button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("input[value=groupbuy]")).not_to_be_checked()
    _shot(page, screenshot_dir, f"{device}-notification-settings.png")

    if phone:
        page.locator("nav.tabbar a").last.click()
        expect(page).to_have_url(re.compile(r"/me$"))
        expect(page.get_by_role("button", name="退出")).to_be_visible()
        _shot(page, screenshot_dir, f"{device}-me.png")

    page.goto(f"{live_server}/search?q=sunscreen")
    expect(page.locator("main")).to_contain_text("防晒霜怎么选")  # the bridge: an English query finds 防晒
    context.close()

    context = browser.new_context(locale="zh-CN" if phone else "en-US", timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    _log_in(page, live_server, "creator")
    page.goto(f"{live_server}/p/new")
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(_png((240, 160, 170)))
    second.write_bytes(_png((150, 190, 230)))
    page.set_input_files("input[name=images]", [str(first), str(second)])
    tray = page.locator("#photo-tray .photo-tray-item")
    expect(tray).to_have_count(2)
    first_name = tray.first.locator("img").get_attribute("alt")
    tray.first.locator("button").nth(1).click()  # move the first photo later
    expect(tray.first.locator("img")).not_to_have_attribute("alt", first_name)
    _shot(page, screenshot_dir, f"{device}-editor-photos.png")

    page.goto(f"{live_server}/p/{journey_world['note_id']}/edit")
    page.locator(".pin-place").first.click()
    page.locator("[data-existing-image] img").first.click(position={"x": 30, "y": 40})
    pin = page.locator("input[name^=pin_]").first
    expect(pin).to_have_value(re.compile(r"^0\.\d\d,0\.\d\d$"))
    _shot(page, screenshot_dir, f"{device}-editor-pin.png")

    page.goto(f"{live_server}/p/{journey_world['note_id']}")
    page.locator("a[href$='/revisions']").click()
    expect(page.locator(".revision")).to_have_count(2)
    _shot(page, screenshot_dir, f"{device}-revisions.png")

    page.goto(f"{live_server}/p/{journey_world['note_id']}/stats")
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator(".stat-tiles")).to_contain_text("2")
    _shot(page, screenshot_dir, f"{device}-note-stats.png")
    context.close()
