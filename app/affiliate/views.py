"""HTML pages for sharing commissions: share links and the share sheet, earnings, invites, the shop's sales
dashboard and the admin payout run. Views parse, call one service and render."""
from __future__ import annotations

import secrets

import segno
from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app.affiliate import attribution, ledger, reports
from app.core.errors import Invalid, NotFound
from app.core.limits import account_key
from app.core.parsing import parse_id, parse_whole_number
from app.core.urls import external_url_for
from app.extensions import db, limiter
from app.posts.models import Post
from app.shop import hooks as shop_hooks
from app.shop.models import Product

bp = Blueprint("affiliate", __name__)
VISITOR_COOKIE = "tm_ref"
VISITOR_COOKIE_DAYS = 30


def _limit(name: str):
    from flask import current_app

    return lambda: current_app.config[name]


def connect_visitor_cookie(app: Flask) -> None:
    """A visitor's share-link clicks made before logging in become the account's on its next request."""

    @app.before_request
    def claim_clicks_after_log_in():
        anon = request.cookies.get(VISITOR_COOKIE)
        if anon and current_user.is_authenticated and request.endpoint != "static":
            attribution.claim_visitor_clicks(current_user.id, anon[:32])
            g.forget_visitor_cookie = True

    @app.after_request
    def forget_claimed_cookie(response):
        if g.get("forget_visitor_cookie"):
            response.delete_cookie(VISITOR_COOKIE)
        return response


# --- share links ------------------------------------------------------------------------------------------

