"""The merchant's pages for after creation: shop settings, editing a product (details, images, options)
with its history, and the searchable manage list. Rules live in app/shop/merchant.py."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import Conflict, Invalid
from app.core.forms import show_errors_on_form
from app.core.money import parse_amount
from app.core.uploads import upload_rate_limit
from app.shop import catalog, coupons, merchant
from app.shop.forms import ProductEditForm, ShopSettingsForm
from app.shop.models import ProductStatus
from app.shop.views_common import bp, int_arg, managed_shop
from app.shop.views_merchant import _community_choices


@bp.get("/my-shop")
@login_required
def my_shop():
    """The nav's "My shop": the owner's back office (or the application form)."""
    shop = catalog.shop_of(current_user)
    if shop is None or shop.status != "approved":
        return redirect(url_for("shop.apply"))
    return redirect(url_for("shop.manage", slug=shop.slug))


@bp.route("/shop/<slug>/settings", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def shop_settings(slug: str):
    shop = managed_shop(slug)
    form = ShopSettingsForm(obj=shop if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            merchant.update_shop_settings(
                current_user, shop.id, name=form.name.data, description=form.description.data or "",
                return_policy=form.return_policy.data or "", contact=form.contact.data or "",
                logo=form.logo.data.read() if getattr(form.logo.data, "filename", "") else None,
                banner=form.banner.data.read() if getattr(form.banner.data, "filename", "") else None)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Shop settings saved."), "success")
            return redirect(url_for("shop.shop_settings", slug=shop.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("shop/settings.html", shop=shop, form=form), status


def _edit_page(product, form=None, sku_errors=None, entered=None, status=200):
    if form is None:
        form = ProductEditForm(obj=product)
        form.community.data = str(product.community_id or "")
    form.community.choices = _community_choices()
    return render_template("shop/product_edit.html", product=product, form=form, sku_errors=sku_errors or {},
                           entered=entered or {}, history=merchant.product_history(current_user, product.id),
                           community_names=dict(_community_choices())), status


@bp.route("/products/<id:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int):
    product = catalog.product_for(current_user, product_id)
    if not catalog.can_manage(current_user, product.shop):
        return redirect(url_for("shop.product", product_id=product.id))
    if request.method == "GET":
        return _edit_page(product)
    form = ProductEditForm()
    form.community.choices = _community_choices()
    if form.validate_on_submit():
        try:
            merchant.update_product(current_user, product.id, title=form.title.data,
                                    description=form.description.data or "",
                                    community_id=int_arg(form.community.data))
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Saved. Every change is kept in the product's history."), "success")
            return redirect(url_for("shop.edit_product", product_id=product.id))
    return _edit_page(product, form, status=422)


@bp.post("/skus/<id:sku_id>/edit")
@login_required
def edit_sku(sku_id: int):
    field = f"skus.{sku_id}"
    price_text = request.form.get("price", "")
    stock_text = (request.form.get("stock") or "").strip()
    price = parse_amount(price_text)
    try:
        stock = catalog.parse_count(stock_text, f"{field}.stock") if stock_text else None
        sku = merchant.update_sku(current_user, sku_id, label=request.form.get("label", ""),
                                  price_cents=price if price else None, stock=stock,
                                  stock_seen=int_arg(request.form.get("stock_seen")),
                                  is_active=request.form.get("is_active") == "1")
    except (Invalid, Conflict) as exc:
        from app.extensions import db
        from app.shop.models import Sku

        db.session.rollback()
        row = db.session.get(Sku, sku_id)
        if row is None:
            raise
        errors = {key.removeprefix(f"{field}."): messages for key, messages in exc.errors.items()}
        if not errors:
            errors = {"form": [exc.message]}
        product = catalog.product_for(current_user, row.product_id)
        return _edit_page(product, sku_errors={sku_id: errors}, entered={sku_id: request.form}, status=422)
    flash(_("Option saved. Orders keep the price they were placed at; carts show the new price."), "success")
    return redirect(url_for("shop.edit_product", product_id=sku.product_id) + f"#sku-{sku.id}")


@bp.post("/products/<id:product_id>/images/add")
@login_required
@upload_rate_limit
def add_product_images(product_id: int):
    uploads = [f.read() for f in request.files.getlist("images") if f.filename]
    try:
        merchant.add_images(current_user, product_id, uploads)
    except Invalid as exc:
        flash(exc.summary, "error")
    else:
        flash(_("Images added."), "success")
    return redirect(url_for("shop.edit_product", product_id=product_id) + "#images")


@bp.post("/product-images/<id:image_id>/remove")
@login_required
def remove_product_image(image_id: int):
    product = merchant.remove_image(current_user, image_id)
    flash(_("Image removed."), "success")
    return redirect(url_for("shop.edit_product", product_id=product.id) + "#images")


@bp.post("/product-images/<id:image_id>/move")
@login_required
def move_product_image(image_id: int):
    offset = -1 if request.form.get("direction") == "up" else 1
    product = merchant.move_image(current_user, image_id, offset)
    return redirect(url_for("shop.edit_product", product_id=product.id) + "#images")


@bp.get("/shop/<slug>/manage")
@login_required
def manage(slug: str):
    shop = managed_shop(slug)
    query = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") or None
    if status not in {s.value for s in ProductStatus}:
        status = None
    page, rows = merchant.manage_page(current_user, shop.id, query=query, status=status,
                                      cursor=request.args.get("cursor"))
    return render_template("shop/manage.html", shop=shop, page=page, rows=rows, query=query, status=status,
                           coupons=coupons.coupons_of_shop(current_user, shop.id))
