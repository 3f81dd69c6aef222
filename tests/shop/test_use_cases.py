"""The shop's use-case services the pages and the API share: a new listing with its undo step, the checkout
page's pricing (which refusals belong to the coupon) and the cart's summary."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import Invalid
from app.extensions import db
from app.shop import cart, catalog, checkout, coupons
from app.shop.models import Product, ProductStatus, Sku
from tests.shop.conftest import open_shop, product_with_sku, user


def test_a_listing_whose_image_is_refused_leaves_no_half_made_product(world):
    with pytest.raises(Invalid) as refused:
        catalog.create_listing(world.merchant, world.shop_id, title="Night cream", code="NC-1", price_cents=990,
                               stock=4, uploads=[b"not an image"])
    assert "images" in refused.value.errors
    product = db.session.scalar(select(Product).where(Product.title == "Night cream"))
    assert product.status == ProductStatus.ARCHIVED


def test_a_listing_whose_option_is_refused_is_archived_too(world):
    taken = db.session.scalar(select(Sku.code).where(Sku.id == world.sku_id))
    with pytest.raises(Invalid):
        catalog.create_listing(world.merchant, world.shop_id, title="Copy", code=taken, price_cents=990, stock=1)
    assert db.session.scalar(select(Product.status).where(Product.title == "Copy")) == ProductStatus.ARCHIVED


def test_a_listing_is_a_draft_with_its_first_option(world):
    product = catalog.create_listing(world.merchant, world.shop_id, title="Toner", code="TN-1", label="100 ml",
                                     price_cents=4500, stock=7)
    assert product.status == ProductStatus.DRAFT
    assert [(sku.code, sku.price_cents, sku.stock) for sku in product.skus] == [("TN-1", 4500, 7)]


def test_the_checkout_page_prices_without_a_refused_coupon_and_says_why(world):
    coupons.create_coupon(world.admin, code="TEN", kind="fixed", value=100)
    cart.add_to_cart(world.buyer, world.sku_id, 2)
    applied = checkout.quote_cart(world.buyer, "TEN")
    assert (applied.coupon_error, applied.priced.total_cents) == (None, 1900)
    refused = checkout.quote_cart(world.buyer, "NOPE")
    assert refused.coupon_error and refused.priced.total_cents == 2000


def test_the_checkout_page_refuses_the_carts_own_problems_even_with_a_coupon(world):
    cart.add_to_cart(world.buyer, world.sku_id, 2)
    catalog.set_product_status(world.merchant, world.product_id, ProductStatus.ARCHIVED)
    with pytest.raises(Invalid) as refused:
        checkout.quote_cart(world.buyer, "NOPE")
    assert any(key.startswith("lines") for key in refused.value.errors)


def test_the_cart_summary_groups_by_shop_and_totals_at_todays_prices(world):
    other = user("other")
    other_shop = open_shop(other, world.admin)
    _product, other_sku = product_with_sku(other, other_shop.id, price=250)
    cart.add_to_cart(world.buyer, world.sku_id, 2)
    cart.add_to_cart(world.buyer, other_sku.id, 3)
    summary = cart.summarize_cart(cart.cart_of(world.buyer).items)
    assert summary.total_cents == 2 * 1000 + 3 * 250 and summary.currency == "CNY"
    assert sorted(len(items) for items in summary.by_shop.values()) == [1, 1]
    assert cart.summarize_cart([]).total_cents == 0
