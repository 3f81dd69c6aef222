"""Transparent sales on product cards: units sold from paid, non-refunded orders, counted for a whole page in
one query and shown compactly ("1.2K sold" / "已售"-style "1.2万")."""
from flask_babel import force_locale, refresh
from sqlalchemy import event

from app.core.i18n import compact_count
from app.extensions import db
from app.shop import catalog, refunds
from app.shop.models import Shop
from tests.shop.conftest import buy, pay, product_with_sku


def test_compact_counts_in_both_languages(app):
    with app.test_request_context():
        with force_locale("en"):
            assert [compact_count(n) for n in (7, 999, 1234, 12345, 1_234_567)] == ["7", "999", "1.2K", "12.3K",
                                                                                    "1.2M"]
        with force_locale("zh_Hans"):
            assert [compact_count(n) for n in (7, 9999, 12345, 123456, 100_000_000)] == ["7", "9999", "1.2万",
                                                                                       "12.3万", "1亿"]


def test_cards_count_paid_kept_units_in_one_query_per_page(world, client):
    other, other_sku = product_with_sku(world.merchant, world.shop_id, title="Face mist")
    never, _never_sku = product_with_sku(world.merchant, world.shop_id, title="Hair oil")
    paid = buy(world.buyer, world.address_id, world.sku_id, quantity=3)
    pay(paid.payment.id)
    buy(world.buyer, world.address_id, world.sku_id, quantity=2)  # never paid: not sold
    refunded = buy(world.buyer, world.address_id, other_sku.id, quantity=1)
    pay(refunded.payment.id)
    refunds.refund_order(world.merchant, refunded.orders[0].id)  # paid then refunded: not sold

    ids = [world.product_id, other.id, never.id]
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        sold = catalog.units_sold(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert sold == {world.product_id: 3}
    assert len(statements) == 1

    shop_slug = db.session.get(Shop, world.shop_id).slug
    html = client.get(f"/shop/{shop_slug}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已售 3" in html
    refresh()  # the test's app context is shared by its requests: forget the locale the last one chose
    html = client.get(f"/shop/{shop_slug}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count('class="product-tile-sold') == 1 and "3 sold" in html
