"""Purchases teach the recommender: the note a purchase came through, and more weakly the notes featuring
what was bought; unpaid orders teach nothing."""
from __future__ import annotations

from app.feeds.training import WEIGHTS, build_dataset
from app.shop import cart, checkout, tags
from tests import factories
from tests.shop.conftest import buy, buyer_with_address, open_shop, pay, product_with_sku, user


def _weights(dataset) -> dict[tuple[str, str], float]:
    return {(u, i): w for u, i, w in zip(dataset.users, dataset.items, dataset.weights, strict=True)}


def test_paid_purchases_become_interactions(ctx):
    admin, merchant = user("padmin", is_admin=True), user("pmerchant")
    shop = open_shop(merchant, admin)
    product, sku = product_with_sku(merchant, shop.id, stock=50)
    creator, other_creator = user("pcreator"), user("pother")
    note = factories.post(author=creator)
    other_note = factories.post(author=other_creator)
    tags.set_post_products(creator, note, [product.id])
    tags.set_post_products(other_creator, other_note, [product.id])
    buyer, address_id = buyer_with_address("pbuyer")
    cart.add_to_cart(buyer, sku.id, 1, source_post_id=note.id)
    result = checkout.place_orders(buyer, cart.cart_of(buyer), address_id)
    pay(result.payment.id)
    window_shopper, other_address = buyer_with_address("pwindow")
    buy(window_shopper, other_address, sku.id)  # placed, never paid

    weights = _weights(build_dataset())
    assert weights[(str(buyer.id), str(note.id))] == WEIGHTS["bought_from"]
    assert weights[(str(buyer.id), str(other_note.id))] == WEIGHTS["bought_featured"]
    assert not any(u == str(window_shopper.id) for u, _i in weights)


def test_people_who_bought_this_also_bought(ctx, client):
    from app.shop.also_bought import also_bought

    admin, merchant = user("aadmin", is_admin=True), user("amerchant")
    shop = open_shop(merchant, admin)
    serum, serum_sku = product_with_sku(merchant, shop.id, stock=50, title="Serum")
    toner, toner_sku = product_with_sku(merchant, shop.id, stock=50, title="Toner")
    mask, mask_sku = product_with_sku(merchant, shop.id, stock=50, title="Sheet mask")
    _never, never_sku = product_with_sku(merchant, shop.id, stock=50, title="Unpaid balm")
    for index, extra in enumerate([toner_sku, toner_sku, mask_sku]):
        buyer, address_id = buyer_with_address(f"abuyer{index}")
        result = checkout.place_orders(buyer, [{"sku_id": serum_sku.id, "quantity": 1},
                                               {"sku_id": extra.id, "quantity": 1}], address_id)
        pay(result.payment.id)
    buyer, address_id = buyer_with_address("aunpaid")
    buy(buyer, address_id, serum_sku.id)
    buy(buyer, address_id, never_sku.id)  # not paid: says nothing

    assert [(product.title, count) for product, count in also_bought(serum.id)] == [("Toner", 2), ("Sheet mask", 1)]
    assert [product.title for product, _count in also_bought(mask.id)] == ["Serum"]
    html = client.get(f"/products/{serum.id}").get_data(as_text=True)
    assert "People who bought this also bought" in html and "Bought by 2 of its buyers" in html
