"""The merchant's edits after creation: product details, options, images and shop settings, each change in
the product's history; bad input refused with nothing changed; orders and carts keep the price they saw."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.shop import cart, merchant
from app.shop.aftersale_models import ProductRevision
from app.shop.models import OrderLine, Product, ProductImage, Shop, Sku
from tests.posts.conftest import image_bytes
from tests.shop.conftest import buy, fresh, pay, product_with_sku, user
from tests.social.conftest import sign_in


def page(response) -> str:
    return response.get_data(as_text=True)


def revisions(product_id) -> list[tuple]:
    db.session.expire_all()
    return list(db.session.execute(select(ProductRevision.field, ProductRevision.old_value, ProductRevision.new_value)
                                   .where(ProductRevision.product_id == product_id).order_by(ProductRevision.id)))


def test_editing_details_and_options_is_recorded(world):
    merchant.update_product(world.merchant, world.product_id, title="Velvet lip tint", description="Soft matte")
    merchant.update_sku(world.merchant, world.sku_id, label="Rose 02", price_cents=1200, stock=15, stock_seen=10,
                        is_active=True)
    product, sku = fresh(Product, world.product_id), fresh(Sku, world.sku_id)
    assert (product.title, sku.label, sku.price_cents, sku.stock) == ("Velvet lip tint", "Rose 02", 1200, 15)
    assert revisions(world.product_id) == [("title", "Lip tint", "Velvet lip tint"), ("description", "", "Soft matte"),
                                           ("stock", "10", "15"), ("label", "Rose", "Rose 02"),
                                           ("price", "1000", "1200")]
    with pytest.raises(Forbidden):
        merchant.update_product(user("rival"), world.product_id, title="Mine now")


@pytest.mark.parametrize("price", [0, -100, None])
def test_a_price_of_zero_or_less_is_refused_and_changes_nothing(world, price):
    with pytest.raises(Invalid) as refused:
        merchant.update_sku(world.merchant, world.sku_id, label="Rose", price_cents=price, stock=None,
                            stock_seen=None, is_active=True)
    assert f"skus.{world.sku_id}.price" in refused.value.errors
    assert fresh(Sku, world.sku_id).price_cents == 1000 and revisions(world.product_id) == []


def test_a_sale_while_editing_is_not_overwritten(world):
    placed = buy(world.buyer, world.address_id, world.sku_id, 2)
    pay(placed.payment.id)  # stock 10 → 8 while the merchant's form still says 10
    with pytest.raises(Conflict) as refused:
        merchant.update_sku(world.merchant, world.sku_id, label="Rose", price_cents=1000, stock=20, stock_seen=10,
                            is_active=True)
    assert "now 8" in refused.value.message
    assert fresh(Sku, world.sku_id).stock == 8


def test_a_price_change_leaves_orders_alone_and_the_cart_says_so(world, client):
    placed = buy(world.buyer, world.address_id, world.sku_id, 1)
    pay(placed.payment.id)
    cart.add_to_cart(world.buyer, world.sku_id, 1)
    merchant.update_sku(world.merchant, world.sku_id, label="Rose", price_cents=1500, stock=None, stock_seen=None,
                        is_active=True)
    assert db.session.scalar(select(OrderLine.unit_price_cents)) == 1000
    sign_in(client, "buyer")
    body = page(client.get("/cart"))
    assert "The shop changed the price since you added it (was CN¥10.00)." in body


def test_the_last_option_of_a_product_on_sale_stays_for_sale(world):
    with pytest.raises(Conflict):
        merchant.update_sku(world.merchant, world.sku_id, label="Rose", price_cents=1000, stock=None,
                            stock_seen=None, is_active=False)
    assert fresh(Sku, world.sku_id).is_active


def test_images_are_added_reordered_and_removed(world):
    product = merchant.add_images(world.merchant, world.product_id, [image_bytes(), image_bytes(colour=(1, 2, 3))])
    first, second = sorted(product.images, key=lambda i: i.position)
    merchant.move_image(world.merchant, second.id, -1)
    db.session.expire_all()
    assert [i.id for i in sorted(fresh(Product, world.product_id).images, key=lambda i: i.position)] == \
        [second.id, first.id]
    merchant.remove_image(world.merchant, second.id)
    assert [i.position for i in db.session.scalars(select(ProductImage))] == [0]
    with pytest.raises(Invalid):
        merchant.add_images(world.merchant, world.product_id, [b"not an image"])
    assert [field for field, *_ in revisions(world.product_id)] == ["images", "image_order", "images"]


def test_shop_settings_are_saved_and_bad_input_changes_nothing(world):
    merchant.update_shop_settings(world.merchant, world.shop_id, name="Glow Lab", description="Korean skincare",
                                  return_policy="7 days, unopened", contact="WeChat glowlab",
                                  logo=image_bytes((300, 300)), banner=image_bytes((1600, 600)))
    shop = fresh(Shop, world.shop_id)
    assert (shop.name, shop.return_policy, shop.contact) == ("Glow Lab", "7 days, unopened", "WeChat glowlab")
    assert shop.logo_path and shop.banner_path
    with pytest.raises(Invalid) as refused:
        merchant.update_shop_settings(world.merchant, world.shop_id, name=" ", contact="x" * 300, logo=b"nope")
    assert {"name", "contact", "logo"} <= set(refused.value.errors)
    assert fresh(Shop, world.shop_id).name == "Glow Lab"


def test_the_pages_show_errors_next_to_the_field(world, client):
    sign_in(client, "merchant")
    assert "/my-shop" in page(client.get("/"))
    assert client.get("/my-shop").headers["Location"].endswith("/shop/shop-merchant/manage")
    refused = client.post_form(f"/skus/{world.sku_id}/edit", {"label": "Rose", "price": "-5", "stock": "10",
                                                               "stock_seen": "10", "is_active": "1"})
    assert refused.status_code == 422
    assert f'id="sku-{world.sku_id}-price-error"' in page(refused)
    assert fresh(Sku, world.sku_id).price_cents == 1000
    saved = client.post_form(f"/skus/{world.sku_id}/edit", {"label": "Rose", "price": "12.50", "stock": "10",
                                                             "stock_seen": "10", "is_active": "1"})
    assert saved.status_code == 302 and fresh(Sku, world.sku_id).price_cents == 1250
    bad_title = client.post_form(f"/products/{world.product_id}/edit", {"title": "", "description": "x"})
    assert bad_title.status_code == 422 and 'id="title-error"' in page(bad_title)
    settings = client.post_form("/shop/shop-merchant/settings", {
        "name": "Glow Lab", "description": "", "return_policy": "7 days", "contact": "",
        "logo": (io.BytesIO(image_bytes((300, 300))), "logo.png")}, content_type="multipart/form-data")
    assert settings.status_code == 302 and fresh(Shop, world.shop_id).logo_path


def test_the_manage_list_searches_and_counts_units_sold(world, client):
    product_with_sku(world.merchant, world.shop_id, title="Cushion compact", code="CUSH-1")
    placed = buy(world.buyer, world.address_id, world.sku_id, 3)
    pay(placed.payment.id)
    rows = merchant.manage_page(world.merchant, world.shop_id)[1]
    assert {(row.product.title, row.stock, row.sold) for row in rows} == {("Lip tint", 7, 3),
                                                                        ("Cushion compact", 10, 0)}
    assert [r.product.title for r in merchant.manage_page(world.merchant, world.shop_id, query="cush-1")[1]] == \
        ["Cushion compact"]
    sign_in(client, "merchant")
    body = page(client.get("/shop/shop-merchant/manage?q=lip"))
    assert "Lip tint" in body and "Cushion compact" not in body and "Sold 3" in body
    assert db.session.scalar(select(func.count()).select_from(ProductRevision)) == 0