@bp.get("/s/<code>")
@limiter.limit(_limit("SHARE_CLICK_RATE_LIMIT"), key_func=account_key)
def follow(code: str):
    """A share link: count the click, remember it for the visitor, and show what was shared."""
    link = attribution.link_by_code(code)
    viewer_id = current_user.id if current_user.is_authenticated else None
    anon = None if viewer_id else (request.cookies.get(VISITOR_COOKIE) or attribution.new_visitor_id())[:32]
    attribution.record_click(link, visitor_id=viewer_id, anon_id=anon,
                             user_agent=request.headers.get("User-Agent", ""))
    if link.product_id:
        target = url_for("shop.product", product_id=link.product_id, **({"from": link.post_id} if link.post_id else {}))
    else:
        target = url_for("posts.detail", post_id=link.post_id)
    response = redirect(target)
    if anon and request.cookies.get(VISITOR_COOKIE) != anon:
        response.set_cookie(VISITOR_COOKIE, anon, max_age=VISITOR_COOKIE_DAYS * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


def _target_args() -> dict:
    note, product = request.values.get("note"), request.values.get("product")
    post_id = parse_id(note) if note else None
    product_id = parse_id(product) if product else None
    if (note and post_id is None) or (product and product_id is None) or (post_id is None and product_id is None):
        raise NotFound(_("Nothing to share here."))
    return {"post_id": post_id, "product_id": product_id}


@bp.route("/s/new", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("SHARE_LINK_RATE_LIMIT"), key_func=account_key, methods=["POST"])
def share_sheet():
    """The share sheet: your link to a note or product, a QR code and what you earn per sale."""
    target = _target_args()
    if request.method == "POST":
        link = attribution.share_link_for(current_user, **target)
        return redirect(url_for("affiliate.share_sheet", note=link.post_id, product=link.product_id))
    post = db.session.get(Post, target["post_id"]) if target["post_id"] else None
    product = db.session.get(Product, target["product_id"]) if target["product_id"] else None
    if (target["post_id"] and attribution._live_post(target["post_id"]) is None) or \
            (target["product_id"] and attribution._live_product(target["product_id"]) is None):
        raise NotFound(_("This cannot be shared: it was removed or is not for sale."))
    link = next((candidate for candidate in attribution.sharer_links(current_user)
                 if candidate.post_id == target["post_id"] and candidate.product_id == target["product_id"]), None)
    url = qr = None
    if link:
        url = external_url_for("affiliate.follow", code=link.code)
        qr = Markup(segno.make(url, error="m").svg_inline(scale=4, dark="#222", light="#fff",  # nosec B704 # -- segno's SVG of our own URL
                                                          title=_("QR code of your link")))
    estimate, rate = attribution.estimated_commission(attribution.product_for(**target))
    return render_template("affiliate/share.html", post=post, product=product, link=link, url=url, qr=qr,
                           estimate=estimate, rate=rate, target=target)


# --- earnings ---------------------------------------------------------------------------------------------

@bp.get("/me/earnings")
@login_required
def earnings():
    user = reports.earnings_of(current_user, request.args.get("user"))
    page = reports.ledger_page(user, request.args.get("cursor"))
    return render_template("affiliate/earnings.html", user=user, balances=ledger.balances(user.id), page=page,
                           series=reports.earnings_series(user),
                           per_note=[(title, url_for("posts.detail", post_id=post_id) if post_id else None, cents)
                                     for post_id, title, cents in reports.earnings_per_note(user)],
                           funnels=reports.link_funnels(user))


@bp.get("/me/earnings.csv")
@login_required
def earnings_csv():
    user = reports.earnings_of(current_user, request.args.get("user"))
    return Response(reports.ledger_csv(user), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=earnings-{user.username}.csv"})


# --- invites ----------------------------------------------------------------------------------------------

@bp.get("/invite/<code>")
def invite(code: str):
    inviter = reports.inviter_for_code(code)
    if current_user.is_authenticated:
        own = inviter.id == current_user.id
        return render_template("affiliate/invite.html", inviter=inviter, own=own)
    return redirect(url_for("accounts.register", invite=inviter.invite_code))


@bp.get("/me/invites")
@login_required
def invites():
    return render_template("affiliate/invites.html", invited=reports.invited_by(current_user),
                           invite_url=external_url_for("affiliate.invite", code=current_user.invite_code))


# --- the shop's dashboard ---------------------------------------------------------------------------------

@bp.get("/shop/<slug>/dashboard")
@login_required
def dashboard(slug: str):
    try:
        days = reports.parse_period(request.args.get("days"))
    except Invalid:
        days = 30
    board = reports.shop_dashboard(current_user, slug, days)
    return render_template("affiliate/dashboard.html", board=board, periods=reports.DASHBOARD_PERIODS,
                           panels=shop_hooks.dashboard_panels(board.shop, days))  # e.g. group-buy fill rates


# --- admin ------------------------------------------------------------------------------------------------

@bp.route("/admin/payouts", methods=["GET", "POST"])
@login_required
def payouts():
    ledger.refuse_unless_admin(current_user)
    minimum_text = request.values.get("minimum", "")
    minimum = parse_whole_number(minimum_text, max_digits=9) if minimum_text else ledger.payout_minimum()
    error = None
    if request.method == "POST":
        try:
            payout = ledger.run_payout(current_user, request.form.get("batch", ""),
                                       minimum if minimum is not None else -1)
        except Invalid as exc:
            error = exc.message
        else:
            flash(_("Payout %(batch)s: %(count)d people paid.", batch=payout.batch, count=payout.payees), "success")
            return redirect(url_for("affiliate.payouts"))
    try:
        payable = ledger.payable_balances(minimum if minimum is not None else -1)
    except Invalid as exc:
        payable, error = [], exc.message
    return render_template("affiliate/payouts.html", payable=payable, minimum=minimum or 0, error=error,
                           batch=secrets.token_hex(8), recent=ledger.recent_payouts()), 422 if error else 200


@bp.get("/admin/payouts/<id:payout_id>.csv")
@login_required
def payout_csv(payout_id: int):
    ledger.refuse_unless_admin(current_user)
    from app.affiliate.models import Payout

    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(_("No such payout."))
    return Response(ledger.payout_csv(payout), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=payout-{payout.batch}.csv"})


@bp.get("/admin/affiliate/abuse")
@login_required
def abuse():
    ledger.refuse_unless_admin(current_user)
    return render_template("affiliate/abuse.html", sharers=reports.refund_heavy_sharers(),
                           flags=reports.contact_flags())
