"""Order pages: the buyer's orders, one order with its actions (cancel, confirm, ship, refund), and a
shop's orders."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.clock import now as clock_now
from app.core.errors import Conflict, Invalid
from app.core.forms import safe_next_url
from app.shop import aftersales, catalog, hooks, orders, refunds
from app.shop.forms import (
    RefundForm,
    ShipForm,
    StockForm,
)
from app.shop.models import OrderStatus
from app.shop.views_aftersales import line_quantities
from app.shop.views_common import bp, flash_outcome, managed_shop

# --- orders -----------------------------------------------------------------------------------------------

@bp.get("/orders")
@login_required
def my_orders():
    status = request.args.get("status") or None
    if status and status not in {s.value for s in OrderStatus}:
        status = None
    page = orders.buyer_orders_page(current_user, status=status, cursor=request.args.get("cursor"))
    return render_template("shop/orders.html", orders=page.items, next_cursor=page.next_cursor, status=status,
                           statuses=list(OrderStatus), form=StockForm())


@bp.get("/orders/<id:order_id>")
@login_required
def order_page(order_id: int):
    order = orders.order_for(current_user, order_id)
    now = clock_now()
    return render_template("shop/order.html", order=order, form=StockForm(), ship_form=ShipForm(),
                           refund_form=RefundForm(), manages=catalog.can_manage(current_user, order.shop),
                           refundable=order.status in refunds.REFUNDABLE and orders.return_window_open(order, now),
                           panels=hooks.order_page_panels(order, current_user),
                           history=aftersales.order_history(order),
                           after_sales=aftersales.after_sales_of_order(order),
                           can_request=aftersales.can_request(order, now))


def _order_action(order_id: int, action, done: str):
    return flash_outcome(action, done, safe_next_url(request.form.get("next"),
                                                     url_for("shop.order_page", order_id=order_id)))


@bp.post("/orders/<id:order_id>/cancel")
@login_required
def cancel(order_id: int):
    return _order_action(order_id, lambda: orders.cancel_order(current_user, order_id), _("Order cancelled."))


@bp.post("/orders/<id:order_id>/confirm")
@login_required
def confirm(order_id: int):
    return _order_action(order_id, lambda: orders.confirm_delivery(current_user, order_id),
                         _("Thanks for confirming. Enjoy!"))


@bp.post("/orders/<id:order_id>/ship")
@login_required
def ship(order_id: int):
    return _order_action(order_id, lambda: orders.ship_order(current_user, order_id,
                                                             request.form.get("tracking_number", "")),
                         _("Marked as shipped."))


@bp.post("/orders/<id:order_id>/refund")
@login_required
def refund(order_id: int):
    """The shop's refund form: units as qty-<line id> fields, or `everything`; the first post shows what
    would be refunded (a confirmation step), the second, with `confirmed`, sends it. An empty selection is
    refused, never read as "everything"."""
    back = url_for("shop.order_page", order_id=order_id)
    refunds.check_refunder(current_user, orders.order_for(current_user, order_id))  # 403 before any other answer
    quantities, errors = line_quantities(request.form)
    everything = request.form.get("everything") == "1"
    reason = (request.form.get("reason") or "").strip()[:300]
    try:
        if errors:
            raise Invalid(_("Check the quantities."), errors)
        if not quantities and not everything:
            raise Invalid(_("Choose what to refund."), {"lines": [_("Choose what to refund.")]})
        wanted = None if everything else quantities
        if request.form.get("confirmed") != "1":
            preview = refunds.preview_refund(current_user, order_id, wanted)
            return render_template("shop/refund_confirm.html", preview=preview, everything=everything,
                                   reason=reason)
        refunds.refund_order(current_user, order_id, wanted, reason)
    except (Conflict, Invalid) as exc:
        flash(exc.summary, "error")
        return redirect(back)
    flash(_("Refund sent."), "success")
    return redirect(back)


@bp.get("/shop/<slug>/orders")
@login_required
def shop_orders(slug: str):
    shop = managed_shop(slug)
    status = request.args.get("status", OrderStatus.PAID)
    if status not in {s.value for s in OrderStatus} and status != "all":
        status = OrderStatus.PAID
    page = orders.shop_orders_page(current_user, shop.id, status=None if status == "all" else status,
                                   cursor=request.args.get("cursor"))
    return render_template("shop/shop_orders.html", shop=shop, orders=page.items, next_cursor=page.next_cursor,
                           status=status, statuses=list(OrderStatus), form=StockForm(), ship_form=ShipForm())
