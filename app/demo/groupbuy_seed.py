"""Demo group-buys: live campaigns on the beauty shop's products with open groups (some one seat short),
filled groups, and expired groups whose members were refunded — all played through the group-buy services
and the sandbox provider at past moments, so every figure on the merchant's page is real."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import DomainError
from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import Campaign
from app.shop import cart, payments
from app.shop.models import Address, Payment, Product, ProductStatus, Shop, Sku
from app.social.models import Follow


def seed_groupbuys(named: dict[str, User], seed: int) -> dict[str, int]:
    """Three live campaigns and about twenty groups in every state; does nothing when a campaign exists."""
    if db.session.scalar(select(func.count(Campaign.id))):
        return {}
    merchant = named.get("merchant")
    shop = merchant and db.session.scalar(select(Shop).where(Shop.owner_id == merchant.id))
    if shop is None:
        return {}
    rng = random.Random(seed * 11 + 3)
    now = clock_now()
    products = [p for p in db.session.scalars(select(Product).where(Product.shop_id == shop.id,
                                                                   Product.status == ProductStatus.ACTIVE)
                                              .order_by(Product.id))
                if any(sku.is_active and sku.stock >= 30 for sku in p.skus)][:3]
    people = [u for u in db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.id).limit(80))
              if u.username_key not in named]
    rng.shuffle(people)
    sandbox = payments.get_provider("sandbox")
    pool = iter(people)
    made = {"campaigns": 0, "groups": 0}

    def address_of(user: User) -> int:
        found = db.session.scalar(select(Address.id).where(Address.user_id == user.id, Address.deleted_at.is_(None)))
        if found:
            return found
        return cart.add_address(user, recipient_name=user.display_name or user.username, phone="13800138000",
                                line1=f"{rng.randint(1, 300)} 长乐路", region="上海市 Shanghai",
                                postal_code="200000").id

    def pay(payment_id: int, at: datetime) -> None:
        body, signature = sandbox.callback_for(db.session.get(Payment, payment_id))
        payments.handle_payment_callback(sandbox, body, signature, now=at)

    def group(campaign: Campaign, sku: Sku, leader: User, at: datetime, joiners: list[User]) -> int | None:
        try:
            opened = services.open_group(leader, campaign.id, sku_id=sku.id, address_id=address_of(leader), now=at)
            pay(opened.checkout.payment.id, at + timedelta(minutes=2))
            for step, joiner in enumerate(joiners, start=1):
                moment = at + timedelta(minutes=10 + 37 * step)
                joined = services.join_group(joiner, opened.group.id, sku_id=sku.id, address_id=address_of(joiner),
                                             now=moment)
                pay(joined.checkout.payment.id, moment + timedelta(minutes=1))
        except DomainError:
            return None  # out of stock or a limit: the demo simply has one group fewer
        made["groups"] += 1
        return opened.group.id

    reader = named.get("reader")
    try:
        _play(products, merchant, reader, now, rng, pool, group, made)
    except StopIteration:
        pass  # a small demo (--users) runs out of people: it simply has fewer groups
    # Everything opened before the last day has passed its deadline: expire and refund as the job would.
    made["expired"] = services.expire_overdue_groups(now)
    return made


def _play(products, merchant, reader, now, rng, pool, group, made) -> None:
    """The campaigns and their groups (`group` opens one and has the joiners join and pay)."""
    for index, product in enumerate(products):
        sku = next(s for s in product.skus if s.is_active and s.stock >= 30)
        size = (3, 2, 5)[index % 3]
        campaign = services.create_campaign(merchant, product.id, services.CampaignInput(
            prices={s.id: max(1, s.price_cents * 78 // 100 // 10 * 10) for s in product.skus if s.is_active},
            group_size=size, window_hours=24, starts_at=now - timedelta(days=6), ends_at=now + timedelta(days=21),
            per_order_limit=2, per_user_limit=4), now=now - timedelta(days=6))
        made["campaigns"] += 1
        # Expired groups (opened five days ago, never filled): the expiry job refunded their members.
        for _ in range(2):
            group(campaign, sku, next(pool), now - timedelta(days=5, hours=rng.randint(0, 20)),
                  [next(pool) for _ in range(size - 2)] if size > 2 else [])
        # Filled groups, from the last few days.
        for _ in range(2):
            group(campaign, sku, next(pool), now - timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 12)),
                  [next(pool) for _ in range(size - 1)])
        # Open groups: one seat short, and just started.
        group(campaign, sku, next(pool), now - timedelta(hours=rng.randint(2, 8)),
              [next(pool) for _ in range(size - 2)])
        group(campaign, sku, next(pool), now - timedelta(hours=rng.randint(1, 3)), [])
        if index == 0 and reader is not None:
            # The reader: one expired group (with the refund to see) and one open group they lead.
            expired_leader = next(pool)
            group(campaign, sku, expired_leader, now - timedelta(days=3), [reader] if size > 2 else [])
            if size == 2:
                group(campaign, sku, reader, now - timedelta(days=3), [])
            group(campaign, sku, reader, now - timedelta(hours=5), [])
            # The people the reader follows open groups too (they come first on the product page).
            followee = db.session.scalar(select(User).join(Follow, Follow.followee_id == User.id)
                                         .where(Follow.follower_id == reader.id).order_by(User.id).limit(1))
            if followee is not None:
                group(campaign, sku, followee, now - timedelta(hours=3), [next(pool) for _ in range(size - 2)])
