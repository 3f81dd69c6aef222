"""Coupons readers can find (领券): a shop publishes a coupon as claimable, readers claim it into their wallet
(/me/coupons), and the checkout offers the best one from the wallet that applies to the cart.

A reader claims a coupon once: the claim row's primary key (coupon, reader) is inserted with ON CONFLICT DO
NOTHING, so two claims at once make one row. A coupon with a limited number of claims (`claims_left`) gives
them out through a conditional decrement in the same transaction: when the last one is gone the claim rolls
back. Claiming does not spend a use; the coupon is used (and its per-user limit counted) at checkout.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop.aftersale_models import CouponClaim
from app.shop.models import Coupon, CouponUserUse, Shop, ShopStatus

WALLET_SIZE = 50  # the newest claims shown and tried at checkout


def _live(now: datetime):
    """Coupons a reader could still claim now: published, started or not, not ended, claims left."""
    return (Coupon.claimable.is_(True), or_(Coupon.ends_at.is_(None), Coupon.ends_at > now),
            or_(Coupon.claims_left.is_(None), Coupon.claims_left > 0))


def publish_coupon(actor: User, coupon_id: int, claimable: bool = True) -> Coupon:
    """The shop shows (or stops showing) one of its coupons for readers to claim; the number of claims is
    its total uses (or unlimited)."""
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound(_("No such coupon."))
    shop = db.session.get(Shop, coupon.shop_id) if coupon.shop_id else None
    if not actor.is_admin and (shop is None or shop.owner_id != actor.id):
        raise Forbidden(_("You can only publish your own shop's coupons."), code="not-your-shop")
    with unit_of_work():
        values = {"claimable": bool(claimable)}
        if claimable and not coupon.claimable:
            values["claims_left"] = coupon.total_uses
        db.session.execute(update(Coupon).where(Coupon.id == coupon.id).values(**values)
                           .execution_options(synchronize_session=False))
    db.session.refresh(coupon)
    return coupon


def claim_coupon(user: User, coupon_id: int, now: datetime | None = None) -> CouponClaim:
    """Put a published coupon in the reader's wallet: once per reader, never past its number of claims."""
    now = now or clock_now()
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or not coupon.claimable:
        raise NotFound(_("No such coupon."))
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise Conflict(_("This coupon has expired."), code="coupon-expired")
    if coupon.shop_id is not None:
        status = db.session.scalar(select(Shop.status).where(Shop.id == coupon.shop_id))
        if status != ShopStatus.APPROVED:
            raise NotFound(_("No such coupon."))
    with unit_of_work():
        if not insert_if_absent(CouponClaim, coupon_id=coupon.id, user_id=user.id, claimed_at=now):
            raise Conflict(_("You already have this coupon in your wallet."), code="already-claimed")
        taken = db.session.execute(
            update(Coupon).where(Coupon.id == coupon.id, Coupon.claimable.is_(True),
                                 or_(Coupon.claims_left.is_(None), Coupon.claims_left > 0))
            .values(claims_left=Coupon.claims_left - 1).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            raise Conflict(_("All of these coupons have been claimed."), code="all-claimed")
    return db.session.get(CouponClaim, (coupon.id, user.id))


def claimable_coupons(shop_id: int | None, viewer: User | None, now: datetime | None = None,
                      limit: int = 6) -> list[tuple[Coupon, bool]]:
    """A shop's published coupons that can still be claimed, with whether the viewer has it already;
    site-wide ones too (shop_id None lists only those). Best value first."""
    now = now or clock_now()
    query = select(Coupon).where(*_live(now))
    query = query.where(or_(Coupon.shop_id.is_(None), Coupon.shop_id == shop_id)) if shop_id else \
        query.where(Coupon.shop_id.is_(None))
    found = list(db.session.scalars(query.order_by(Coupon.kind, Coupon.value.desc(), Coupon.id).limit(limit)))
    claimed = set()
    if viewer is not None and getattr(viewer, "is_authenticated", False) and found:
        claimed = set(db.session.scalars(select(CouponClaim.coupon_id).where(
            CouponClaim.user_id == viewer.id, CouponClaim.coupon_id.in_([c.id for c in found]))))
    return [(coupon, coupon.id in claimed) for coupon in found]


@dataclass(frozen=True)
class WalletEntry:
    coupon: Coupon
    claimed_at: datetime
    state: str  # usable, used (the reader's uses are spent), expired, not_started


def wallet(user: User, now: datetime | None = None) -> list[WalletEntry]:
    """The reader's claimed coupons, newest first, with what can still be done with each."""
    now = now or clock_now()
    rows = db.session.execute(
        select(Coupon, CouponClaim.claimed_at, CouponUserUse.uses)
        .join(CouponClaim, CouponClaim.coupon_id == Coupon.id)
        .outerjoin(CouponUserUse, (CouponUserUse.coupon_id == Coupon.id) & (CouponUserUse.user_id == user.id))
        .where(CouponClaim.user_id == user.id).order_by(CouponClaim.claimed_at.desc()).limit(WALLET_SIZE)).all()
    entries = []
    for coupon, claimed_at, uses in rows:
        if coupon.ends_at is not None and now >= coupon.ends_at:
            state = "expired"
        elif coupon.per_user_limit is not None and (uses or 0) >= coupon.per_user_limit:
            state = "used"
        elif coupon.uses_left is not None and coupon.uses_left <= 0:
            state = "used"
        elif coupon.starts_at is not None and now < coupon.starts_at:
            state = "not_started"
        else:
            state = "usable"
        entries.append(WalletEntry(coupon, claimed_at, state))
    return entries


def best_wallet_coupon(user: User, quote_with, now: datetime | None = None) -> tuple[str, int] | None:
    """The wallet coupon that takes the most off this checkout: (code, discount), or None. `quote_with(code)`
    prices the checkout with a code and returns its discount, raising (or returning 0) when it does not apply."""
    best: tuple[str, int] | None = None
    for entry in wallet(user, now):
        if entry.state != "usable":
            continue
        discount = quote_with(entry.coupon.code)
        if discount and (best is None or discount > best[1]):
            best = (entry.coupon.code, discount)
    return best
