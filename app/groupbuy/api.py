"""/api/v1 routes for group-buys: merchants' campaigns, opening, joining and leaving groups, the reader's groups.

Routes parse, call one service (app/groupbuy/services.py, the same as the pages) and dump. Opening and joining
are checkouts: they answer the checkout to pay (`checkout.redirect_url`) and honour the checkout's
Idempotency-Key header — a retry with the same key and body answers the first join (200) instead of joining
again; the same key for another group or body is refused (422).
"""
from __future__ import annotations

from flask import request

from app.core.api import require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.limits import account_key, address_key
from app.extensions import limiter
from app.groupbuy import services
from app.groupbuy.schemas import (
    CampaignCreateSchema,
    CampaignDetailSchema,
    CampaignInputSchema,
    CampaignListSchema,
    GroupDetailSchema,
    JoinedSchema,
    JoinRequestSchema,
    MyGroupListSchema,
)
from app.shop import catalog
from app.shop.limits import checkout_ip_rate_limit, checkout_rate_limit

blp = ApiBlueprint("groupbuy_api", __name__, description="Group-buys (拼团): campaigns, groups, joining and leaving")

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 100},
    "description": "1–100 printable ASCII characters (the checkout's key). A retry with the same key and body "
                   "answers the first request again (200) instead of placing a second order; the same key "
                   "with another body or group is refused (422).",
}


def _input(data: dict) -> services.CampaignInput:
    return services.CampaignInput(
        prices={price["sku_id"]: price["group_price_cents"] for price in data["prices"]},
        group_size=data["group_size"], window_hours=data["window_hours"], starts_at=data["starts_at"],
        ends_at=data["ends_at"], per_order_limit=data["per_order_limit"], per_user_limit=data["per_user_limit"],
        units_cap=data["units_cap"], coupon_stacks=data["coupon_stacks"])


def _detail(campaign, merchant=None):
    viewer = merchant or current_viewer()
    manages = viewer is not None and catalog.can_manage(viewer, campaign.shop)
    campaign.figures = services.campaign_figures(campaign) if manages else None
    if campaign.figures is not None:
        campaign.figures = {**campaign.figures.__dict__, "fill_rate": campaign.figures.fill_rate}
    return campaign


# --- campaigns --------------------------------------------------------------------------------------------

@blp.get("/shops/<slug>/campaigns")
@blp.response(200, CampaignListSchema)
def list_campaigns(slug: str):
    """Your shop's group-buy campaigns, newest first, with their figures (the shop's owner)."""
    user = require_user()
    shop = catalog.get_shop(slug, user)
    return {"items": [_detail(c, user) for c in services.shop_campaigns(user, shop.id)]}


@blp.post("/groupbuy/campaigns")
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignDetailSchema)
def create_campaign(data: dict):
    """Start a group-buy on one of your products: a group price per option (below its price), a group size
    (2–50), hours to fill (1–72), start and end, limits per order and per person, an optional unit cap."""
    user = require_user()
    return _detail(services.create_campaign(user, data["product_id"], _input(data)), user)


@blp.get("/groupbuy/campaigns/<id:campaign_id>")
@blp.response(200, CampaignDetailSchema)
def get_campaign(campaign_id: int):
    """A campaign; its figures only for the shop's owner."""
    campaign = services.get_campaign(current_viewer(), campaign_id)
    return _detail(campaign)


@blp.put("/groupbuy/campaigns/<id:campaign_id>")
@blp.arguments(CampaignInputSchema)
@blp.response(200, CampaignDetailSchema)
def update_campaign(data: dict, campaign_id: int):
    """Change a campaign's settings (open groups keep theirs; lowering the size or raising a price while
    groups are open is refused, 409 `open-groups`)."""
    user = require_user()
    return _detail(services.update_campaign(user, campaign_id, _input(data)), user)


@blp.post("/groupbuy/campaigns/<id:campaign_id>/end")
@blp.response(200, CampaignDetailSchema)
def end_campaign(campaign_id: int):
    """End a campaign now: its open groups expire and every paid member is refunded."""
    user = require_user()
    return _detail(services.end_campaign(user, campaign_id), user)


# --- groups -----------------------------------------------------------------------------------------------

@blp.post("/groupbuy/campaigns/<id:campaign_id>/groups")
@limiter.shared_limit(checkout_rate_limit, scope="checkout", key_func=account_key)
@limiter.shared_limit(checkout_ip_rate_limit, scope="checkout-ip", key_func=address_key)
@blp.arguments(JoinRequestSchema)
@blp.response(201, JoinedSchema, description="The group is opened (pending until you pay).")
@blp.alt_response(200, schema=JoinedSchema, description="A retry with the same Idempotency-Key and body.")
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
def open_group(data: dict, campaign_id: int):
    """Open a group: your order at the group price; the group becomes visible, and its window starts, when
    you pay (`checkout.redirect_url`)."""
    joined = services.open_group(require_user(), campaign_id, sku_id=data["sku_id"], quantity=data["quantity"],
                                 address_id=data["address_id"], coupon_code=data["coupon_code"],
                                 idempotency_key=request.headers.get("Idempotency-Key"))
    return (joined, 200) if joined.checkout.replayed else joined


@blp.get("/groupbuy/groups/<id:group_id>")
@blp.response(200, GroupDetailSchema)
def get_group(group_id: int):
    """A group (readable without an account): state, seats, deadline and the members who paid."""
    return _group_detail(group_id)


def _group_detail(group_id: int):
    group = services.group_for(current_viewer(), group_id)
    group.members_shown = services.shown_members(group)
    return group


@blp.post("/groupbuy/groups/<id:group_id>/join")
@limiter.shared_limit(checkout_rate_limit, scope="checkout", key_func=account_key)
@limiter.shared_limit(checkout_ip_rate_limit, scope="checkout-ip", key_func=address_key)
@blp.arguments(JoinRequestSchema)
@blp.response(201, JoinedSchema, description="You hold a seat until `checkout.orders[0].reserved_until`.")
@blp.alt_response(200, schema=JoinedSchema, description="A retry with the same Idempotency-Key and body.")
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
def join_group(data: dict, group_id: int):
    """Join an open group: a seat is yours while your order awaits payment; pay at `checkout.redirect_url`.
    Refusals: 409 `group-full`, `group-closed`, `group-pending`, `already-member`; 422 `per-user-limit`,
    `per-order-limit`, `coupon-not-allowed`."""
    joined = services.join_group(require_user(), group_id, sku_id=data["sku_id"], quantity=data["quantity"],
                                 address_id=data["address_id"], coupon_code=data["coupon_code"],
                                 idempotency_key=request.headers.get("Idempotency-Key"))
    return (joined, 200) if joined.checkout.replayed else joined


@blp.post("/groupbuy/groups/<id:group_id>/leave")
@blp.response(200, GroupDetailSchema)
def leave_group(group_id: int):
    """Leave a group before it fills: an unpaid order is cancelled, a paid one refunded; the seat reopens."""
    user = require_user()
    services.leave_group(user, group_id)
    return _group_detail(group_id)


@blp.get("/me/groups")
@blp.response(200, MyGroupListSchema)
def my_groups():
    """Your group-buys, newest first: each group, your part in it and your order."""
    return {"items": services.my_memberships(require_user())}
