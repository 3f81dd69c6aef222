"""HTML pages of the storefront: shops, products, cart, checkout, the sandbox pay page and orders.

Views parse the form, call one service and render or redirect; a service's Invalid comes back on the
form (status 422), other domain errors become the site's error page. Every button is a plain form post.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, user_logged_in
from sqlalchemy import select

from app.communities.models import Community
from app.core.auth import current_viewer
from app.core.errors import Conflict, Invalid, NotFound
from app.core.forms import safe_next_url, show_errors_on_form
from app.core.money import parse_amount
from app.core.parsing import parse_whole_number
from app.core.uploads import upload_rate_limit
from app.extensions import csrf, db, limiter
from app.feeds.events import ANON_COOKIE
from app.feeds.foryou import record_shown
from app.feeds.shopping import also_bought
from app.posts.cards import viewer_state
from app.shop import cart as carts
from app.shop import catalog, checkout, coupons, orders, payments, refunds, tags
from app.shop.forms import (
    AddressForm,
    CheckoutForm,
    CouponForm,
    ProductForm,
    RefundForm,
    RejectForm,
    ShipForm,
    ShopApplicationForm,
    SkuForm,
    StockForm,
)
from app.shop.limits import (
    account_key,
    address_key,
    checkout_ip_rate_limit,
    checkout_rate_limit,
    not_placing_orders,
)
from app.shop.models import OrderStatus, ProductStatus, ShopStatus

bp = Blueprint("shop", __name__)
# The sandbox provider's pages, registered by create_app only while PAYMENT_PROVIDER is "sandbox".
sandbox_bp = Blueprint("sandbox", __name__)

GUEST_CART = "guest_cart"  # session key: a visitor's cart until they log in
bp.add_app_template_global(orders.status_badge, "order_status_badge")


def _int_arg(value) -> int | None:
    return parse_whole_number(value, max_digits=9) if isinstance(value, str) else None


# --- shops ------------------------------------------------------------------------------------------------

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


@bp.get("/shop/<slug>")
def shop_page(slug: str):
    shop = catalog.get_shop(slug, current_viewer())
    page = catalog.shop_products(shop, current_viewer(), request.args.get("cursor"), 24)
    return render_template("shop/shop.html", shop=shop, page=page,
                           manages=catalog.can_manage(current_viewer(), shop))


# --- the merchant's back office ---------------------------------------------------------------------------

def _managed_shop(slug: str):
    shop = catalog.get_shop(slug, current_user)
    if not catalog.can_manage(current_user, shop):
        raise NotFound(_("No such shop."))
    return shop


def _community_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(c.id), c.name) for c in db.session.scalars(select(Community).order_by(Community.name))]


def _commission_bps(text: str) -> int:
    """A percentage typed in the form ("5", "7.5") as basis points."""
    cents = parse_amount(text or "0")
    if cents is None or cents > 10_000:
        raise Invalid(_("The commission must be between 0% and 100%."),
                      {"commission": [_("The commission must be between 0% and 100%.")]})
    return cents  # "7.50" % → 750 basis points: percent hundredths are basis points


def _price_cents(text: str, field: str = "price") -> int:
    cents = parse_amount(text)
    if not cents:
        raise Invalid(_("Enter a price above zero, like 128 or 128.50."),
                      {field: [_("Enter a price above zero, like 128 or 128.50.")]})
    return cents


@bp.get("/shop/<slug>/manage")
@login_required
def manage(slug: str):
    shop = _managed_shop(slug)
    page = catalog.shop_products(shop, current_user, request.args.get("cursor"), 50)
    return render_template("shop/manage.html", shop=shop, page=page, sku_form=SkuForm(), stock_form=StockForm(),
                           coupons=coupons.coupons_of_shop(current_user, shop.id))


@bp.route("/shop/<slug>/products/new", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def new_product(slug: str):
    shop = _managed_shop(slug)
    form = ProductForm()
    form.community.choices = _community_choices()
    if form.validate_on_submit():
        try:
            product = _create_product(shop, form)
        except Invalid as exc:
            db.session.rollback()
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
                                  community_id=_int_arg(form.community.data), code=form.code.data,
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
        flash(" ".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
    else:
        flash(_("Option added."), "success")
    return redirect(url_for("shop.manage", slug=product.shop.slug) + f"#product-{product.id}")


@bp.post("/skus/<id:sku_id>/stock")
@login_required
def stock(sku_id: int):
    form = StockForm()
    try:
        sku = catalog.adjust_stock(current_user, sku_id, catalog.parse_count(form.delta.data, "delta", signed=True))
    except Invalid as exc:
        flash(" ".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
        return redirect(request.referrer and safe_next_url(request.referrer, "/") or url_for("feeds.home"))
    flash(_("Stock of %(code)s is now %(count)d.", code=sku.code, count=sku.stock), "success")
    return redirect(url_for("shop.manage", slug=sku.product.shop.slug) + f"#product-{sku.product_id}")


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
    shop = _managed_shop(slug)
    form = CouponForm()
    if form.validate_on_submit():
        try:
            coupons.create_coupon(current_user, shop_id=shop.id, **_coupon_values(form))
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
        value = _int_arg((form.value.data or "").strip())
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
        limits[name] = _int_arg(text) if text else None
        if text and not limits[name]:
            errors[name] = [_("Enter a positive number, or leave it empty for no limit.")]
    if errors:
        raise Invalid(_("Check the coupon's details."), errors)
    return {"code": form.code.data, "kind": kind, "value": value, "min_spend_cents": min_spend, **dates, **limits}


# --- products ---------------------------------------------------------------------------------------------

@bp.get("/products/<id:product_id>")
def product(product_id: int):
    viewer = current_viewer()
    item = catalog.product_for(viewer, product_id)
    featuring = tags.posts_featuring(item.id, viewer, limit=12)
    record_shown([post.id for post in featuring], "product", viewer, request.cookies.get(ANON_COOKIE))
    return render_template(
        "shop/product.html", product=item, stock_state=catalog.stock_state, rating=tags.product_rating(item.id),
        featuring=featuring, featuring_state=viewer_state(featuring, viewer.id if viewer else None),
        manages=catalog.can_manage(viewer, item.shop), source_post_id=_int_arg(request.args.get("from")),
        also=also_bought(item.id))


# --- cart -------------------------------------------------------------------------------------------------

@bp.post("/cart/add")
def cart_add():
    sku_id = _int_arg(request.form.get("sku_id"))
    source = _int_arg(request.form.get("source_post_id"))
    quantity = request.form.get("quantity", "1")
    back = safe_next_url(request.form.get("next"), url_for("shop.cart"))
    try:
        if current_user.is_authenticated:
            carts.add_to_cart(current_user, sku_id, quantity, source, product_id=request.form.get("product_id"))
        else:
            session[GUEST_CART] = carts.add_to_guest_cart(session.get(GUEST_CART, []), sku_id, quantity, source,
                                                          request.form.get("product_id"))
    except (Invalid, NotFound) as exc:
        flash(" ".join(m for messages in getattr(exc, "errors", {}).values() for m in messages) or exc.message,
              "error")
        return redirect(back)
    if request.form.get("buy_now"):
        return redirect(url_for("shop.checkout_page"))
    flash(_("Added to your cart."), "success")
    return redirect(back)


@bp.get("/cart")
def cart():
    if current_user.is_authenticated:
        items = carts.cart_of(current_user).items
    else:
        items = carts.guest_cart_items(session.get(GUEST_CART, []))
    summary = carts.summarize_cart(items)
    return render_template("shop/cart.html", by_shop=summary.by_shop, items=summary.items,
                           total_cents=summary.total_cents, currency=summary.currency, form=StockForm())


@bp.post("/cart/items/<id:item_id>")
def cart_update(item_id: int):
    quantity = "0" if request.form.get("remove") else request.form.get("quantity", "")
    try:
        if current_user.is_authenticated:
            carts.set_cart_quantity(current_user, item_id, quantity)
        else:
            session[GUEST_CART] = carts.set_guest_cart_quantity(session.get(GUEST_CART, []), item_id, quantity)
    except (Invalid, NotFound) as exc:
        db.session.rollback()
        flash(" ".join(m for messages in getattr(exc, "errors", {}).values() for m in messages) or exc.message,
              "error")
    return redirect(url_for("shop.cart"))


@user_logged_in.connect
def _merge_guest_cart(sender, user, **extra):
    """A visitor who logs in keeps what they put in the cart (Flask-Login's signal: accounts must not
    import the shop)."""
    lines = session.pop(GUEST_CART, None)
    if lines:
        carts.merge_guest_cart(user, lines)


# --- checkout and payment ---------------------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
@limiter.shared_limit(checkout_rate_limit, scope="checkout", key_func=account_key, methods=["POST"],
                      exempt_when=not_placing_orders)
@limiter.shared_limit(checkout_ip_rate_limit, scope="checkout-ip", key_func=address_key, methods=["POST"],
                      exempt_when=not_placing_orders)
def checkout_page():
    if not current_user.is_authenticated:
        flash(_("Log in to check out; your cart is kept."), "info")
        return redirect(url_for("accounts.login", next=url_for("shop.checkout_page")))
    form = CheckoutForm()
    addresses = carts.addresses_of(current_user)
    form.address_id.choices = [(str(a.id), a.as_text()) for a in addresses]
    if request.method == "GET" and addresses:
        form.address_id.data = str(addresses[-1].id)
    coupon = (form.coupon.data or "").strip() if request.method == "POST" else ""
    refused = None
    if form.validate_on_submit() and request.form.get("action") == "place":
        # Placed before the cart is looked at: a resent form finds the cart emptied by its first sending.
        try:
            started = checkout.check_out(current_user, None, _int_arg(form.address_id.data), coupon or None,
                                         idempotency_key=_checkout_key(form.checkout_token.data))
        except checkout.KeyReused:
            refused = Conflict(_("This form was already used to place an order. Check your orders before "
                                 "placing another."))
        except (Invalid, Conflict) as exc:
            refused = exc
        else:
            if started.redirect_url:
                return redirect(started.redirect_url)
            flash(started.refusal, "info")  # a resent form whose checkout can no longer be paid
            return redirect(url_for("shop.order_page", order_id=started.orders[0].id))
    if not carts.cart_of(current_user).items:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("shop.cart"))
    try:
        quote = checkout.quote_cart(current_user, coupon)
    except Invalid as exc:
        flash(" ".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
        return redirect(url_for("shop.cart"))
    if quote.coupon_error:
        form.coupon.errors = [quote.coupon_error]
    elif isinstance(refused, Invalid):
        show_errors_on_form(form, refused)
    elif refused is not None:
        form.form_errors.append(refused.message)
    form.checkout_token.data = secrets.token_urlsafe(24)  # a new one for each rendering
    status = 422 if form.errors or form.form_errors else 200
    return render_template("shop/checkout.html", form=form, priced=quote.priced, addresses=addresses,
                           address_form=AddressForm(), shops=_shops_of(quote.priced)), status


_CHECKOUT_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _checkout_key(token: str | None) -> str | None:
    """The form's one-time token as the checkout's idempotency key (none for a form sent without one)."""
    return f"form:{token}" if isinstance(token, str) and _CHECKOUT_TOKEN.fullmatch(token) else None


def _shops_of(priced) -> dict:
    shops = {}
    for line in priced.requested:
        sku = priced.skus[line.sku_id]
        shops.setdefault(sku.product.shop, []).append((sku, line.quantity))
    return shops


@bp.post("/addresses")
@login_required
def add_address():
    form = AddressForm()
    try:
        carts.add_address(current_user, recipient_name=form.recipient_name.data, phone=form.phone.data,
                          line1=form.line1.data, region=form.region.data or "",
                          postal_code=form.postal_code.data or "")
    except Invalid as exc:
        flash(" ".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
    else:
        flash(_("Address saved."), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("shop.checkout_page")))


@bp.post("/orders/pay/<id:payment_id>")
@login_required
def pay(payment_id: int):
    """Pay again for a checkout whose payment was declined or not finished (while the stock is held)."""
    try:
        return redirect(payments.start_payment(current_user, payment_id))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("shop.my_orders"))


@sandbox_bp.route("/pay/sandbox/<id:payment_id>", methods=["GET", "POST"])
@login_required
def sandbox_pay(payment_id: int):
    """The sandbox provider's hosted page. Pay or Decline sends the signed callback a real provider would
    send from its servers; here it is delivered in-process to the same handler as /payments/callback/sandbox."""
    payment = payments.payment_of(current_user, payment_id)
    provider = payments.get_provider("sandbox")
    if request.method == "POST":
        decision = "succeeded" if request.form.get("decision") == "pay" else "failed"
        body, signature = provider.callback_for(payment, decision)
        outcome = payments.handle_payment_callback(provider, body, signature)
        if outcome.outcome in ("paid", "duplicate") and decision == "succeeded":
            flash(_("Payment received. Thank you!") if outcome.outcome == "paid" and not outcome.reason else
                  _("The payment arrived after the order was cancelled, so it was refunded."), "success")
        elif decision == "failed":
            flash(_("The payment was declined. You can try again while the items are held."), "error")
        else:
            flash(_("The payment arrived after the order was cancelled, so it was refunded."), "info")
        first = payment.orders[0].id if payment.orders else None
        return redirect(url_for("shop.order_page", order_id=first) if first else url_for("shop.my_orders"))
    return render_template("shop/sandbox_pay.html", payment=payment, form=StockForm())


@sandbox_bp.post("/payments/callback/sandbox")
@csrf.exempt
def sandbox_callback():
    """Server-to-server: the body is signed with HMAC-SHA256 in the X-Sandbox-Signature header."""
    entry = payments.handle_payment_callback(payments.get_provider("sandbox"), request.get_data(),
                                             request.headers.get("X-Sandbox-Signature", ""))
    if entry.outcome in ("rejected", "error"):
        return {"status": "rejected", "reason": entry.reason}, 400
    return {"status": "ok", "outcome": entry.outcome}, 200


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
    return render_template("shop/order.html", order=order, form=StockForm(), ship_form=ShipForm(),
                           refund_form=RefundForm(), manages=catalog.can_manage(current_user, order.shop),
                           refundable=order.status in refunds.REFUNDABLE)


def _order_action(order_id: int, action, done: str):
    try:
        action()
    except (Conflict, Invalid) as exc:
        db.session.rollback()
        flash(" ".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
    else:
        flash(done, "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("shop.order_page", order_id=order_id)))


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
    """Refund everything left, or the units given as qty-<line id> fields."""
    def wanted() -> dict[int, int] | None:
        quantities = {}
        for key, value in request.form.items():
            if key.startswith("qty-") and value.strip() not in ("", "0"):
                line_id = _int_arg(key[4:])
                if line_id is None:
                    raise Invalid(_("This item is not part of the order."))
                quantities[line_id] = checkout.parse_quantity(value, f"lines.{line_id}")
        return quantities or None

    return _order_action(order_id, lambda: refunds.refund_order(current_user, order_id, wanted(),
                                                                 request.form.get("reason", "")),
                         _("Refund sent."))


@bp.get("/shop/<slug>/orders")
@login_required
def shop_orders(slug: str):
    shop = _managed_shop(slug)
    status = request.args.get("status", OrderStatus.PAID)
    if status not in {s.value for s in OrderStatus} and status != "all":
        status = OrderStatus.PAID
    page = orders.shop_orders_page(current_user, shop.id, status=None if status == "all" else status,
                                   cursor=request.args.get("cursor"))
    return render_template("shop/shop_orders.html", shop=shop, orders=page.items, next_cursor=page.next_cursor,
                           status=status, statuses=list(OrderStatus), form=StockForm(), ship_form=ShipForm())
