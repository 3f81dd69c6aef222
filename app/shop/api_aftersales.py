"""/api/v1 routes for after-sales (售后): the same services as the pages (app/shop/aftersales.py), so the rules
and their errors are the same. A blueprint of its own (registered next to the storefront's in app/api)."""
from __future__ import annotations

from app.core.api import PageArgsSchema, require_user
from app.core.api_input import ApiBlueprint
from app.core.pagination import Page
from app.core.uploads import upload_rate_limit
from app.shop import aftersales, catalog, orders
from app.shop.schemas import (
    AfterSaleArgsSchema,
    AfterSaleCreateSchema,
    AfterSaleDeclineSchema,
    AfterSaleDetailSchema,
    AfterSaleListSchema,
    AfterSaleNoteSchema,
    AfterSalePageSchema,
    AfterSalePhotosSchema,
    AfterSaleResolveSchema,
    ReturnTrackingSchema,
)

blp = ApiBlueprint("aftersales_api", __name__, description="After-sales (售后): refund and return requests, the "
                                                           "shop's answer, escalation to the site's team")


@blp.post("/orders/<id:order_id>/after-sales")
@blp.arguments(AfterSaleCreateSchema)
@blp.response(201, AfterSaleDetailSchema)
def request_after_sale(data: dict, order_id: int):
    """Ask for a refund or a return of some units of your paid order, within its return window (409
    `return-window-closed` after it). Add photos with POST /after-sales/{id}/photos. The shop has
    AFTERSALE_AUTO_APPROVE_HOURS to answer (`respond_by`); unanswered, the request is approved automatically."""
    return aftersales.request_after_sale(require_user(), order_id, kind=data["kind"],
                                         quantities=data["quantities"], reason=data["reason"], note=data["note"])


@blp.get("/orders/<id:order_id>/after-sales")
@blp.response(200, AfterSaleListSchema)
def list_order_after_sales(order_id: int):
    """The after-sales requests of an order (its buyer, its shop, administrators)."""
    return {"items": aftersales.after_sales_of_order(orders.order_for(require_user(), order_id))}


@blp.get("/after-sales")
@blp.arguments(AfterSaleArgsSchema, location="query")
@blp.response(200, AfterSalePageSchema)
def list_my_after_sales(args: dict) -> Page:
    """Your after-sales requests, newest first (cursor-paginated)."""
    return aftersales.buyer_after_sales_page(require_user(), status=args.get("status"), cursor=args.get("cursor"),
                                             limit=args.get("limit"))


@blp.get("/shops/<slug>/after-sales")
@blp.arguments(AfterSaleArgsSchema, location="query")
@blp.response(200, AfterSalePageSchema)
def list_shop_after_sales(args: dict, slug: str) -> Page:
    """Your shop's after-sales requests, newest first; `status=requested` is the list to answer."""
    user = require_user()
    return aftersales.shop_after_sales_page(user, catalog.get_shop(slug, user).id, status=args.get("status"),
                                            cursor=args.get("cursor"), limit=args.get("limit"))


@blp.get("/admin/after-sales")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AfterSalePageSchema)
def list_escalated_after_sales(args: dict) -> Page:
    """Requests escalated to the site's team and not decided yet (administrators)."""
    return aftersales.escalated_page(require_user(), cursor=args.get("cursor"), limit=args.get("limit"))


@blp.get("/after-sales/<id:after_sale_id>")
@blp.response(200, AfterSaleDetailSchema)
def get_after_sale(after_sale_id: int):
    """One request with its history (its buyer, its shop, administrators)."""
    return aftersales.after_sale_for(require_user(), after_sale_id)


@blp.post("/after-sales/<id:after_sale_id>/photos")
@upload_rate_limit
@blp.arguments(AfterSalePhotosSchema, location="files")
@blp.response(200, AfterSaleDetailSchema)
def add_after_sale_photos(files: dict, after_sale_id: int):
    """Add photos (multipart field `photos`, repeated; at most 3 in all) while the shop has not answered."""
    user = require_user()
    aftersales.add_after_sale_photos(user, after_sale_id, [upload.read() or b"" for upload in files["photos"]])
    return aftersales.after_sale_for(user, after_sale_id)


@blp.post("/after-sales/<id:after_sale_id>/approve")
@blp.arguments(AfterSaleNoteSchema)
@blp.response(200, AfterSaleDetailSchema)
def approve_after_sale(data: dict, after_sale_id: int):
    """Approve a request on your shop's order: a refund is sent at once, a return waits for the goods."""
    return aftersales.approve_after_sale(require_user(), after_sale_id, data["note"])


@blp.post("/after-sales/<id:after_sale_id>/decline")
@blp.arguments(AfterSaleDeclineSchema)
@blp.response(200, AfterSaleDetailSchema)
def decline_after_sale(data: dict, after_sale_id: int):
    """Decline a request (or a returned parcel) with a reason the buyer sees; they may escalate once."""
    return aftersales.decline_after_sale(require_user(), after_sale_id, data["reason"])


@blp.post("/after-sales/<id:after_sale_id>/return-tracking")
@blp.arguments(ReturnTrackingSchema)
@blp.response(200, AfterSaleDetailSchema)
def submit_return_tracking(data: dict, after_sale_id: int):
    """You sent the goods of an approved return back: the tracking number."""
    return aftersales.submit_return_tracking(require_user(), after_sale_id, data["tracking_number"])


@blp.post("/after-sales/<id:after_sale_id>/received")
@blp.response(200, AfterSaleDetailSchema)
def confirm_return_received(after_sale_id: int):
    """Your shop has the returned goods: the refund is sent."""
    return aftersales.confirm_return_received(require_user(), after_sale_id)


@blp.post("/after-sales/<id:after_sale_id>/escalate")
@blp.arguments(AfterSaleNoteSchema)
@blp.response(200, AfterSaleDetailSchema)
def escalate_after_sale(data: dict, after_sale_id: int):
    """Ask the site's team to decide a declined request — once (409 `already-escalated` after that)."""
    return aftersales.escalate_after_sale(require_user(), after_sale_id, data["note"])


@blp.post("/after-sales/<id:after_sale_id>/resolve")
@blp.arguments(AfterSaleResolveSchema)
@blp.response(200, AfterSaleDetailSchema)
def resolve_after_sale(data: dict, after_sale_id: int):
    """Decide an escalated request: `refund` or `close` (administrators)."""
    return aftersales.resolve_escalation(require_user(), after_sale_id, data["decision"], data["note"])


@blp.post("/after-sales/<id:after_sale_id>/cancel")
@blp.response(200, AfterSaleDetailSchema)
def cancel_after_sale(after_sale_id: int):
    """Withdraw your request while it waits for the shop or for your return parcel."""
    return aftersales.cancel_after_sale(require_user(), after_sale_id)
