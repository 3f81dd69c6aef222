"""Coupons: creation, validation with a reason for every refusal, and the redemption state machine.

A use is *reserved* when orders are placed (a conditional decrement of `uses_left`, and of the buyer's
own allowance when the coupon has a per-user limit), *consumed* when the checkout is paid, and *released*
— the use comes back, exactly once — when the checkout is cancelled or expires unpaid, or when every
order it paid for is refunded in full.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Forbidden, Invalid
from app.core.money import MINOR_UNITS, Money, format_money
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop.models import (
    REDEMPTION_TRANSITIONS,
    Coupon,
    CouponKind,
    CouponRedemption,
    CouponUserUse,
    RedemptionStatus,
    Shop,
    ShopStatus,
)
from app.shop.pricing import coupon_discount, split_proportionally

FIELD = "coupon_code"


def normalise_code(code: str | None) -> str:
    return "".join((code or "").split()).upper()


def _refuse(message: str) -> Invalid:
    return Invalid(message, {FIELD: [message]}, code="coupon-invalid")


def _money(cents: int, currency: str) -> str:
    return format_money(Money(cents, currency), locale=str(get_locale() or "en"))


def create_coupon(actor: User, *, code: str, kind: str, value: int, shop_id: int | None = None,
                  min_spend_cents: int = 0, starts_at: datetime | None = None, ends_at: datetime | None = None,
                  total_uses: int | None = None, per_user_limit: int | None = None,
                  currency: str = "CNY") -> Coupon:
    """A merchant makes a coupon for their own shop; an admin makes site-wide (or any shop's) coupons."""
    if shop_id is None:
        if not actor.is_admin:
            raise Forbidden(_("Only an administrator can create site-wide coupons."))
    else:
        shop = db.session.get(Shop, shop_id)
        if shop is None or shop.status != ShopStatus.APPROVED or (shop.owner_id != actor.id and not actor.is_admin):
            raise Forbidden(_("You can only create coupons for your own shop."), code="not-your-shop")
    errors: dict[str, list[str]] = {}
    code = normalise_code(code)
    if not code or len(code) > 40:
        errors.setdefault("code", []).append(_("Enter a code of up to 40 letters and digits."))
    if kind not in (CouponKind.PERCENT, CouponKind.FIXED):
        errors.setdefault("kind", []).append(_("Choose a percentage or a fixed amount."))
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0 or (
            kind == CouponKind.PERCENT and value > 100):
        errors.setdefault("value", []).append(_("Enter a positive amount (a percentage is at most 100)."))
    if not isinstance(min_spend_cents, int) or min_spend_cents < 0:
        errors.setdefault("min_spend_cents", []).append(_("The minimum spend cannot be negative."))
    if starts_at and ends_at and ends_at <= starts_at:
        errors.setdefault("ends_at", []).append(_("The end must come after the start."))
    for name, limit in (("total_uses", total_uses), ("per_user_limit", per_user_limit)):
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            errors.setdefault(name, []).append(_("Enter a positive number, or leave it empty for no limit."))
    if currency not in MINOR_UNITS:
        errors.setdefault("currency", []).append(_("This currency is not supported."))
    if errors:
        raise Invalid(_("Check the coupon's details."), errors)
    coupon = Coupon(code=code, kind=kind, value=value, shop_id=shop_id, min_spend_cents=min_spend_cents,
                    starts_at=starts_at, ends_at=ends_at, total_uses=total_uses, uses_left=total_uses,
                    per_user_limit=per_user_limit, currency=currency, created_by_id=actor.id)
    try:
        with unit_of_work():
            db.session.add(coupon)
    except IntegrityError:  # the unit rolled back first, so the message below can be translated
        message = _("A coupon with this code already exists.")
        raise Invalid(message, {"code": [message]}, code="coupon-code-taken") from None
    return coupon


@dataclass(frozen=True)
class CouponQuote:
    """What a coupon takes off each shop's order of a checkout."""

    coupon: Coupon
    discounts: dict[int, int]  # shop id → discount in minor units

    @property
    def total(self) -> int:
        return sum(self.discounts.values())


def quote_coupon(code: str, buyer_id: int, subtotals: dict[int, int], currency: str,
                 now: datetime | None = None) -> CouponQuote:
    """Check a code against a checkout (shop id → subtotal) and say what it takes off, or refuse with the
    reason: unknown, not yet valid, expired, another shop's, wrong currency, minimum not met, used up,
    per-user limit reached. A site-wide coupon is split across the shops in proportion to their subtotals."""
    now = now or clock_now()
    coupon = db.session.scalar(select(Coupon).where(Coupon.code == normalise_code(code)))
    if coupon is None:
        raise _refuse(_("There is no coupon with this code."))
    if coupon.starts_at is not None and now < coupon.starts_at:
        raise _refuse(_("This coupon is not valid yet."))
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise _refuse(_("This coupon has expired."))
    if coupon.shop_id is not None and coupon.shop_id not in subtotals:
        raise _refuse(_("This coupon is for another shop."))
    if coupon.currency != currency:
        raise _refuse(_("This coupon cannot be used with this currency."))
    eligible = {shop_id: cents for shop_id, cents in sorted(subtotals.items())
                if coupon.shop_id is None or shop_id == coupon.shop_id}
    base = sum(eligible.values())
    if base < coupon.min_spend_cents:
        raise _refuse(_("Spend at least %(amount)s to use this coupon.",
                        amount=_money(coupon.min_spend_cents, coupon.currency)))
    if coupon.uses_left is not None and coupon.uses_left <= 0:
        raise _refuse(_("This coupon has been used up."))
    if coupon.per_user_limit is not None:
        used = db.session.scalar(select(CouponUserUse.uses).where(
            CouponUserUse.coupon_id == coupon.id, CouponUserUse.user_id == buyer_id)) or 0
        if used >= coupon.per_user_limit:
            raise _refuse(_("You have already used this coupon as many times as allowed."))
    # Every order keeps at least one minor unit to pay, so every order goes through a real payment.
    total = min(coupon_discount(coupon.kind, coupon.value, base), base - len(eligible))
    parts = split_proportionally(total, [cents - 1 for cents in eligible.values()])
    return CouponQuote(coupon, dict(zip(eligible, parts, strict=True)))


def reserve_coupon(quote: CouponQuote, buyer_id: int, payment_id: int, order_id: int | None,
                   now: datetime) -> CouponRedemption:
    """Take one use for this checkout inside the caller's transaction; refuses when a racing checkout took
    the last use or the buyer's last allowance (conditional updates, row counts checked)."""
    coupon = quote.coupon
    taken = db.session.execute(
        update(Coupon).where(Coupon.id == coupon.id, (Coupon.uses_left.is_(None)) | (Coupon.uses_left > 0))
        .values(uses_left=Coupon.uses_left - 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise _refuse(_("This coupon has been used up."))
    if coupon.per_user_limit is not None:
        insert_if_absent(CouponUserUse, coupon_id=coupon.id, user_id=buyer_id, uses=0)
        allowed = db.session.execute(
            update(CouponUserUse).where(CouponUserUse.coupon_id == coupon.id, CouponUserUse.user_id == buyer_id,
                                        CouponUserUse.uses < coupon.per_user_limit)
            .values(uses=CouponUserUse.uses + 1).execution_options(synchronize_session=False))
        if allowed.rowcount != 1:
            raise _refuse(_("You have already used this coupon as many times as allowed."))
    redemption = CouponRedemption(coupon_id=coupon.id, user_id=buyer_id, payment_id=payment_id,
                                  order_id=order_id, discount_cents=quote.total, created_at=now, updated_at=now)
    db.session.add(redemption)
    db.session.flush()
    return redemption


def transition_redemption(redemption: CouponRedemption, to_status: RedemptionStatus, now: datetime,
                          strict: bool = True) -> bool:
    """Move a redemption along REDEMPTION_TRANSITIONS with a conditional update; True when this call did."""
    from_status = RedemptionStatus(redemption.status)
    if to_status not in REDEMPTION_TRANSITIONS[from_status]:
        if strict:
            raise Conflict(_("This coupon use cannot change any more."))
        return False
    result = db.session.execute(
        update(CouponRedemption).where(CouponRedemption.id == redemption.id,
                                       CouponRedemption.status == str(from_status))
        .values(status=str(to_status), updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if strict:
            raise Conflict(_("This coupon use changed in the meantime."))
        return False
    set_committed_value(redemption, "status", str(to_status))
    set_committed_value(redemption, "updated_at", now)
    return True


def _redemption_of(payment_id: int) -> CouponRedemption | None:
    return db.session.scalar(select(CouponRedemption).where(CouponRedemption.payment_id == payment_id)
                             .execution_options(populate_existing=True))


def consume_redemption(payment_id: int, now: datetime) -> None:
    """The checkout was paid: its reserved use is now spent."""
    redemption = _redemption_of(payment_id)
    if redemption is not None and redemption.status == RedemptionStatus.RESERVED:
        transition_redemption(redemption, RedemptionStatus.CONSUMED, now, strict=False)


def release_redemption(payment_id: int, now: datetime) -> bool:
    """Give the checkout's coupon use back (exactly once, whoever calls first); True when this call did."""
    redemption = _redemption_of(payment_id)
    if redemption is None or redemption.status == RedemptionStatus.RELEASED:
        return False
    if not transition_redemption(redemption, RedemptionStatus.RELEASED, now, strict=False):
        return False
    db.session.execute(update(Coupon).where(Coupon.id == redemption.coupon_id, Coupon.uses_left.is_not(None))
                       .values(uses_left=Coupon.uses_left + 1).execution_options(synchronize_session=False))
    db.session.execute(update(CouponUserUse).where(CouponUserUse.coupon_id == redemption.coupon_id,
                                                   CouponUserUse.user_id == redemption.user_id,
                                                   CouponUserUse.uses > 0)
                       .values(uses=CouponUserUse.uses - 1).execution_options(synchronize_session=False))
    return True


def coupons_of_shop(actor: User, shop_id: int) -> list[Coupon]:
    """A shop's coupons, newest first, for its owner (or an admin)."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or (shop.owner_id != actor.id and not actor.is_admin):
        raise Forbidden(_("Only the shop's owner can see its coupons."), code="not-your-shop")
    return list(db.session.scalars(select(Coupon).where(Coupon.shop_id == shop.id).order_by(Coupon.id.desc())))
