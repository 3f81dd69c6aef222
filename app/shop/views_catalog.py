"""The storefront as buyers browse it: a shop's page and a product's page."""
from __future__ import annotations

from flask import render_template, request

from app.core.auth import current_viewer
from app.events.log import ANON_COOKIE, record_action
from app.feeds.foryou import record_shown
from app.posts.cards import viewer_state
from app.shop import catalog, hooks, tags
from app.shop.also_bought import also_bought
from app.shop.checkout import attributions
from app.shop.views_common import bp, int_arg


@bp.app_template_global("units_sold")
def units_sold_global(products) -> dict[int, int]:
    """`{% set sold = units_sold(page.items) %}` in a template: the page's units sold in one query."""
    return catalog.units_sold(products)


# --- shops ------------------------------------------------------------------------------------------------

@bp.get("/shop/<slug>")
def shop_page(slug: str):
    shop = catalog.get_shop(slug, current_viewer())
    page = catalog.shop_products(shop, current_viewer(), request.args.get("cursor"), 24)
    return render_template("shop/shop.html", shop=shop, page=page,
                           manages=catalog.can_manage(current_viewer(), shop))


# --- products ---------------------------------------------------------------------------------------------

@bp.get("/products/<id:product_id>")
def product(product_id: int):
    viewer = current_viewer()
    item = catalog.product_for(viewer, product_id)
    source_post_id = int_arg(request.args.get("from"))
    if source_post_id and attributions([(source_post_id, item.id)], viewer.id if viewer else None):
        # a tap on this product's card under a note: the note's author sees it in the note's statistics
        record_action("product_click", user_id=viewer.id if viewer else None, post_id=source_post_id,
                      anon_id=None if viewer else request.cookies.get(ANON_COOKIE), surface="product")
    featuring = tags.posts_featuring(item.id, viewer, limit=12)
    record_shown([post.id for post in featuring], "product", viewer, request.cookies.get(ANON_COOKIE))
    return render_template(
        "shop/product.html", product=item, stock_state=catalog.stock_state, rating=tags.product_rating(item.id),
        featuring=featuring, featuring_state=viewer_state(featuring, viewer.id if viewer else None),
        manages=catalog.can_manage(viewer, item.shop), source_post_id=source_post_id,
        also=also_bought(item.id), panels=hooks.product_page_panels(item, viewer))
