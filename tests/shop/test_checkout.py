"""Checkout: server-side prices, one order per shop, stock reserved, and bad input that changes nothing."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.shop import cart, checkout, coupons, payments, tags
from app.shop.models import CartItem, Order, OrderEvent, OrderStatus, Payment, Sku
from tests import factories
from tests.shop.conftest import buy, buyer_with_address, fresh, open_shop, product_with_sku, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def test_a_cart_with_two_shops_becomes_two_orders_paid_together(world):
    other = user("other")
    other_shop = open_shop(other, world.admin)
    _, other_sku = product_with_sku(other, other_shop.id, price=2550, stock=3, title="Tent")
    post = factories.post(author=user("creator"))
    tags.set_post_products(post.author, post, [world.product_id])
    cart.add_to_cart(world.buyer, world.sku_id, 2, source_post_id=post.id)
    cart.add_to_cart(world.buyer, other_sku.id, "1")
    result = checkout.place_orders(world.buyer, cart.cart_of(world.buyer), world.address_id, now=NOW)

    assert len(result.orders) == 2
    first, second = sorted(result.orders, key=lambda order: order.shop_id)
    assert (first.subtotal_cents, first.total_cents, second.total_cents) == (2000, 2000, 2550)
    assert result.payment.amount_cents == 4550 and result.payment.status == "created"
    assert all(order.payment_id == result.payment.id for order in result.orders)
    assert all(order.reserved_until == NOW + timedelta(minutes=15) for order in result.orders)
    line = first.lines[0]
    assert (line.unit_price_cents, line.quantity, line.line_total_cents) == (1000, 2, 2000)
    assert (line.source_post_id, line.source_author_id) == (post.id, post.author_id)
    assert first.shipping_address == "1 Garden Road, Shanghai, 200000"
    assert (fresh(Sku, world.sku_id).stock, fresh(Sku, other_sku.id).stock) == (8, 2)
    assert cart.cart_of(world.buyer).items == []
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == first.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, OrderStatus.PENDING_PAYMENT)]


def test_reservation_minutes_come_from_config(world, app):
    app.config["ORDER_RESERVATION_MINUTES"] = app.config["PAYMENT_WINDOW_MINUTES"] = 30
    order = buy(world.buyer, world.address_id, world.sku_id, now=NOW).orders[0]
    assert order.reserved_until == NOW + timedelta(minutes=30)


def test_stock_is_never_held_longer_than_the_payment_window(world, app):
    app.config["ORDER_RESERVATION_MINUTES"], app.config["PAYMENT_WINDOW_MINUTES"] = 30, 10
    placed = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    assert placed.orders[0].reserved_until == NOW + timedelta(minutes=10)
    assert payments.payment_deadline(placed.payment) == NOW + timedelta(minutes=10)


def test_a_price_sent_by_the_client_is_never_used(world):
    with pytest.raises(Invalid) as refused:
        checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1, "unit_price_cents": 1}],
                              world.address_id)
    assert "lines.0.unit_price_cents" in refused.value.errors
    ok = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1, "unit_price_cents": 1000,
                                              "total_cents": 1, "discount_cents": 999}], world.address_id)
    assert ok.orders[0].total_cents == 1000 == ok.payment.amount_cents


BAD_QUANTITIES = [
    (0, "at least 1"), (-2, "at least 1"), ("-1", "at least 1"), ("two", "whole number"), (1.5, "whole number"),
    (None, "whole number"), (True, "whole number"), ("", "whole number"), (100, "at most 99"), (11, "Only 10 left"),
]


def test_bad_quantities_are_refused_and_change_nothing(world):
    before = snapshot()
    for quantity, field_message in BAD_QUANTITIES:
        with pytest.raises(Invalid) as refused:
            checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": quantity}], world.address_id)
        assert field_message in str(refused.value.errors["lines.0.quantity"]), quantity
    assert snapshot() == before


def test_bad_lines_are_refused_and_change_nothing(world):
    other_product, other_sku = product_with_sku(world.merchant, world.shop_id, title="Mascara")
    before = snapshot()
    cases = [
        ([], "lines"),
        ([{"sku_id": world.sku_id, "quantity": 1, "product_id": other_product.id}], "lines.0.sku_id"),
        ([{"sku_id": 999_999, "quantity": 1}], "lines.0.sku_id"),
        ([{"sku_id": "abc", "quantity": 1}], "lines.0.sku_id"),
        ([{"sku_id": 2**40, "quantity": 1}], "lines.0.sku_id"),
        (["nonsense"], "lines.0"),
        ([{"sku_id": world.sku_id, "quantity": 60}, {"sku_id": world.sku_id, "quantity": 60}], "lines.1.quantity"),
    ]
    for lines, field in cases:
        with pytest.raises(Invalid) as refused:
            checkout.place_orders(world.buyer, lines, world.address_id)
        assert field in refused.value.errors, (lines, refused.value.errors)
    with pytest.raises(Invalid) as refused:
        checkout.place_orders(world.buyer, cart.cart_of(world.buyer), world.address_id)
    assert refused.value.message == "Your cart is empty."
    assert snapshot() == before
    assert other_sku.id


def test_another_buyers_address_or_cart_is_refused(world):
    stranger, stranger_address = buyer_with_address("stranger")
    cart.add_to_cart(stranger, world.sku_id, 1)
    before = snapshot()
    for address_id in (stranger_address, 2**40, "1", None):
        with pytest.raises(Invalid) as refused:
            buy(world.buyer, address_id, world.sku_id)
        assert "address_id" in refused.value.errors
    with pytest.raises(Forbidden):
        checkout.place_orders(world.buyer, cart.cart_of(stranger), world.address_id)
    assert snapshot() == before


def test_items_not_for_sale_are_refused(world):
    from app.shop import catalog
    from app.shop.models import ProductStatus

    catalog.set_product_status(world.merchant, world.product_id, ProductStatus.ARCHIVED)
    before = snapshot()
    with pytest.raises(Invalid):
        buy(world.buyer, world.address_id, world.sku_id)
    assert snapshot() == before


def test_a_shortfall_in_one_line_rolls_back_the_whole_checkout(world):
    _, scarce = product_with_sku(world.merchant, world.shop_id, stock=1, title="Rare palette")
    # Someone else takes the last unit between the buyer's page load and the reservation.
    rival, rival_address = buyer_with_address("rival")
    buy(rival, rival_address, scarce.id)
    before = snapshot()
    with pytest.raises(Invalid):
        checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 2},
                                            {"sku_id": scarce.id, "quantity": 1}], world.address_id)
    assert snapshot() == before


def test_the_conditional_reservation_decides_when_stock_went_after_the_check(world, monkeypatch):
    """The pre-check saw 10 units; a rival sale empties the shelf just before the UPDATE: nothing is sold."""
    original = checkout.attributions

    def rival_sale_in_between(pairs, *args):
        with db.engine.begin() as conn:  # another connection, committed: a racing checkout
            conn.execute(Sku.__table__.update().where(Sku.id == world.sku_id).values(stock=1))
        return original(pairs, *args)

    monkeypatch.setattr(checkout, "attributions", rival_sale_in_between)
    with pytest.raises(Conflict) as refused:
        buy(world.buyer, world.address_id, world.sku_id, quantity=2)
    assert "just sold out" in refused.value.message
    assert fresh(Sku, world.sku_id).stock == 1
    assert db.session.scalar(select(Order.id)) is None and db.session.scalar(select(Payment.id)) is None


def test_a_coupon_discount_is_split_over_the_lines_and_the_total_recomputed(world):
    coupons.create_coupon(world.merchant, code="spring10", kind="percent", value=10, shop_id=world.shop_id)
    _, second = product_with_sku(world.merchant, world.shop_id, price=333, title="Brush")
    result = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1},
                                                 {"sku_id": second.id, "quantity": 1}], world.address_id, "SPRING10")
    order = result.orders[0]
    assert (order.subtotal_cents, order.discount_cents, order.total_cents) == (1333, 133, 1200)
    assert sum(line.discount_cents for line in order.lines) == 133
    assert order.total_cents == sum(line.line_total_cents for line in order.lines) - order.discount_cents
    assert order.coupon_id is not None and result.payment.amount_cents == 1200


def test_cart_quantities(world):
    with pytest.raises(Invalid, match="Only 10 left"):
        cart.add_to_cart(world.buyer, world.sku_id, 11)
    assert cart.cart_of(world.buyer).items == []
    _product, big = product_with_sku(world.merchant, world.shop_id, stock=500, title="Cotton pads")
    assert cart.add_to_cart(world.buyer, big.id, 98, source_post_id=987_654).source_post_id is None
    with pytest.raises(Invalid):
        cart.add_to_cart(world.buyer, big.id, 2)  # over the per-order limit of 99
    cart.add_to_cart(world.buyer, world.sku_id, 9)
    with pytest.raises(Invalid, match="Only 10 left"):
        cart.add_to_cart(world.buyer, world.sku_id, 2)  # what the cart holds counts against the stock
    item = next(item for item in cart.cart_of(world.buyer).items if item.sku_id == world.sku_id)
    cart.set_cart_quantity(world.buyer, item.id, "3")
    assert fresh(CartItem, item.id).quantity == 3
    for bad in (-1, "x", 100, 11):
        with pytest.raises(Invalid):
            cart.set_cart_quantity(world.buyer, item.id, bad)
    assert fresh(CartItem, item.id).quantity == 3
    cart.set_cart_quantity(world.buyer, item.id, 0)
    assert [item.sku_id for item in cart.cart_of(world.buyer).items] == [big.id]


def test_only_a_note_that_tags_the_product_earns_the_attribution(world):
    """A Buy button cannot be borrowed: a note that does not tag the product credits nobody."""
    unrelated = factories.post(author=user("borrower"))
    cart.add_to_cart(world.buyer, world.sku_id, 1, source_post_id=unrelated.id)
    direct = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1,
                                                  "source_post_id": unrelated.id}], world.address_id)
    line = direct.orders[0].lines[0]
    assert (line.source_post_id, line.source_author_id) == (None, None)
    assert cart.cart_of(world.buyer).items[0].source_post_id is None
