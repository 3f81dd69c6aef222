"""Coupons readers can find: claiming a published coupon (领券) from a shop or product page, the wallet
(/me/coupons), and the shop publishing a coupon. The rules live in app/shop/wallet.py."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.clock import now as clock_now
from app.core.errors import Conflict
from app.core.forms import safe_next_url
from app.shop import wallet
from app.shop.views_common import bp


@bp.post("/coupons/<id:coupon_id>/claim")
@login_required
def claim_coupon(coupon_id: int):
    back = safe_next_url(request.form.get("next"), url_for("shop.my_coupons"))
    try:
        claim = wallet.claim_coupon(current_user, coupon_id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(code)s is in your wallet. The checkout offers it when it applies.", code=claim.coupon.code),
              "success")
    return redirect(back)


@bp.post("/coupons/<id:coupon_id>/publish")
@login_required
def publish_coupon(coupon_id: int):
    coupon = wallet.publish_coupon(current_user, coupon_id, request.form.get("claimable") == "1")
    flash(_("Readers can now claim this coupon on your shop and product pages.") if coupon.claimable
          else _("The coupon is no longer shown for claiming."), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("feeds.home")))


@bp.get("/me/coupons")
@login_required
def my_coupons():
    return render_template("shop/wallet.html", entries=wallet.wallet(current_user, clock_now()),
                           findable=wallet.claimable_coupons(None, current_user))


@bp.app_template_global("claimable_coupons")
def _claimable_coupons(shop_id):
    """For the shop and product pages' 领券 strip."""
    return wallet.claimable_coupons(shop_id, current_user)
