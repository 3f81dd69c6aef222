"""Shop pages for merchants and admins: applying for a shop, reviewing applications, the back office
(products, options, stock, coupons).
"""
from __future__ import annotations

from datetime import datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.communities.models import Community
from app.core.errors import Conflict, Invalid
from app.core.forms import safe_next_url, show_errors_on_form
from app.core.money import parse_amount
from app.core.uploads import upload_rate_limit
from app.extensions import db
from app.shop import catalog, coupons, wallet
from app.shop.forms import (
    CouponForm,
    ProductForm,
    RejectForm,
    ShopApplicationForm,
    SkuForm,
    StockForm,
)
from app.shop.models import ProductStatus, ShopStatus
from app.shop.views_common import bp, int_arg, managed_shop

# --- applying for a shop and reviewing applications ------------------------------------------------------------------

@bp.route("/shop/apply", methods=["GET", "POST"])
@login_required
def apply():
    shop = catalog.shop_of(current_user)
    if shop is not None and shop.status == ShopStatus.APPROVED:
        return redirect(url_for("shop.manage", slug=shop.slug))
    form = ShopApplicationForm()
    if shop is not None and shop.status == ShopStatus.APPLIED:
        return render_template("shop/apply.html", form=None, shop=shop)
    if form.validate_on_submit():
        try:
            shop = catalog.apply_for_shop(current_user, slug=form.slug.data, name=form.name.data,
                                          description=form.description.data)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Thank you! We will review your shop soon."), "success")
            return redirect(url_for("shop.apply"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("shop/apply.html", form=form, shop=shop), status


@bp.get("/admin/shops")
@login_required
def applications():
    return render_template("shop/applications.html", shops=catalog.shop_applications(current_user),
                           reject_form=RejectForm())


@bp.post("/admin/shops/<id:shop_id>/approve")
@login_required
def approve(shop_id: int):
    shop = catalog.approve_shop(current_user, shop_id)
    flash(_("%(name)s is open.", name=shop.name), "success")
    return redirect(url_for("shop.applications"))


@bp.post("/admin/shops/<id:shop_id>/reject")
@login_required
def reject(shop_id: int):
    form = RejectForm()
    try:
        catalog.reject_shop(current_user, shop_id, form.reason.data or "")
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash(_("The application was declined."), "info")
    return redirect(url_for("shop.applications"))


# --- the merchant's back office ---------------------------------------------------------------------------

def _community_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(c.id), c.name) for c in db.session.scalars(select(Community).order_by(Community.name))]


def _commission_bps(text: str) -> int:
    """A percentage typed in the form ("5", "7.5") as basis points."""
    cents = parse_amount(text or "0")
    error = catalog.check_commission_bps(cents if cents is not None else -1)
    if error:
        raise Invalid(error, {"commission": [error]})
    return cents  # "7.50" % → 750 basis points: percent hundredths are basis points


def _price_cents(text: str, field: str = "price") -> int:
    cents = parse_amount(text)
    if not cents:
        raise Invalid(_("Enter a price above zero, like 128 or 128.50."),
                      {field: [_("Enter a price above zero, like 128 or 128.50.")]})
    return cents


