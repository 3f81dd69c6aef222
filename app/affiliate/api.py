"""/api/v1 routes for sharing commissions: share links, attribution lookup, the ledger and balances, the
earnings series and link funnels, invites, the shop dashboard's series and the admin payout run. Routes
parse, call one service and dump; the rules live in attribution.py, ledger.py and reports.py."""
from __future__ import annotations

from app.affiliate import attribution, ledger, reports
from app.affiliate.schemas import (
    BalancesSchema,
    DashboardSchema,
    EntryPageSchema,
    FunnelListSchema,
    InvitesSchema,
    PageArgsSchema,
    PayableArgsSchema,
    PayableListSchema,
    PayoutRequestSchema,
    PayoutSchema,
    SeriesArgsSchema,
    SeriesSchema,
    ShareLinkCreateSchema,
    ShareLinkLookupSchema,
    ShareLinkSchema,
)
from app.core.api import require_user
from app.core.api_input import ApiBlueprint
from app.core.limits import account_key
from app.core.urls import external_url_for
from app.extensions import limiter

blp = ApiBlueprint("affiliate_api", __name__, description="Sharing commissions: share links, attribution, "
                                                          "earnings ledger, invites, shop dashboards, payouts")


def _share_link_limit():
    from flask import current_app

    return current_app.config["SHARE_LINK_RATE_LIMIT"]


@blp.post("/share-links")
@limiter.limit(_share_link_limit, key_func=account_key)
@blp.arguments(ShareLinkCreateSchema)
@blp.response(201, ShareLinkSchema)
def create_share_link(data: dict):
    """Your short link to a published note or an active product (the same one again if you already have it)."""
    return attribution.share_link_for(require_user(), post_id=data["post_id"], product_id=data["product_id"])


@blp.get("/share-links")
@blp.response(200, FunnelListSchema)
def list_share_links():
    """Your share links, each with its funnel: clicks → orders → paid orders → commission."""
    return {"items": reports.link_funnels(require_user())}


@blp.get("/share-links/<code>")
@blp.response(200, ShareLinkLookupSchema)
def look_up_share_link(code: str):
    """Who a share link credits and what it leads to (404 for an unknown, malformed or dead link)."""
    link = attribution.link_by_code(code)
    link.estimated_commission_cents, link.rate_bps = attribution.estimated_commission(
        attribution.product_for(link.post_id, link.product_id))
    return link


@blp.get("/me/earnings")
@blp.response(200, BalancesSchema)
def my_balances():
    """Your pending, available (negative when owed), owed, paid-out and reversed totals: sums of your ledger."""
    totals = ledger.balances(require_user().id)
    return {"pending_cents": totals.pending_cents, "available_cents": totals.available_cents,
            "owed_cents": totals.owed_cents, "payable_cents": totals.payable_cents, "paid_cents": totals.paid_cents,
            "reversed_cents": totals.reversed_cents, "currency": totals.currency}


@blp.get("/me/earnings/entries")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, EntryPageSchema)
def my_ledger(args: dict):
    """Your commission ledger, newest first (cursor-paginated)."""
    page = reports.ledger_page(require_user(), args.get("cursor"), args.get("limit"))
    return {"items": [_entry(row) for row in page.items], "next_cursor": page.next_cursor}


def _entry(row) -> dict:
    return {"entry": row.entry, "product_title": row.product_title, "post_id": row.post_id,
            "link_code": row.link_code,
            "available_on": row.available_on if row.entry.kind == "pending" else None}


@blp.get("/me/earnings/series")
@blp.arguments(SeriesArgsSchema, location="query")
@blp.response(200, SeriesSchema)
def my_series(args: dict):
    """Commission earned and reversed per day over the last 7, 30 or 90 days."""
    return reports.earnings_series(require_user(), args["days"])


@blp.get("/me/invites")
@blp.response(200, InvitesSchema)
def my_invites():
    """Your invite code and link, and whom you invited (invites earn nothing by themselves)."""
    user = require_user()
    return {"invite_code": user.invite_code,
            "invite_url": external_url_for("affiliate.invite", code=user.invite_code),
            "invited": reports.invited_by(user)}


@blp.get("/shops/<slug>/dashboard")
@blp.arguments(SeriesArgsSchema, location="query")
@blp.response(200, DashboardSchema)
def shop_dashboard(args: dict, slug: str):
    """The shop's sales per day (orders, revenue, units, refunds, commission), top products and the notes
    and creators that drove sales; its owner or an administrator only."""
    board = reports.shop_dashboard(require_user(), slug, args["days"])
    return {"days": board.days, "series": board.series, "totals": board.totals,
            "top_products": [row._asdict() for row in board.top_products],
            "notes": [row._asdict() for row in board.notes],
            "creators": [row._asdict() for row in board.creators]}


@blp.get("/admin/payouts/payable")
@blp.arguments(PayableArgsSchema, location="query")
@blp.response(200, PayableListSchema)
def payable(args: dict):
    """Who a payout run would pay now and how much (administrators)."""
    ledger.refuse_unless_admin(require_user())
    return {"items": [{"user_id": user.id, "username": user.username, "amount_cents": cents}
                      for user, cents in ledger.payable_balances(args["minimum_cents"])]}


@blp.post("/admin/payouts")
@blp.arguments(PayoutRequestSchema)
@blp.response(201, PayoutSchema)
def run_payout(data: dict):
    """Pay every available balance of at least the minimum (or the given users'), in one transaction.
    Sending the same batch again answers the first run and pays nothing more (administrators)."""
    return ledger.run_payout(require_user(), data["batch"], data["minimum_cents"], user_ids=data["user_ids"])
