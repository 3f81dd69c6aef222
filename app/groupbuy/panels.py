"""The group-buy panels the shop's pages show through app.shop.hooks (the shop's templates know nothing of
groups): the campaign on a product page, the group on an order page."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template
from flask_login import current_user
from markupsafe import Markup

from app.core.clock import now as clock_now
from app.groupbuy import services
from app.shop import cart


def product_panel(product, viewer) -> str:
    """The campaign price beside the normal one, "Open a group", and up to 5 open groups to join."""
    now = clock_now()
    campaign = services.live_campaign(product.id, now)
    groups = services.open_groups_for_product(product.id, viewer, 5, now)
    if campaign is None and not groups:
        return ""
    signed_in = viewer is not None and getattr(viewer, "is_authenticated", False)
    skus = {sku.id: sku for sku in product.skus}
    return Markup(render_template(  # nosec B704 # -- render_template output, autoescaped by Jinja
        "groupbuy/_product_panel.html", product=product, campaign=campaign, groups=groups, skus=skus,
        avatars=services.avatars(groups), now=now, addresses=cart.addresses_of(viewer) if signed_in else []))


def order_panel(order, viewer) -> str:
    """Which group an order belongs to, its state and (when it expired) the refund."""
    member = services.member_of_order(order.id)
    if member is None:
        return ""
    return Markup(render_template("groupbuy/_order_panel.html", member=member, group=member.group, order=order,  # nosec B704 # -- render_template output, autoescaped by Jinja
                                  viewer=viewer or current_user))


def dashboard_panel(shop, days: int) -> str:
    """The shop's group-buys on its sales dashboard for the period: groups opened / filled / expired, the
    fill rate, and the units and revenue of filled groups. Shown once the shop has run a group-buy."""
    start = (clock_now() - timedelta(days=days - 1)).date()
    figures = services.shop_group_figures(shop.id, datetime.combine(start, datetime.min.time()))
    if not figures.opened and not services.shop_has_campaigns(shop.id):
        return ""
    return Markup(render_template("groupbuy/_dashboard_panel.html", figures=figures, shop=shop, days=days))  # nosec B704 # -- render_template output, autoescaped by Jinja