@bp.route("/shop/<slug>/products/new", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def new_product(slug: str):
    shop = managed_shop(slug)
    form = ProductForm()
    form.community.choices = _community_choices()
    if form.validate_on_submit():
        try:
            product = _create_product(shop, form)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for("shop.product", product_id=product.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("shop/product_form.html", form=form, shop=shop), status


def _create_product(shop, form: ProductForm):
    """Read every field before anything is stored (all errors at once), then create the listing."""
    values, errors = {}, {}
    for name, parse in (("commission_bps", lambda: _commission_bps(form.commission.data)),
                        ("price_cents", lambda: _price_cents(form.price.data)),
                        ("stock", lambda: catalog.parse_count(form.stock.data, "stock"))):
        try:
            values[name] = parse()
        except Invalid as exc:
            errors.update(exc.errors)
    if errors:
        raise Invalid(_("Check the product's details."), errors)
    return catalog.create_listing(current_user, shop.id, title=form.title.data, description=form.description.data,
                                  community_id=int_arg(form.community.data), code=form.code.data,
                                  label=form.label.data or "",
                                  uploads=[f.read() for f in (form.images.data or []) if getattr(f, "filename", "")],
                                  **values)


@bp.post("/products/<id:product_id>/skus")
@login_required
def add_sku(product_id: int):
    product = catalog.product_for(current_user, product_id)
    form = SkuForm()
    try:
        catalog.add_sku(current_user, product.id, code=form.code.data, label=form.label.data or "",
                        price_cents=_price_cents(form.price.data), stock=catalog.parse_count(form.stock.data, "stock"))
    except Invalid as exc:
        flash(exc.summary, "error")
    else:
        flash(_("Option added."), "success")
    return redirect(url_for("shop.edit_product", product_id=product.id) + "#options")


@bp.post("/skus/<id:sku_id>/stock")
@login_required
def stock(sku_id: int):
    form = StockForm()
    try:
        sku = catalog.adjust_stock(current_user, sku_id, catalog.parse_count(form.delta.data, "delta", signed=True))
    except Invalid as exc:
        flash(exc.summary, "error")
        return redirect(request.referrer and safe_next_url(request.referrer, "/") or url_for("feeds.home"))
    flash(_("Stock of %(code)s is now %(count)d.", code=sku.code, count=sku.stock), "success")
    return redirect(url_for("shop.edit_product", product_id=sku.product_id) + "#options")


@bp.post("/products/<id:product_id>/status")
@login_required
def product_status(product_id: int):
    wanted = request.form.get("status", "")
    if wanted not in {s.value for s in ProductStatus}:
        abort(400)
    try:
        product = catalog.set_product_status(current_user, product_id, ProductStatus(wanted))
    except Conflict as exc:
        flash(exc.message, "error")
        product = catalog.product_for(current_user, product_id)
    else:
        flash(_("Published.") if wanted == ProductStatus.ACTIVE else _("Saved."), "success")
    return redirect(url_for("shop.manage", slug=product.shop.slug) + f"#product-{product.id}")


@bp.route("/shop/<slug>/coupons/new", methods=["GET", "POST"])
@login_required
def new_coupon(slug: str):
    shop = managed_shop(slug)
    form = CouponForm()
    if form.validate_on_submit():
        try:
            coupon = coupons.create_coupon(current_user, shop_id=shop.id, **_coupon_values(form))
            if form.claimable.data:
                wallet.publish_coupon(current_user, coupon.id)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Coupon created."), "success")
            return redirect(url_for("shop.manage", slug=shop.slug) + "#coupons")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("shop/coupon_form.html", form=form, shop=shop), status


def _coupon_values(form: CouponForm) -> dict:
    """Form text → the service's typed values; anything unreadable is reported on its field."""
    errors: dict[str, list[str]] = {}
    kind = form.kind.data or "percent"
    if kind == "percent":
        value = int_arg((form.value.data or "").strip())
    else:
        value = parse_amount(form.value.data)
    if not value:
        errors["value"] = [_("Enter a positive amount (a percentage is at most 100).")]
    min_spend = parse_amount(form.min_spend.data or "0")
    if min_spend is None:
        errors["min_spend"] = [_("The minimum spend cannot be negative.")]
    dates = {}
    for name, at in (("starts_at", time.min), ("ends_at", time.max)):
        text = (getattr(form, name).data or "").strip()
        try:
            dates[name] = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), at) if text else None
        except ValueError:
            errors[name] = [_("Use the form YYYY-MM-DD.")]
    limits = {}
    for name in ("total_uses", "per_user_limit"):
        text = (getattr(form, name).data or "").strip()
        limits[name] = int_arg(text) if text else None
        if text and not limits[name]:
            errors[name] = [_("Enter a positive number, or leave it empty for no limit.")]
    if errors:
        raise Invalid(_("Check the coupon's details."), errors)
    return {"code": form.code.data, "kind": kind, "value": value, "min_spend_cents": min_spend, **dates, **limits}
