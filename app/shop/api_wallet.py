"""/api/v1 routes for coupons readers can claim (领券) and their wallet (app/shop/wallet.py)."""
from __future__ import annotations

from dataclasses import dataclass

from app.core.api import require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.shop import catalog, wallet
from app.shop.models import Coupon
from app.shop.schemas import ClaimableCouponListSchema, ClaimableCouponSchema, WalletSchema

blp = ApiBlueprint("wallet_api", __name__, description="Coupons readers can claim (领券) and their wallet")


@dataclass(frozen=True)
class _Claimable:
    coupon: Coupon
    claimed: bool


@blp.get("/shops/<slug>/claimable-coupons")
@blp.response(200, ClaimableCouponListSchema)
def list_claimable_coupons(slug: str):
    """The shop's published coupons (and site-wide ones) that can still be claimed, with whether you have it."""
    viewer = current_viewer()
    shop = catalog.get_shop(slug, viewer)
    return {"items": [_Claimable(coupon, claimed) for coupon, claimed in wallet.claimable_coupons(shop.id, viewer)]}


@blp.post("/coupons/<id:coupon_id>/claim")
@blp.response(201, ClaimableCouponSchema)
def claim_coupon(coupon_id: int):
    """Put a published coupon in your wallet: once per reader (409 `already-claimed`), never past its number
    of claims (409 `all-claimed`). Use it with `coupon_code` at checkout."""
    claim = wallet.claim_coupon(require_user(), coupon_id)
    return _Claimable(claim.coupon, True)


@blp.get("/me/coupons")
@blp.response(200, WalletSchema)
def my_coupons():
    """Your wallet: claimed coupons, newest first, with what each can still do."""
    return {"items": wallet.wallet(require_user())}
