"""After-sales pages: the buyer's request form and list, one request with the actions its viewer may take
(shop: approve, decline, confirm the return; buyer: return tracking, withdraw, escalate; admin: decide), the
shop's and the admins' lists. Every action calls one service in app/shop/aftersales.py."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.clock import now as clock_now
from app.core.errors import Conflict, Invalid
from app.core.forms import show_errors_on_form
from app.core.uploads import upload_rate_limit
from app.shop import aftersales, catalog, orders
from app.shop.aftersale_models import AfterSaleStatus
from app.shop.forms import AfterSaleDeclineForm, AfterSaleForm, EscalateForm, ResolveForm, ReturnTrackingForm
from app.shop.views_common import bp, flash_outcome, int_arg, managed_shop


def _reason_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a reason"))] + [(code, str(label)) for code, label in aftersales.REASONS.items()]


def line_quantities(form_data) -> tuple[dict[int, int], dict[str, list[str]]]:
    """qty-<line id> fields → {line id: units}; unreadable numbers are reported on their line."""
    quantities, errors = {}, {}
    for key, value in form_data.items():
        if not key.startswith("qty-"):
            continue
        line_id = int_arg(key[4:])
        text = (value or "").strip()
        if line_id is None:
            continue
        if text in ("", "0"):
            continue
        number = int_arg(text)
        if number is None:
            errors[f"lines.{line_id}"] = [_("Enter a whole number.")]
        else:
            quantities[line_id] = number
    return quantities, errors


@bp.route("/orders/<id:order_id>/after-sales/new", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def new_after_sale(order_id: int):
    order = orders.order_for(current_user, order_id)
    if order.buyer_id != current_user.id:
        return redirect(url_for("shop.order_page", order_id=order.id))
    form = AfterSaleForm()
    form.reason.choices = _reason_choices()
    line_errors: dict[str, list[str]] = {}
    closed = None
    if not aftersales.can_request(order, clock_now()):
        closed = _("This order cannot have a new after-sales request: it is not paid or its return window has "
                   "closed.")
    if request.method == "POST" and form.validate_on_submit() and not closed:
        quantities, line_errors = line_quantities(request.form)
        try:
            if line_errors:
                raise Invalid(_("Check the quantities."), line_errors)
            after_sale = aftersales.request_after_sale(
                current_user, order.id, kind=form.kind.data or "", quantities=quantities,
                reason=form.reason.data or "", note=form.note.data or "",
                photos=[f.read() for f in (form.photos.data or []) if getattr(f, "filename", "")])
        except Invalid as exc:
            line_errors = {k: v for k, v in exc.errors.items() if k.startswith("lines")}
            show_errors_on_form(form, Invalid(exc.message, {k: v for k, v in exc.errors.items()
                                                            if not k.startswith("lines")}))
            if not form.errors and not line_errors:
                form.form_errors.append(exc.message)
        except Conflict as exc:
            closed = exc.message
        else:
            flash(_("Request sent. The shop has %(hours)d hours to answer, or it is approved automatically.",
                    hours=aftersales.auto_approve_hours()), "success")
            return redirect(url_for("shop.after_sale_page", after_sale_id=after_sale.id))
    available = aftersales.requestable_units(order)
    status = 422 if (form.errors or form.form_errors or line_errors or closed) and request.method == "POST" else 200
    return render_template("shop/aftersale_form.html", order=order, form=form, available=available,
                           line_errors=line_errors, closed=closed, entered=request.form,
                           auto_hours=aftersales.auto_approve_hours()), status


@bp.get("/after-sales/<id:after_sale_id>")
@login_required
def after_sale_page(after_sale_id: int):
    after_sale = aftersales.after_sale_for(current_user, after_sale_id)
    order = orders.order_for(current_user, after_sale.order_id)
    return render_template("shop/aftersale.html", after_sale=after_sale, order=order,
                           is_buyer=after_sale.buyer_id == current_user.id,
                           manages=catalog.can_manage(current_user, order.shop),
                           decline_form=AfterSaleDeclineForm(), tracking_form=ReturnTrackingForm(),
                           escalate_form=EscalateForm(), resolve_form=ResolveForm())


def _act(after_sale_id: int, action, done: str):
    return flash_outcome(action, done, url_for("shop.after_sale_page", after_sale_id=after_sale_id))


@bp.post("/after-sales/<id:after_sale_id>/approve")
@login_required
def approve_after_sale(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.approve_after_sale(current_user, after_sale_id),
                _("Approved."))


@bp.post("/after-sales/<id:after_sale_id>/decline")
@login_required
def decline_after_sale(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.decline_after_sale(current_user, after_sale_id,
                                                                     request.form.get("reason", "")),
                _("Declined. The buyer may escalate it to the site's team once."))


@bp.post("/after-sales/<id:after_sale_id>/received")
@login_required
def confirm_return(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.confirm_return_received(current_user, after_sale_id),
                _("Return received; the refund was sent."))


@bp.post("/after-sales/<id:after_sale_id>/tracking")
@login_required
def return_tracking(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.submit_return_tracking(
        current_user, after_sale_id, request.form.get("tracking_number", "")), _("Thanks. The shop will confirm "
                                                                                 "when the parcel arrives."))


@bp.post("/after-sales/<id:after_sale_id>/cancel")
@login_required
def cancel_after_sale(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.cancel_after_sale(current_user, after_sale_id),
                _("Request withdrawn."))


@bp.post("/after-sales/<id:after_sale_id>/escalate")
@login_required
def escalate_after_sale(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.escalate_after_sale(current_user, after_sale_id,
                                                                      request.form.get("note", "")),
                _("Sent to the site's team. They will decide."))


@bp.post("/after-sales/<id:after_sale_id>/resolve")
@login_required
def resolve_after_sale(after_sale_id: int):
    return _act(after_sale_id, lambda: aftersales.resolve_escalation(
        current_user, after_sale_id, request.form.get("decision", ""), request.form.get("note", "")),
        _("Decided."))


def _status_arg() -> str | None:
    status = request.args.get("status") or None
    return status if status in {s.value for s in AfterSaleStatus} else None


@bp.get("/after-sales")
@login_required
def my_after_sales():
    status = _status_arg()
    page = aftersales.buyer_after_sales_page(current_user, status=status, cursor=request.args.get("cursor"))
    return render_template("shop/aftersales.html", page=page, status=status, heading=_("My after-sales requests"),
                           shop=None)


@bp.get("/shop/<slug>/after-sales")
@login_required
def shop_after_sales(slug: str):
    shop = managed_shop(slug)
    status = _status_arg()
    page = aftersales.shop_after_sales_page(current_user, shop.id, status=status, cursor=request.args.get("cursor"))
    return render_template("shop/aftersales.html", page=page, status=status, shop=shop,
                           heading=_("After-sales requests"))


@bp.get("/admin/after-sales")
@login_required
def escalated_after_sales():
    page = aftersales.escalated_page(current_user, cursor=request.args.get("cursor"))
    return render_template("shop/aftersales.html", page=page, status="escalated", shop=None,
                           heading=_("Escalated after-sales requests"))


@bp.app_template_global("aftersale_status")
def _aftersale_status(status: str) -> str:
    return aftersales.status_label(status)


@bp.app_template_global("aftersale_reason")
def _aftersale_reason(code: str) -> str:
    return str(aftersales.REASONS.get(code, code))


@bp.app_template_global("aftersale_kind")
def _aftersale_kind(kind: str) -> str:
    return str(aftersales.KIND_LABELS.get(kind, kind))
