"""Sharing commissions in a browser, with the controllable clock: the creator makes a share link for a note; a
reader follows it, sees who earns from the purchase, buys and pays; the creator's pending balance rises; the
order completes, the clock passes the return window, the availability job runs and the commission is
available; a refund of a second purchase reverses its commission; the merchant's dashboard shows the note that
drove the sales. English on a desktop, Chinese on a phone."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.models import User
from app.affiliate import ledger
from app.core.clock import now
from app.extensions import db
from app.shop import catalog, orders, tags
from app.shop.models import Order, OrderStatus, ProductStatus
from tests import factories
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"
SHOTS = Path("/tmp/shots")


@pytest.fixture
def share_world(live_app, clock):
    with live_app.app_context():
        admin, merchant = person("admin", is_admin=True), person("merchant")
        creator = person("creator", onboarded_at=now())
        person("reader", onboarded_at=now())
        shop = catalog.apply_for_shop(merchant, slug="glow-lab", name="Glow Lab 光研所")
        catalog.approve_shop(admin, shop.id)
        product = catalog.create_product(merchant, shop.id, title="Glow serum 焕亮精华", description="30 ml",
                                         commission_bps=1000)
        picture = io.BytesIO()
        Image.new("RGB", (600, 600), (236, 170, 190)).save(picture, "PNG")
        catalog.upload_product_images(merchant, product.id, [picture.getvalue()])
        catalog.add_sku(merchant, product.id, code="GLOW-30", label="30 ml", price_cents=12_800, stock=10)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        note = factories.post(author=creator, title="My holy-grail serum 我的本命精华")
        tags.set_post_products(creator, note, [product.id])
        return {"note_id": note.id, "product_id": product.id}


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


def _buy_now_and_pay(page, base: str, words: dict, first: bool) -> int:
    page.get_by_role("button", name=words["buy_now"]).click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    if first:
        page.fill("input[name=recipient_name]", "李雷")
        page.fill("input[name=phone]", "13800000000")
        page.fill("input[name=region]", "上海市")
        page.fill("input[name=line1]", "花园路 1 号")
        page.locator("form[action='/addresses'] button[type=submit]").click()
    page.get_by_role("button", name=words["place"]).click()
    expect(page).to_have_url(re.compile(r"/pay/sandbox/\d+$"))
    page.get_by_role("button", name=words["pay"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize("device", ["desktop-en", "phone-zh"])
def test_share_buy_earn_release_refund_and_dashboard(live_server, live_app, browser, share_world, clock,
                                                    screenshot_dir, device):
    phone = device.startswith("phone")
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone \
        else {"viewport": {"width": 1280, "height": 900}}
    locale = "zh-CN" if phone else "en-US"
    words = {"share": "分享赚佣金" if phone else "Share & earn", "create": "生成我的分享链接" if phone else
             "Create my share link", "buy_now": "立即购买" if phone else "Buy now",
             "pay": "支付" if phone else "Pay", "place": "下单并支付" if phone else "Place order and pay",
             "disclosure": "将获得佣金" if phone else "earns a commission", "pending": "待结算" if phone else "Pending",
             "notes": "带来销量的笔记" if phone else "Notes that drove sales"}

    # The creator shares the note and gets a link with a QR code and the estimate (10 % of ¥128 = ¥12.80).
    creator = browser.new_context(locale=locale, **options).new_page()
    _log_in(creator, live_server, "creator")
    creator.goto(f"{live_server}/p/{share_world['note_id']}")
    creator.get_by_role("link", name=re.compile(words["share"])).click()
    creator.get_by_role("button", name=words["create"]).click()
    shared = creator.locator("#share-url").input_value()
    assert re.search(r"^http://localhost/s/[A-Za-z0-9]{8}$", shared)  # absolute, from PUBLIC_BASE_URL
    url = live_server + shared.removeprefix("http://localhost")
    expect(creator.locator(".share-qr svg")).to_be_visible()
    expect(creator.locator(".earn-estimate")).to_contain_text("12.80")
    _shot(creator, screenshot_dir, f"{device}-aff-share-sheet.png")

    # A reader follows it (not yet signed in), then signs in: the click carries over.
    reader_context = browser.new_context(locale=locale, **options)
    reader = reader_context.new_page()
    reader.goto(url)
    expect(reader).to_have_url(re.compile(rf"/p/{share_world['note_id']}$"))
    _log_in(reader, live_server, "reader")
    reader.goto(f"{live_server}/products/{share_world['product_id']}")
    expect(reader.locator(".disclosure")).to_contain_text(words["disclosure"])
    _shot(reader, screenshot_dir, f"{device}-aff-product-disclosure.png")
    first_order = _buy_now_and_pay(reader, live_server, words, first=True)
    expect(reader.locator(".disclosure-card")).to_be_visible()
    _shot(reader, screenshot_dir, f"{device}-aff-order-disclosure.png")

    creator.goto(f"{live_server}/me/earnings")
    expect(creator.locator("[data-stat=pending] .stat-value")).to_contain_text("12.80")
    _shot(creator, screenshot_dir, f"{device}-aff-earnings-pending.png")

    # Shipped, confirmed, then the clock passes the return window and the availability job runs.
    with live_app.app_context():
        merchant = db.session.scalar(select(User).where(User.username == "merchant"))
        buyer = db.session.scalar(select(User).where(User.username == "reader"))
        orders.ship_order(merchant, first_order, "SF1234567890")
        orders.confirm_delivery(buyer, first_order)
    clock.advance(days=7, hours=1)
    with live_app.app_context():
        assert ledger.release_available_commissions() == 1
    _log_in(creator, live_server, "creator")  # a week later: sessions without "remember me" have ended
    creator.goto(f"{live_server}/me/earnings")
    expect(creator.locator("[data-stat=available] .stat-value")).to_contain_text("12.80")
    expect(creator.locator("[data-stat=pending] .stat-value")).to_contain_text("0.00")

    # A second purchase through the link, refunded by the shop: its commission is reversed.
    _log_in(reader, live_server, "reader")
    reader.goto(url)
    reader.goto(f"{live_server}/products/{share_world['product_id']}")
    second_order = _buy_now_and_pay(reader, live_server, words, first=False)
    merchant_page = browser.new_context(locale=locale, **options).new_page()
    _log_in(merchant_page, live_server, "merchant")
    merchant_page.goto(f"{live_server}/orders/{second_order}")
    merchant_page.locator("details.card summary").click()
    merchant_page.check("#refund-everything")
    merchant_page.fill("#refund-reason", "changed mind")
    merchant_page.locator(f"form[action='/orders/{second_order}/refund'] button[type=submit]").click()
    # the shop's refund form has a confirmation step: the amount first, then "Send the refund"
    merchant_page.locator(f"form[action='/orders/{second_order}/refund'] button.btn-danger").click()
    merchant_page.wait_for_load_state()
    with live_app.app_context():
        assert db.session.get(Order, second_order).status == OrderStatus.REFUNDED
    creator.goto(f"{live_server}/me/earnings")
    expect(creator.locator("tr.entry-reversed")).to_have_count(1)
    expect(creator.locator("[data-stat=pending] .stat-value")).to_contain_text("0.00")
    expect(creator.locator("[data-stat=available] .stat-value")).to_contain_text("12.80")
    with live_app.app_context():
        totals = ledger.balances(db.session.scalar(select(User.id).where(User.username == "creator")))
        assert (totals.pending_cents, totals.available_cents, totals.reversed_cents) == (0, 1280, 1280)
    _shot(creator, screenshot_dir, f"{device}-aff-earnings.png")

    # The merchant's dashboard shows the note that drove the sales.
    merchant_page.goto(f"{live_server}/shop/glow-lab/dashboard?days=30")
    expect(merchant_page.get_by_text(words["notes"])).to_be_visible()
    expect(merchant_page.locator(".notes-table")).to_contain_text("My holy-grail serum")
    _shot(merchant_page, screenshot_dir, f"{device}-aff-dashboard.png")
    reader_context.close()
