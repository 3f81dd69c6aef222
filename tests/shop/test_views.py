"""The storefront's HTML pages, through the test client: what a buyer, a merchant and an admin click."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.extensions import db
from app.shop import cart, coupons, tags
from app.shop.models import (
    CartItem,
    Order,
    OrderStatus,
    Payment,
    PaymentCallback,
    PaymentStatus,
    Product,
    ProductStatus,
    Shop,
    ShopStatus,
    Sku,
)
from tests.shop.conftest import buy, buyer_with_address, fresh, open_shop, pay, product_with_sku, snapshot, user
from tests.social.conftest import sign_in


@pytest.fixture
def shop_world(ctx):
    admin = user("boss", is_admin=True)
    merchant = user("seller")
    shop = open_shop(merchant, admin, slug="glow-lab")
    product, sku = product_with_sku(merchant, shop.id, price=12_850, stock=5, title="Glow serum", label="30 ml")
    buyer, address_id = buyer_with_address("reader")
    return {"admin": admin, "merchant": merchant, "shop": shop, "product": product, "sku": sku, "buyer": buyer,
            "address_id": address_id}


def page(response) -> str:
    return response.get_data(as_text=True)


def test_a_user_applies_for_a_shop_and_an_admin_approves_it(ctx, client):
    applicant, admin = user("maker"), user("chief", is_admin=True)
    sign_in(client, "maker")
    bad = client.post_form("/shop/apply", {"name": "", "slug": "No Spaces!"})
    assert bad.status_code == 422 and "lower-case letters" in page(bad)
    assert db.session.scalar(select(func.count()).select_from(Shop)) == 0
    sent = client.post_form("/shop/apply", {"name": "Maker Studio", "slug": "maker-studio"})
    assert sent.status_code == 302
    assert "being reviewed" in page(client.get("/shop/apply"))
    assert client.get("/admin/shops").status_code == 403  # not an admin
    client.post_form("/logout")
    sign_in(client, "chief")
    queue = page(client.get("/admin/shops"))
    assert "Maker Studio" in queue
    shop_id = db.session.scalar(select(Shop.id).where(Shop.owner_id == applicant.id))
    assert client.post_form(f"/admin/shops/{shop_id}/approve").status_code == 302
    assert fresh(Shop, shop_id).status == ShopStatus.APPROVED
    assert client.get("/shop/maker-studio").status_code == 200
    assert admin.is_admin


def test_a_merchant_adds_a_product_with_an_option_and_image_then_publishes(shop_world, client):
    sign_in(client, "seller")
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "pink").save(image, "PNG")
    image.seek(0)
    bad = client.post_form("/shop/glow-lab/products/new", {"title": "Lip oil", "code": "LIP-1", "price": "-3",
                                                           "stock": "x", "commission": "5"})
    assert bad.status_code == 422 and "above zero" in page(bad) and "whole number" in page(bad)
    before = db.session.scalar(select(func.count()).select_from(Product))
    assert before == 1
    made = client.post_form("/shop/glow-lab/products/new", data={
        "title": "Lip oil", "description": "Glossy", "code": "LIP-1", "label": "Cherry", "price": "89.90",
        "stock": "12", "commission": "7.5", "images": (image, "lip.png")}, content_type="multipart/form-data")
    assert made.status_code == 302
    db.session.expire_all()
    product = db.session.scalar(select(Product).where(Product.title == "Lip oil"))
    assert (product.status, product.commission_bps, len(product.images)) == (ProductStatus.DRAFT, 750, 1)
    assert (product.skus[0].price_cents, product.skus[0].stock) == (8990, 12)
    assert client.get(f"/products/{product.id}").status_code == 200  # the owner sees the draft
    client.post_form(f"/products/{product.id}/status", {"status": "active"})
    client.post_form(f"/skus/{product.skus[0].id}/stock", {"delta": "-2"})
    assert fresh(Sku, product.skus[0].id).stock == 10
    client.post_form(f"/skus/{product.skus[0].id}/stock", {"delta": "-50"})  # refused: never below zero
    assert fresh(Sku, product.skus[0].id).stock == 10
    assert fresh(Product, product.id).status == ProductStatus.ACTIVE


def test_a_visitor_cannot_see_a_draft_and_a_stranger_cannot_manage(shop_world, client):
    draft = Product(shop_id=shop_world["shop"].id, title="Secret", status=ProductStatus.DRAFT)
    db.session.add(draft)
    db.session.commit()
    assert client.get(f"/products/{draft.id}").status_code == 404
    user("stranger")
    sign_in(client, "stranger")
    assert client.get("/shop/glow-lab/manage").status_code == 404
    response = client.post_form(f"/skus/{shop_world['sku'].id}/stock", {"delta": "100"})
    assert response.status_code == 403
    assert fresh(Sku, shop_world["sku"].id).stock == 5


def test_product_page_shows_price_stock_and_the_buy_form(shop_world, client):
    html = page(client.get(f"/products/{shop_world['product'].id}"))
    assert "Glow serum" in html and "128.50" in html and "30 ml" in html
    assert 'action="/cart/add"' in html and 'name="buy_now"' in html
    assert "Only 5 left" in html


def test_the_notes_a_product_page_shows_are_logged_as_impressions(shop_world, client):
    from app.events.models import Event
    from tests import factories

    note = factories.post(author=user("creator"), title="My serum routine")
    tags.set_post_products(note.author, note, [shop_world["product"].id])
    sign_in(client, "reader")
    html = page(client.get(f"/products/{shop_world['product'].id}"))
    assert "My serum routine" in html
    shown = db.session.execute(select(Event.post_id, Event.surface, Event.kind, Event.user_id)
                               .where(Event.surface == "product")).all()
    reader_id = db.session.scalar(select(User.id).where(User.username == "reader"))
    assert shown == [(note.id, "product", "impression", reader_id)]


def test_bad_quantities_are_refused_on_the_cart_and_change_nothing(shop_world, client):
    sign_in(client, "reader")
    sku_id = shop_world["sku"].id
    for bad in ("0", "-1", "two", "6", "1.5"):
        response = client.post_form("/cart/add", {"sku_id": sku_id, "quantity": bad}, follow_redirects=True)
        assert response.status_code == 200
        assert re.search(r"flash-error", page(response)), bad
    other_product, other_sku = product_with_sku(shop_world["merchant"], shop_world["shop"].id, title="Toner")
    response = client.post_form("/cart/add", {"sku_id": "999999", "quantity": "1"}, follow_redirects=True)
    assert "no longer for sale" in page(response)
    response = client.post_form("/cart/add", {"sku_id": other_sku.id, "product_id": shop_world["product"].id,
                                              "quantity": "1"}, follow_redirects=True)
    assert "belongs to another product" in page(response)
    assert db.session.scalar(select(func.count()).select_from(CartItem)) == 0
    assert other_product.id != shop_world["product"].id and other_sku


def test_buy_now_from_a_note_attributes_the_order_and_a_tampered_price_is_ignored(shop_world, client):
    from tests import factories

    note = factories.post(author=user("creator"))
    tags.set_post_products(note.author, note, [shop_world["product"].id])
    sign_in(client, "reader")
    response = client.post_form("/cart/add", {"sku_id": shop_world["sku"].id, "quantity": "2",
                                              "source_post_id": note.id, "buy_now": "1", "price_cents": "1"})
    assert response.headers["Location"].endswith("/checkout")
    summary = page(client.get("/checkout"))
    assert "257.00" in summary  # 2 × 128.50, from the SKU, not the form
    placed = client.post_form("/checkout", {"address_id": shop_world["address_id"], "action": "place"})
    assert placed.status_code == 302 and "/pay/sandbox/" in placed.headers["Location"]
    order = db.session.scalar(select(Order))
    assert order.total_cents == 25_700 and order.status == OrderStatus.PENDING_PAYMENT
    assert (order.lines[0].source_post_id, order.lines[0].source_author_id) == (note.id, note.author_id)
    assert fresh(Sku, shop_world["sku"].id).stock == 3  # reserved


def test_checkout_explains_a_refused_coupon_and_places_nothing(shop_world, client):
    admin = shop_world["admin"]
    coupons.create_coupon(admin, code="OLD", kind="percent", value=10, ends_at=clock_now() - timedelta(days=1))
    other_merchant = user("other")
    other_shop = open_shop(other_merchant, admin, slug="other-shop")
    coupons.create_coupon(other_merchant, code="THEIRS", kind="fixed", value=500, shop_id=other_shop.id)
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 1)
    sign_in(client, "reader")
    before = snapshot()
    for code, reason in (("OLD", "expired"), ("THEIRS", "another shop")):
        response = client.post_form("/checkout", {"address_id": shop_world["address_id"], "coupon": code,
                                                  "action": "place"})
        assert response.status_code == 422, code
        assert reason in page(response).lower() or reason in page(response), (code, page(response)[:2000])
    assert snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(shop_world, client):
    sign_in(client, "reader")
    response = client.get("/checkout", follow_redirects=True)
    assert "Your cart is empty" in page(response)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_sandbox_page_pays_once_and_a_decline_can_be_retried(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 1)
    payment_id, order_id = result.payment.id, result.orders[0].id
    sign_in(client, "reader")
    pay_page = page(client.get(f"/pay/sandbox/{payment_id}"))
    assert "128.50" in pay_page and 'value="pay"' in pay_page
    declined = client.post_form(f"/pay/sandbox/{payment_id}", {"decision": "decline"})
    assert declined.headers["Location"].endswith(f"/orders/{order_id}")
    assert fresh(Payment, payment_id).status == PaymentStatus.FAILED
    assert fresh(Order, order_id).status == OrderStatus.PENDING_PAYMENT
    retry = client.post_form(f"/orders/pay/{payment_id}")
    assert retry.headers["Location"].endswith(f"/pay/sandbox/{payment_id}")
    client.post_form(f"/pay/sandbox/{payment_id}", {"decision": "pay"})
    client.post_form(f"/pay/sandbox/{payment_id}", {"decision": "pay"})  # pressed twice
    assert fresh(Order, order_id).status == OrderStatus.PAID
    assert db.session.scalar(select(func.count()).select_from(PaymentCallback)
                             .where(PaymentCallback.outcome == "paid")) == 1
    assert "Paid" in page(client.get("/orders"))


def test_someone_else_cannot_open_your_pay_page(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 1)
    user("nosy")
    sign_in(client, "nosy")
    assert client.get(f"/pay/sandbox/{result.payment.id}").status_code == 404
    assert client.post_form(f"/pay/sandbox/{result.payment.id}", {"decision": "pay"}).status_code == 404
    assert fresh(Payment, result.payment.id).status == PaymentStatus.CREATED
    assert client.get(f"/orders/{result.orders[0].id}").status_code == 404


def test_paying_after_the_reservation_expired_is_refused(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 1,
                 now=clock_now() - timedelta(hours=1))
    sign_in(client, "reader")
    response = client.post_form(f"/orders/pay/{result.payment.id}", follow_redirects=True)
    assert "no longer held" in page(response)
    assert fresh(Payment, result.payment.id).status == PaymentStatus.CREATED


def test_the_callback_endpoint_verifies_the_signature(shop_world, client):
    from app.shop.payments import get_provider

    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 1)
    payment = db.session.get(Payment, result.payment.id)
    body, signature = get_provider("sandbox").callback_for(payment)
    forged = client.post("/payments/callback/sandbox", data=body, headers={"X-Sandbox-Signature": "0" * 64})
    assert forged.status_code == 400
    assert fresh(Order, result.orders[0].id).status == OrderStatus.PENDING_PAYMENT
    wrong_amount, wrong_sig = get_provider("sandbox").callback_for(payment, amount_cents=1)
    assert client.post("/payments/callback/sandbox", data=wrong_amount,
                       headers={"X-Sandbox-Signature": wrong_sig}).status_code == 400
    for _ in range(2):
        ok = client.post("/payments/callback/sandbox", data=body, headers={"X-Sandbox-Signature": signature})
        assert ok.status_code == 200
    assert fresh(Order, result.orders[0].id).status == OrderStatus.PAID
    outcomes = sorted(db.session.scalars(select(PaymentCallback.outcome)))
    assert outcomes == ["duplicate", "paid", "rejected", "rejected"]


def test_the_merchant_ships_the_buyer_confirms_and_the_merchant_refunds(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 2)
    pay(result.payment.id)
    order_id = result.orders[0].id
    sign_in(client, "seller")
    to_ship = page(client.get("/shop/glow-lab/orders"))
    assert f"Order #{order_id}" in to_ship and "Li Lei" in to_ship
    empty = client.post_form(f"/orders/{order_id}/ship", {"tracking_number": ""}, follow_redirects=True)
    assert "flash-error" in page(empty)
    client.post_form(f"/orders/{order_id}/ship", {"tracking_number": "SF123456"})
    assert fresh(Order, order_id).status == OrderStatus.SHIPPED
    client.post_form("/logout")
    sign_in(client, "reader")
    refused = client.post_form(f"/orders/{order_id}/refund", {}, follow_redirects=True)
    assert refused.status_code == 403  # a buyer cannot refund their own order
    client.post_form(f"/orders/{order_id}/confirm")
    assert fresh(Order, order_id).status == OrderStatus.COMPLETED
    client.post_form("/logout")
    sign_in(client, "seller")
    line_id = fresh(Order, order_id).lines[0].id
    empty = client.post_form(f"/orders/{order_id}/refund", {"reason": "scratched"}, follow_redirects=True)
    assert "Choose what to refund." in page(empty)  # an empty selection is refused, not read as everything
    assert fresh(Order, order_id).refunded_cents == 0
    confirm = page(client.post_form(f"/orders/{order_id}/refund", {f"qty-{line_id}": "1", "reason": "scratched"}))
    assert "Confirm the refund" in confirm and "¥128.50" in confirm
    assert fresh(Order, order_id).refunded_cents == 0  # nothing moves before the confirmation
    client.post_form(f"/orders/{order_id}/refund", {f"qty-{line_id}": "1", "reason": "scratched", "confirmed": "1"})
    order = fresh(Order, order_id)
    assert (order.status, order.refunded_cents) == (OrderStatus.PARTIALLY_REFUNDED, 12_850)
    assert fresh(Sku, shop_world["sku"].id).stock == 3  # shipped units do not return to stock


def test_a_merchant_cannot_ship_another_shops_order(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 1)
    pay(result.payment.id)
    open_shop(user("rival"), shop_world["admin"], slug="rival-shop")
    sign_in(client, "rival")
    response = client.post_form(f"/orders/{result.orders[0].id}/ship", {"tracking_number": "X1"})
    assert response.status_code in (403, 404)
    assert fresh(Order, result.orders[0].id).status == OrderStatus.PAID
    assert client.get("/shop/glow-lab/orders").status_code == 404


def test_a_visitor_cart_follows_them_into_their_account(shop_world, client):
    sku_id = shop_world["sku"].id
    client.post_form("/cart/add", {"sku_id": sku_id, "quantity": "2"})
    assert "Glow serum" in page(client.get("/cart"))
    client.post_form(f"/cart/items/{sku_id}", {"quantity": "9"})  # more than the 5 in stock: refused
    assert 'value="2"' in page(client.get("/cart"))
    assert client.get("/checkout").headers["Location"].startswith("/login")
    sign_in(client, "reader")
    items = cart.cart_of(shop_world["buyer"]).items
    assert [(item.sku_id, item.quantity) for item in items] == [(sku_id, 2)]


def test_a_buyer_cancels_an_unpaid_order_and_the_stock_comes_back(shop_world, client):
    result = buy(shop_world["buyer"], shop_world["address_id"], shop_world["sku"].id, 2)
    sign_in(client, "reader")
    assert fresh(Sku, shop_world["sku"].id).stock == 3
    client.post_form(f"/orders/{result.orders[0].id}/cancel")
    client.post_form(f"/orders/{result.orders[0].id}/cancel")  # twice: returns stock once
    assert fresh(Order, result.orders[0].id).status == OrderStatus.CANCELLED
    assert fresh(Sku, shop_world["sku"].id).stock == 5


def test_pages_render_in_chinese(shop_world, client):
    sign_in(client, "reader")
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 1)
    for url in ("/cart", "/checkout", f"/products/{shop_world['product'].id}", "/orders", "/shop/glow-lab"):
        response = client.get(url, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200, url
        assert re.search(r"[\u4e00-\u9fff]", page(response)), url


def test_submitting_the_checkout_form_twice_places_one_order_and_both_answers_lead_to_its_payment(shop_world,
                                                                                                  client):
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 2)
    sign_in(client, "reader")
    form = page(client.get("/checkout"))
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', form).group(1)
    fields = {"address_id": shop_world["address_id"], "action": "place", "checkout_token": token}
    first = client.post_form("/checkout", fields)
    again = client.post_form("/checkout", fields)  # a double-click, or the browser resending the form
    assert first.status_code == again.status_code == 302
    assert "/pay/sandbox/" in first.headers["Location"]
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert fresh(Sku, shop_world["sku"].id).stock == 3  # taken once

    pay(db.session.scalar(select(Payment.id)))
    paid = client.post_form("/checkout", fields)  # the same form again once the order is paid
    order = db.session.scalar(select(Order))
    assert paid.status_code == 302 and paid.headers["Location"].endswith(f"/orders/{order.id}")
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_each_rendering_of_the_checkout_form_carries_a_new_token(shop_world, client):
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 1)
    sign_in(client, "reader")
    tokens = {re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page(client.get("/checkout")))
              .group(1) for _ in range(2)}
    assert len(tokens) == 2


def test_the_order_lists_page_with_a_cursor_and_badge_each_status(shop_world, client):
    _product, sku = product_with_sku(shop_world["merchant"], shop_world["shop"].id, price=100, stock=100,
                                     title="Sample")
    placed = []
    for _ in range(21):
        result = buy(shop_world["buyer"], shop_world["address_id"], sku.id, 1)
        pay(result.payment.id)
        placed.append(result.orders[0].id)
    sign_in(client, "reader")
    first = page(client.get("/orders"))
    assert first.count('class="badge order-status status-paid"') >= 20 and "Paid · to ship" in first
    older = re.search(r'href="(/orders\?[^"]*cursor=[^"]+)"[^>]*>Older orders', first)
    assert older, "a full page links to the older orders"
    second = page(client.get(older.group(1).replace("&amp;", "&")))
    assert f"/orders/{placed[0]}" in second and f"/orders/{placed[-1]}" not in second
    assert "Older orders" not in second

    client.post_form("/logout")
    sign_in(client, "seller")
    shop_first = page(client.get("/shop/glow-lab/orders"))
    older = re.search(r'href="(/shop/glow-lab/orders\?[^"]*cursor=[^"]+)"', shop_first)
    assert older and f"/orders/{placed[0]}" in page(client.get(older.group(1).replace("&amp;", "&")))


def test_a_used_checkout_form_sent_again_with_other_choices_places_nothing_and_says_so(shop_world, client):
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 1)
    other_address = cart.add_address(shop_world["buyer"], recipient_name="Han Meimei", phone="13900000000",
                                     line1="2 River Road").id
    sign_in(client, "reader")
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page(client.get("/checkout"))).group(1)
    fields = {"address_id": shop_world["address_id"], "action": "place", "checkout_token": token}
    assert client.post_form("/checkout", fields).status_code == 302
    cart.add_to_cart(shop_world["buyer"], shop_world["sku"].id, 1)  # more in the cart, then Back and resend
    again = client.post_form("/checkout", {**fields, "address_id": other_address})
    assert again.status_code == 422 and "already used to place an order" in page(again)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    fresh_token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page(again)).group(1)
    assert fresh_token != token
