"""How order notifications read and link (registered with app.social.notifications at import)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.social.notifications import register_kind, register_target_type


def _load_orders(ids: list[int]) -> dict[int, Any]:
    from app.shop.models import Order

    return {order.id: order for order in db.session.scalars(select(Order).where(Order.id.in_(ids)))}


register_target_type("order", _load_orders, lambda order: f"/orders/{order.id}",
                     lambda order: _("Order #%(id)s", id=order.id))
register_kind("order_paid", _l("Payment received for %(target)s"), "bag")
register_kind("order_shipped", _l("%(target)s has shipped"), "truck")
register_kind("order_completed", _l("%(target)s is complete"), "check")
register_kind("order_cancelled", _l("%(target)s was cancelled"), "x")
register_kind("order_partially_refunded", _l("Part of %(target)s was refunded"), "refund")
register_kind("order_refunded", _l("%(target)s was refunded"), "refund")


def _load_after_sales(ids: list[int]) -> dict[int, Any]:
    from app.shop.aftersale_models import AfterSale

    return {row.id: row for row in db.session.scalars(select(AfterSale).where(AfterSale.id.in_(ids)))}


register_target_type("after_sale", _load_after_sales, lambda row: f"/after-sales/{row.id}",
                     lambda row: _("after-sales request #%(id)s (order #%(order)s)", id=row.id, order=row.order_id))
register_kind("aftersale_requested", _l("New %(target)s"), "refund")
register_kind("aftersale_awaiting_return", _l("Return approved: %(target)s — send the item back"), "truck")
register_kind("aftersale_return_shipped", _l("The return of %(target)s is on its way"), "truck")
register_kind("aftersale_refunded", _l("Refund sent for %(target)s"), "refund")
register_kind("aftersale_declined", _l("The shop declined %(target)s"), "x")
register_kind("aftersale_escalated", _l("%(target)s was escalated to the site's team"), "bell")
register_kind("aftersale_closed", _l("%(target)s was closed by the site's team"), "check")
register_kind("aftersale_cancelled", _l("%(target)s was withdrawn"), "x")
