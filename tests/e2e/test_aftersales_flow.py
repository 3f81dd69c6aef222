"""The buyer's after-sales in a browser (request with a photo → the shop approves → refunded) and the
merchant's edit-product path (details, a refused price, a saved price, the history), on a desktop in English
and on a phone in Chinese. Screenshots go to /tmp/shots."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.core.clock import now
from app.extensions import db
from app.shop import cart, catalog, checkout, orders
from app.shop.aftersale_models import AfterSale
from app.shop.models import Order, ProductStatus, Sku
from tests.shop.conftest import pay
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"
SHOTS = Path("/tmp/shots")


def _png(colour=(236, 170, 190), size=(600, 600)) -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", size, colour).save(picture, "PNG")
    return picture.getvalue()


@pytest.fixture
def bought(live_app, tmp_path):
    """A shop with one product, and the reader's shipped order of two units."""
    with live_app.app_context():
        admin, merchant = person("admin", is_admin=True), person("merchant")
        reader = person("reader", onboarded_at=now())
        merchant.onboarded_at = now()
        shop = catalog.apply_for_shop(merchant, slug="glow-lab", name="Glow Lab 光研所")
        catalog.approve_shop(admin, shop.id)
        product = catalog.create_product(merchant, shop.id, title="Glow serum 焕亮精华", description="30 ml",
                                         commission_bps=800)
        catalog.upload_product_images(merchant, product.id, [_png()])
        sku = catalog.add_sku(merchant, product.id, code="GLOW-30", label="30 ml", price_cents=12_800, stock=5)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        address = cart.add_address(reader, recipient_name="李雷", phone="13800000000", line1="长乐路 1 号",
                                   region="上海市")
        placed = checkout.place_orders(reader, [{"sku_id": sku.id, "quantity": 2}], address.id)
        pay(placed.payment.id)
        orders.ship_order(merchant, placed.orders[0].id, "SF1234567")
        db.session.commit()
        photo = tmp_path / "crack.png"
        photo.write_bytes(_png((120, 90, 80)))
        return {"order_id": placed.orders[0].id, "product_id": product.id, "sku_id": sku.id, "photo": str(photo)}


def _context(browser, device):
    phone = device.startswith("phone")
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone \
        else {"viewport": {"width": 1280, "height": 900}}
    return browser.new_context(locale="zh-CN" if phone else "en-US", **options)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


WORDS = {
    "desktop-en": {"ask": "Ask for a refund or return", "send": "Send request", "waiting": "Waiting for the shop",
                   "approve": "Approve and refund", "refunded": "Refunded", "save_option": "Save option",
                   "save": "Save details", "price_error": "Enter a price above zero"},
    "phone-zh": {"ask": "申请退款/退货", "send": "提交申请", "waiting": "等待商家处理", "approve": "同意并退款",
                 "refunded": "已退款", "save_option": "保存规格", "save": "保存信息",
                 "price_error": "请输入大于零的价格"},
}


@pytest.mark.parametrize("device", ["desktop-en", "phone-zh"])
def test_request_approve_refund_then_edit_the_product(live_server, live_app, browser, bought, device):
    words = WORDS[device]
    buyer = _context(browser, device).new_page()
    _log_in(buyer, live_server, "reader")
    buyer.goto(f"{live_server}/orders/{bought['order_id']}")
    buyer.get_by_role("link", name=words["ask"]).click()
    buyer.locator("input[name^=qty-]").fill("1")
    buyer.select_option("select[name=reason]", "damaged")
    buyer.fill("textarea[name=note]", "瓶盖裂了 The cap arrived cracked")
    buyer.set_input_files("input[name=photos]", bought["photo"])
    _shot(buyer, f"{device}-aftersale-form.png")
    buyer.get_by_role("button", name=words["send"]).click()
    expect(buyer.locator("h1 .aftersale-status")).to_have_text(words["waiting"])
    expect(buyer.locator(".aftersale-photos img")).to_have_count(1)
    _shot(buyer, f"{device}-aftersale-requested.png")

    with live_app.app_context():
        request_id = db.session.query(AfterSale.id).scalar()
    shop = _context(browser, device).new_page()
    _log_in(shop, live_server, "merchant")
    shop.goto(f"{live_server}/shop/glow-lab/after-sales")
    shop.locator(f"a[href='/after-sales/{request_id}']").first.click()
    _shot(shop, f"{device}-aftersale-shop-view.png")
    shop.get_by_role("button", name=words["approve"]).click()
    expect(shop.locator("h1 .aftersale-status")).to_have_text(words["refunded"])
    with live_app.app_context():
        assert db.session.get(Order, bought["order_id"]).refunded_cents == 12_800

    buyer.goto(f"{live_server}/orders/{bought['order_id']}")
    expect(buyer.locator(".order-events")).to_contain_text(words["refunded"])
    _shot(buyer, f"{device}-aftersale-refunded-order.png")

    # The merchant edits the product: details, a price of zero refused next to the field, then a real price.
    shop.goto(f"{live_server}/my-shop")
    expect(shop.locator(".manage-row")).to_have_count(1)
    _shot(shop, f"{device}-manage.png")
    shop.locator(".manage-row a[href$='/edit']").first.click()
    shop.fill("input[name=title]", "Glow serum 焕亮精华 (new)")
    shop.get_by_role("button", name=words["save"]).click()
    price = shop.locator(f"#sku-{bought['sku_id']}-price")
    price.fill("0")
    shop.get_by_role("button", name=words["save_option"]).click()
    expect(shop.locator(f"#sku-{bought['sku_id']}-price-error")).to_contain_text(words["price_error"])
    _shot(shop, f"{device}-edit-product-error.png")
    shop.locator(f"#sku-{bought['sku_id']}-price").fill("99")
    shop.get_by_role("button", name=words["save_option"]).click()
    expect(shop.locator(".product-history")).to_contain_text(re.compile("99"))
    _shot(shop, f"{device}-edit-product-saved.png")
    with live_app.app_context():
        assert db.session.get(Sku, bought["sku_id"]).price_cents == 9_900
