"""Group-buy pages: the group page /g/<id> (readable without an account), opening and joining (plain form
posts that go on to the payment page), leaving, "My group-buys", and the merchant's campaigns.

Views parse the form, call one service and redirect or render; a refusal comes back as a flash message on
the page the form was on (or the campaign form again with its errors, status 422).
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.auth import current_viewer
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Invalid, NotFound
from app.core.money import parse_amount
from app.core.parsing import parse_whole_number
from app.core.urls import external_url_for
from app.groupbuy import services
from app.groupbuy.forms import CampaignForm, JoinForm
from app.groupbuy.models import Campaign, CampaignStatus
from app.shop import cart, catalog
from app.shop.models import Product

bp = Blueprint("groupbuy", __name__)


def _int(value) -> int | None:
    return parse_whole_number(value, max_digits=9) if isinstance(value, str) else None


# --- the group page ---------------------------------------------------------------------------------------

@bp.get("/g/<id:group_id>")
def group_page(group_id: int):
    viewer = current_viewer()
    group = services.group_for(viewer, group_id)
    member = services.membership(viewer, group)
    members = services.shown_members(group)
    skus = {sku.id: sku for sku in group.product.skus if str(sku.id) in group.prices}
    addresses = cart.addresses_of(viewer) if viewer else []
    image = group.product.images[0].path if group.product.images else None
    return render_template("groupbuy/group.html", group=group, member=member, members=members, skus=skus,
                           addresses=addresses, now=clock_now(), form=JoinForm(),
                           share_url=external_url_for("groupbuy.group_page", group_id=group.id),
                           og_image=external_url_for("core.media", relative=image) if image else None)


def _pay_or_back(joined: services.Joined, back: str):
    if joined.redirect_url:
        return redirect(joined.redirect_url)
    flash(joined.checkout.refusal or _("This order can no longer be paid."), "error")
    return redirect(back)


@bp.post("/g/<id:group_id>/join")
@login_required
def join(group_id: int):
    back = url_for("groupbuy.group_page", group_id=group_id)
    try:
        joined = services.join_group(current_user, group_id, sku_id=_int(request.form.get("sku_id")),
                                     quantity=request.form.get("quantity", "1"),
                                     address_id=_int(request.form.get("address_id")),
                                     coupon_code=request.form.get("coupon_code") or None)
    except (Conflict, Invalid) as exc:
        flash(exc.summary, "error")
        return redirect(back)
    return _pay_or_back(joined, back)


@bp.post("/products/<id:product_id>/groups")
@login_required
def open_group(product_id: int):
    back = url_for("shop.product", product_id=product_id)
    campaign = services.live_campaign(product_id)
    if campaign is None:
        flash(_("This group-buy is not running now."), "error")
        return redirect(back)
    try:
        joined = services.open_group(current_user, campaign.id, sku_id=_int(request.form.get("sku_id")),
                                     quantity=request.form.get("quantity", "1"),
                                     address_id=_int(request.form.get("address_id")),
                                     coupon_code=request.form.get("coupon_code") or None)
    except (Conflict, Invalid) as exc:
        flash(exc.summary, "error")
        return redirect(back)
    return _pay_or_back(joined, back)


@bp.post("/g/<id:group_id>/leave")
@login_required
def leave(group_id: int):
    try:
        services.leave_group(current_user, group_id)
    except (Conflict, Invalid) as exc:
        flash(exc.summary, "error")
    else:
        flash(_("You left the group. Your payment is refunded in full."), "success")
    return redirect(url_for("groupbuy.group_page", group_id=group_id))


@bp.get("/me/groups")
@login_required
def my_groups():
    return render_template("groupbuy/my_groups.html", memberships=services.my_memberships(current_user),
                           now=clock_now())


# --- the merchant's campaigns -----------------------------------------------------------------------------

def _managed_shop(slug: str):
    shop = catalog.get_shop(slug, current_user)
    if not catalog.can_manage(current_user, shop):
        raise NotFound(_("No such shop."))
    return shop


@bp.get("/shop/<slug>/campaigns")
@login_required
def campaigns(slug: str):
    shop = _managed_shop(slug)
    items = services.shop_campaigns(current_user, shop.id)
    return render_template("groupbuy/campaigns.html", shop=shop, campaigns=items, now=clock_now(),
                           figures={c.id: services.campaign_figures(c) for c in items})


def _parse_when(value: str | None) -> datetime | None:
    try:
        return datetime.strptime((value or "").strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None


def _campaign_input(form, product: Product) -> services.CampaignInput:
    """The form's fields as plain values; what cannot even be read becomes a field error here, every rule
    is the service's."""
    errors: dict[str, list[str]] = {}
    prices = {}
    for sku in product.skus:
        raw = (request.form.get(f"price-{sku.id}") or "").strip()
        if raw:
            cents = parse_amount(raw, sku.currency)
            if cents is None:
                errors[f"prices.{sku.id}"] = [_("Enter a price like 59 or 59.90.")]
            else:
                prices[sku.id] = cents

    def number(field: str, default: int | None = None, required: bool = True) -> int | None:
        raw = (request.form.get(field) or "").strip()
        if not raw:
            if required and default is None:
                errors[field] = [_("Enter a whole number.")]
            return default
        value = parse_whole_number(raw, max_digits=7)
        if value is None:
            errors[field] = [_("Enter a whole number.")]
        return value

    starts, ends = _parse_when(request.form.get("starts_at")), _parse_when(request.form.get("ends_at"))
    if starts is None:
        errors["starts_at"] = [_("Enter a date and time.")]
    if ends is None:
        errors["ends_at"] = [_("Enter a date and time.")]
    data = services.CampaignInput(
        prices=prices, group_size=number("group_size"), window_hours=number("window_hours"),
        starts_at=starts, ends_at=ends, per_order_limit=number("per_order_limit", 1),
        per_user_limit=number("per_user_limit", 1), units_cap=number("units_cap", None, required=False),
        coupon_stacks=request.form.get("coupon_stacks") == "y")
    if errors:
        raise Invalid(_("Check the campaign's settings."), errors)
    return data


