"""Buying from a note in a browser: a reader opens a note, buys the tagged product, adds an address, uses a
coupon, pays on the sandbox page; the merchant ships it; the reader confirms. On a desktop in English
and on a phone in Chinese."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.shop import catalog, coupons, tags
from app.shop.models import Order, OrderStatus, ProductStatus, Sku
from tests import factories
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"  # tests.conftest.DEFAULT_PASSWORD, which `person` uses
SHOTS = Path("/tmp/shots")


@pytest.fixture
def shop_world(live_app):
    """An approved shop with one product (image, one option, 3 in stock), a coupon, and a note tagging it."""
    with live_app.app_context():
        admin, merchant = person("admin", is_admin=True), person("merchant")
        creator = person("creator", onboarded_at=now())
        person("reader", onboarded_at=now())
        shop = catalog.apply_for_shop(merchant, slug="glow-lab", name="Glow Lab 光研所")
        catalog.approve_shop(admin, shop.id)
        product = catalog.create_product(merchant, shop.id, title="Glow serum 焕亮精华", description="30 ml",
                                         commission_bps=800)
        picture = io.BytesIO()
        Image.new("RGB", (600, 600), (236, 170, 190)).save(picture, "PNG")
        catalog.upload_product_images(merchant, product.id, [picture.getvalue()])
        sku = catalog.add_sku(merchant, product.id, code="GLOW-30", label="30 ml", price_cents=12_800, stock=3)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        coupons.create_coupon(merchant, code="GLOW10", kind="fixed", value=1_000, shop_id=shop.id)
        note = factories.post(author=creator, title="My holy-grail serum 我的本命精华")
        tags.set_post_products(creator, note, [product.id])
        return {"note_id": note.id, "sku_id": sku.id}


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
def test_buy_from_a_note_pay_ship_and_confirm(live_server, live_app, browser, shop_world, screenshot_dir, device):
    phone = device.startswith("phone")
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone \
        else {"viewport": {"width": 1280, "height": 900}}
    locale = "zh-CN" if phone else "en-US"
    words = {"buy": "购买" if phone else "Buy", "pay": "支付" if phone else "Pay",
             "place": "下单并支付" if phone else "Place order and pay"}

    reader = browser.new_context(locale=locale, **options)
    page = reader.new_page()
    _log_in(page, live_server, "reader")
    page.goto(f"{live_server}/p/{shop_world['note_id']}")
    card = page.locator(".product-card").first
    expect(card).to_contain_text("Glow serum")
    expect(card).to_contain_text("128.00")
    _shot(page, screenshot_dir, f"{device}-note-with-product.png")
    card.get_by_role("button", name=re.compile(words["buy"])).click()

    expect(page).to_have_url(re.compile(r"/checkout$"))
    page.fill("input[name=recipient_name]", "李雷")
    page.fill("input[name=phone]", "13800000000")
    page.fill("input[name=region]", "上海市")
    page.fill("input[name=line1]", "花园路 1 号")
    page.locator("form[action='/addresses'] button[type=submit]").click()
    page.fill("input[name=coupon]", "glow10")
    page.locator("button[name=action][value=quote]").click()
    expect(page.locator("dd.total")).to_contain_text("118.00")
    _shot(page, screenshot_dir, f"{device}-checkout.png")
    page.get_by_role("button", name=words["place"]).click()

    expect(page).to_have_url(re.compile(r"/pay/sandbox/\d+$"))
    _shot(page, screenshot_dir, f"{device}-sandbox-pay.png")
    page.get_by_role("button", name=words["pay"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    with live_app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.total_cents, order.lines[0].source_post_id) == (
            OrderStatus.PAID, 11_800, shop_world["note_id"])
        assert db.session.scalar(select(Sku.stock).where(Sku.id == shop_world["sku_id"])) == 2
    _shot(page, screenshot_dir, f"{device}-order-paid.png")

    merchant = browser.new_context(locale=locale, **options).new_page()
    _log_in(merchant, live_server, "merchant")
    merchant.goto(f"{live_server}/shop/glow-lab/orders")
    row = merchant.locator(f"#order-{order_id}")
    expect(row).to_contain_text("李雷")
    row.locator("input[name=tracking_number]").fill("SF1234567890")
    row.locator("button[type=submit]").click()
    expect(merchant.locator(".flash-success")).to_be_visible()
    _shot(merchant, screenshot_dir, f"{device}-orders-to-ship.png")

    page.goto(f"{live_server}/orders/{order_id}")
    expect(page.locator(".tracking")).to_have_text("SF1234567890")
    page.locator(f"form[action='/orders/{order_id}/confirm'] button").click()
    with live_app.app_context():
        assert db.session.get(Order, order_id).status == OrderStatus.COMPLETED
    page.goto(f"{live_server}/orders")
    _shot(page, screenshot_dir, f"{device}-my-orders.png")
    reader.close()
