"""The cart (a member's or a guest's), checkout, saved addresses, and paying (including the sandbox
provider's hosted page and callback)."""
from __future__ import annotations

import re
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, user_logged_in

from app.core.errors import Conflict, Invalid, NotFound
from app.core.forms import safe_next_url, show_errors_on_form
from app.core.limits import account_key, address_key
from app.extensions import csrf, limiter
from app.shop import cart as carts
from app.shop import checkout, payments, wallet
from app.shop.forms import (
    AddressForm,
    CheckoutForm,
    StockForm,
)
from app.shop.limits import (
    checkout_ip_rate_limit,
    checkout_rate_limit,
    not_placing_orders,
)
from app.shop.views_common import bp, int_arg, sandbox_bp

GUEST_CART = "guest_cart"  # session key: a visitor's cart until they log in


# --- cart -------------------------------------------------------------------------------------------------

@bp.post("/cart/add")
def cart_add():
    sku_id = int_arg(request.form.get("sku_id"))
    source = int_arg(request.form.get("source_post_id"))
    quantity = request.form.get("quantity", "1")
    back = safe_next_url(request.form.get("next"), url_for("shop.cart"))
    try:
        if current_user.is_authenticated:
            carts.add_to_cart(current_user, sku_id, quantity, source, product_id=request.form.get("product_id"))
        else:
            session[GUEST_CART] = carts.add_to_guest_cart(session.get(GUEST_CART, []), sku_id, quantity, source,
                                                          request.form.get("product_id"))
    except (Invalid, NotFound) as exc:
        flash(exc.summary, "error")
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
        flash(exc.summary, "error")
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
            started = checkout.check_out(current_user, None, int_arg(form.address_id.data), coupon or None,
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
    best = None
    if request.method == "GET" and not coupon:  # offer the wallet's best coupon; the buyer may clear it
        best = _best_wallet_coupon()
        coupon = best[0] if best else ""
        form.coupon.data = coupon
    try:
        quote = checkout.quote_cart(current_user, coupon)
    except Invalid as exc:
        flash(exc.summary, "error")
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
                           address_form=AddressForm(), shops=_shops_of(quote.priced), wallet_best=best), status


def _best_wallet_coupon() -> tuple[str, int] | None:
    def discount_with(code: str) -> int:
        try:
            quoted = checkout.quote_cart(current_user, code)
        except Invalid:
            return 0
        return 0 if quoted.coupon_error else quoted.priced.discount_cents

    return wallet.best_wallet_coupon(current_user, discount_with)


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
        flash(exc.summary, "error")
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