def _render_editor(shop, product, campaign, errors=None, status=200):
    now = clock_now()
    figures = services.campaign_figures(campaign) if campaign else None
    open_groups = services.campaign_open_groups(campaign) if campaign else []
    products = [] if product else list(catalog.shop_products(shop, current_user, None, 100).items)
    return render_template("groupbuy/campaign_form.html", shop=shop, product=product, campaign=campaign,
                           products=products, errors=errors or {}, form=CampaignForm(), now=now,
                           figures=figures, open_groups=open_groups, values=request.form), status


@bp.route("/shop/<slug>/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign(slug: str):
    shop = _managed_shop(slug)
    product_id = _int(request.values.get("product_id"))
    product = catalog.product_for(current_user, product_id) if product_id else None
    if product is not None and product.shop_id != shop.id:
        raise NotFound(_("No such product."))
    if request.method == "POST" and product is not None and request.form.get("save"):
        try:
            campaign = services.create_campaign(current_user, product.id, _campaign_input(CampaignForm(), product))
        except (Invalid, Conflict) as exc:
            flash(exc.message, "error")
            return _render_editor(shop, product, None, exc.errors, 422)
        flash(_("The group-buy is set up."), "success")
        return redirect(url_for("groupbuy.edit_campaign", slug=shop.slug, campaign_id=campaign.id))
    return _render_editor(shop, product, None)


@bp.route("/shop/<slug>/campaigns/<id:campaign_id>", methods=["GET", "POST"])
@login_required
def edit_campaign(slug: str, campaign_id: int):
    shop = _managed_shop(slug)
    campaign = _shop_campaign(shop, campaign_id)
    if request.method == "POST":
        try:
            services.update_campaign(current_user, campaign.id, _campaign_input(CampaignForm(), campaign.product))
        except (Invalid, Conflict) as exc:
            flash(exc.message, "error")
            return _render_editor(shop, campaign.product, campaign, exc.errors, 422)
        flash(_("Saved."), "success")
        return redirect(url_for("groupbuy.edit_campaign", slug=shop.slug, campaign_id=campaign.id))
    return _render_editor(shop, campaign.product, campaign)


@bp.post("/shop/<slug>/campaigns/<id:campaign_id>/end")
@login_required
def end_campaign(slug: str, campaign_id: int):
    shop = _managed_shop(slug)
    campaign = _shop_campaign(shop, campaign_id)
    try:
        services.end_campaign(current_user, campaign.id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(_("The campaign has ended; its open groups expired and their members are refunded."), "success")
    return redirect(url_for("groupbuy.edit_campaign", slug=shop.slug, campaign_id=campaign.id))


def _shop_campaign(shop, campaign_id: int) -> Campaign:
    campaign = services.managed_campaign(current_user, campaign_id)
    if campaign.shop_id != shop.id:
        raise NotFound(_("No such group-buy campaign."))
    return campaign


__all__ = ["bp", "CampaignStatus"]
