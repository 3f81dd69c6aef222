"""Coupon validation (one clear reason per refusal) and the shop application flow."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.shop import catalog, coupons
from app.shop.models import Coupon, CouponUserUse, ShopStatus
from tests.shop.conftest import buy, buyer_with_address, fresh, open_shop, pay, product_with_sku, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def refusal(world, code, quantity=1, buyer=None, address=None):
    with pytest.raises(Invalid) as refused:
        buy(buyer or world.buyer, address or world.address_id, world.sku_id, quantity, coupon=code, now=NOW)
    return refused.value.errors["coupon_code"][0]


def test_each_refusal_says_why_and_changes_nothing(world):
    rival = user("rival")
    rival_shop = open_shop(rival, world.admin)
    make = coupons.create_coupon
    make(world.admin, code="OLD", kind="fixed", value=100, ends_at=NOW)
    make(world.admin, code="SOON", kind="fixed", value=100, starts_at=NOW + timedelta(days=1))
    make(world.admin, code="BIG", kind="fixed", value=100, min_spend_cents=5000)
    make(world.admin, code="GONE", kind="fixed", value=100, total_uses=1)
    make(rival, code="RIVAL", kind="percent", value=20, shop_id=rival_shop.id)
    make(world.admin, code="DOLLAR", kind="fixed", value=100, currency="USD")
    make(world.admin, code="ONEEACH", kind="fixed", value=100, per_user_limit=1)
    db.session.execute(Coupon.__table__.update().where(Coupon.code == "GONE").values(uses_left=0))
    db.session.commit()
    before = snapshot()
    assert refusal(world, "OLD") == "This coupon has expired."
    assert refusal(world, "SOON") == "This coupon is not valid yet."
    assert refusal(world, "BIG", 4) == "Spend at least CN¥50.00 to use this coupon."
    assert refusal(world, "GONE") == "This coupon has been used up."
    assert refusal(world, "RIVAL") == "This coupon is for another shop."
    assert refusal(world, "DOLLAR") == "This coupon cannot be used with this currency."
    assert refusal(world, "NOPE") == "There is no coupon with this code."
    assert snapshot() == before
    assert buy(world.buyer, world.address_id, world.sku_id, 5, coupon="big", now=NOW).orders[0].discount_cents == 100
    placed = buy(world.buyer, world.address_id, world.sku_id, 1, coupon=" oneeach ", now=NOW)
    assert refusal(world, "ONEEACH") == "You have already used this coupon as many times as allowed."
    pay(placed.payment.id, now=NOW)
    assert refusal(world, "ONEEACH") == "You have already used this coupon as many times as allowed."
    other, other_address = buyer_with_address()
    assert buy(other, other_address, world.sku_id, coupon="ONEEACH", now=NOW).orders[0].discount_cents == 100


def test_a_site_wide_coupon_is_split_across_shops_and_never_makes_an_order_free(world):
    rival = user("rival")
    rival_shop = open_shop(rival, world.admin)
    _, tent = product_with_sku(rival, rival_shop.id, price=3000, title="Tent")
    coupons.create_coupon(world.admin, code="HALF", kind="percent", value=50)
    coupons.create_coupon(world.admin, code="ALL", kind="fixed", value=1_000_000)
    from app.shop import checkout

    lines = [{"sku_id": world.sku_id, "quantity": 1}, {"sku_id": tent.id, "quantity": 1}]
    placed = checkout.place_orders(world.buyer, lines, world.address_id, "HALF", now=NOW)
    assert [o.discount_cents for o in placed.orders] == [500, 1500] and placed.payment.amount_cents == 2000
    placed = checkout.place_orders(world.buyer, lines, world.address_id, "ALL", now=NOW)
    assert [o.total_cents for o in placed.orders] == [1, 1] and placed.payment.amount_cents == 2


def test_who_may_create_coupons_and_what_is_valid(world):
    rival = user("rival")
    with pytest.raises(Forbidden):
        coupons.create_coupon(world.merchant, code="SITE", kind="fixed", value=1)
    with pytest.raises(Forbidden):
        coupons.create_coupon(rival, code="THEIRS", kind="fixed", value=1, shop_id=world.shop_id)
    with pytest.raises(Invalid) as refused:
        coupons.create_coupon(world.admin, code="", kind="bogus", value=0, total_uses=-1, ends_at=NOW,
                              starts_at=NOW)
    assert set(refused.value.errors) == {"code", "kind", "value", "total_uses", "ends_at"}
    with pytest.raises(Invalid):
        coupons.create_coupon(world.admin, code="P", kind="percent", value=101)
    coupons.create_coupon(world.merchant, code="mine", kind="fixed", value=1, shop_id=world.shop_id)
    with pytest.raises(Invalid):
        coupons.create_coupon(world.admin, code="MINE", kind="fixed", value=1)
    assert db.session.scalar(select(CouponUserUse.uses)) is None


def test_the_shop_application_flow(ctx):
    admin, applicant = user("admin", is_admin=True), user("applicant")
    shop = catalog.apply_for_shop(applicant, slug="glow-lab", name="Glow  Lab")
    assert (shop.status, shop.name, applicant.is_merchant) == (ShopStatus.APPLIED, "Glow Lab", False)
    with pytest.raises(Conflict):
        catalog.apply_for_shop(applicant, slug="glow-lab-2", name="Again")
    with pytest.raises(Forbidden):
        catalog.approve_shop(applicant, shop.id)
    with pytest.raises(Conflict):
        catalog.create_product(applicant, shop.id, title="Too early")
    with pytest.raises(Invalid):
        catalog.reject_shop(admin, shop.id, "  ")
    catalog.reject_shop(admin, shop.id, "Tell us more about your products")
    with pytest.raises(Conflict):
        catalog.approve_shop(admin, shop.id)
    again = catalog.apply_for_shop(applicant, slug="glow-lab", name="Glow Lab")
    assert again.id == shop.id and again.status == ShopStatus.APPLIED and again.rejection_reason is None
    approved = catalog.approve_shop(admin, shop.id)
    assert approved.status == ShopStatus.APPROVED and fresh(type(applicant), applicant.id).is_merchant
    with pytest.raises(Invalid):
        catalog.apply_for_shop(user("other"), slug="glow-lab", name="Copycat")
    with pytest.raises(Invalid):
        catalog.apply_for_shop(user("bad"), slug="No Spaces!", name="")


def test_catalog_rules(world):
    rival = user("rival")
    with pytest.raises(Forbidden):
        catalog.create_product(rival, world.shop_id, title="Not mine")
    product = catalog.create_product(world.merchant, world.shop_id, title="Serum")
    with pytest.raises(Conflict):
        catalog.set_product_status(world.merchant, product.id, "active")
    with pytest.raises(Invalid):
        catalog.add_sku(world.merchant, product.id, code="bad code", price_cents=0, stock=-1)
    sku = catalog.add_sku(world.merchant, product.id, code="SER-30", price_cents=9900, stock=2)
    with pytest.raises(Invalid):
        catalog.add_sku(world.merchant, product.id, code="SER-30", price_cents=9900)
    with pytest.raises(Invalid):
        catalog.adjust_stock(world.merchant, sku.id, -3)
    assert catalog.adjust_stock(world.merchant, sku.id, 5).stock == 7
    with pytest.raises(Forbidden):
        catalog.adjust_stock(rival, sku.id, 5)
