"""How order notifications read and link (registered with app.social.notifications at import).

An order's moves (paid, shipped, completed, refunded…) group into one line per order that reads as its
newest move, with the product's name and picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.social.notifications import register_kind, register_target_type


@dataclass
class OrderNotice:
    """What a notification line needs of an order: its number, product names and one picture."""

    id: int
    titles: list[str]
    thumb_path: str | None


def _load_orders(ids: list[int]) -> dict[int, OrderNotice]:
    """Orders with their lines and each one's first product picture: two queries for a whole page."""
    from app.shop.models import Order, ProductImage

    orders = list(db.session.scalars(select(Order).where(Order.id.in_(ids)).options(selectinload(Order.lines))))
    product_ids = {line.product_id for order in orders for line in order.lines}
    pictures: dict[int, str] = {}
    if product_ids:
        for product_id, path in db.session.execute(
                select(ProductImage.product_id, ProductImage.path).where(ProductImage.product_id.in_(product_ids))
                .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)):
            pictures.setdefault(product_id, path)
    notices = {}
    for order in orders:
        thumb = next((pictures[line.product_id] for line in order.lines if line.product_id in pictures), None)
        notices[order.id] = OrderNotice(order.id, [line.product_title for line in order.lines], thumb)
    return notices


def _order_detail(notice: OrderNotice) -> str | None:
    if not notice.titles:
        return None
    if len(notice.titles) == 1:
        return notice.titles[0]
    return _("%(title)s and %(num)d more", title=notice.titles[0], num=len(notice.titles) - 1)


register_target_type("order", _load_orders, lambda order: f"/orders/{order.id}",
                     lambda order: _("Order #%(id)s", id=order.id), detail=_order_detail,
                     thumbnail=lambda order: order.thumb_path)
for _kind, _message, _icon in (
        ("order_paid", _l("Payment received for %(target)s"), "bag"),
        ("order_shipped", _l("%(target)s has shipped"), "truck"),
        ("order_completed", _l("%(target)s is complete"), "check"),
        ("order_cancelled", _l("%(target)s was cancelled"), "x"),
        ("order_partially_refunded", _l("Part of %(target)s was refunded"), "refund"),
        ("order_refunded", _l("%(target)s was refunded"), "refund")):
    register_kind(_kind, _message, _icon, category="orders", group_by_target=True)


def _load_after_sales(ids: list[int]) -> dict[int, Any]:
    from app.shop.aftersale_models import AfterSale

    return {row.id: row for row in db.session.scalars(select(AfterSale).where(AfterSale.id.in_(ids)))}


register_target_type("after_sale", _load_after_sales, lambda row: f"/after-sales/{row.id}",
                     lambda row: _("after-sales request #%(id)s (order #%(order)s)", id=row.id, order=row.order_id))
register_kind("aftersale_requested", _l("New %(target)s"), "refund", category="orders")
register_kind("aftersale_awaiting_return", _l("Return approved: %(target)s — send the item back"), "truck",
              category="orders")
register_kind("aftersale_return_shipped", _l("The return of %(target)s is on its way"), "truck", category="orders")
register_kind("aftersale_refunded", _l("Refund sent for %(target)s"), "refund", category="orders")
register_kind("aftersale_declined", _l("The shop declined %(target)s"), "x", category="orders")
register_kind("aftersale_escalated", _l("%(target)s was escalated to the site's team"), "bell", category="orders")
register_kind("aftersale_closed", _l("%(target)s was closed by the site's team"), "check", category="orders")
register_kind("aftersale_cancelled", _l("%(target)s was withdrawn"), "x", category="orders")
