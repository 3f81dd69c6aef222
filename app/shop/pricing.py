"""Pure pricing arithmetic on integer minor units: coupon discounts, splitting a discount, refund shares.

No database and no floats, so hypothesis can check the invariants: a split adds up to exactly what was
split, no share exceeds its base, and refunding every unit of a line returns exactly what was paid for it.
"""
from __future__ import annotations

from collections.abc import Sequence

from app.shop.models import CouponKind


def coupon_discount(kind: str, value: int, eligible_cents: int) -> int:
    """Money off `eligible_cents`: a whole percent rounded down, or a fixed amount; never above the base."""
    if eligible_cents <= 0:
        return 0
    if kind == CouponKind.PERCENT:
        return eligible_cents * value // 100
    return min(value, eligible_cents)


def split_proportionally(amount: int, bases: Sequence[int]) -> list[int]:
    """Split `amount` across `bases` in proportion (largest remainder): the parts add up to `amount`
    exactly and none exceeds its base when amount <= sum(bases). Ties go to the earlier base."""
    total = sum(bases)
    if amount < 0 or any(base < 0 for base in bases):
        raise ValueError("amounts are not negative")
    if total == 0:
        if amount:
            raise ValueError("nothing to split an amount across")
        return [0] * len(bases)
    if amount > total:
        raise ValueError("cannot split more than the bases hold")
    floors = [amount * base // total for base in bases]
    remainders = [amount * base % total for base in bases]
    short = amount - sum(floors)
    for index in sorted(range(len(bases)), key=lambda i: (-remainders[i], i))[:short]:
        floors[index] += 1
    return floors


def refund_for_units(net_cents: int, quantity: int, already_refunded: int, more: int) -> int:
    """What refunding `more` units of a line returns, given `already_refunded` units went back before.

    Unit shares are cumulative floors, so refunding every unit, in any batches, returns exactly `net_cents`.
    """
    if not 0 < more <= quantity - already_refunded:
        raise ValueError("refund quantity out of range")
    return net_cents * (already_refunded + more) // quantity - net_cents * already_refunded // quantity
