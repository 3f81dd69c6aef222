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
