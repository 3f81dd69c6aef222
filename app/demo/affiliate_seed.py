"""Demo sharing commissions: the demo creator shares notes and products from the merchant's beauty shop, and
readers buy through those links at plausible past times, played through the real services (clicks, checkout,
sandbox payments, shipping, refunds, the availability job and an admin payout), so the creator's earnings
show every state: pending, available, reversed, paid out, and one owed after a late refund.

The storefront seed already credits note authors for purchases from note cards (the checkout's attribution);
this adds share-link purchases, then runs the availability job as of now.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select

from app.accounts.models import User
from app.affiliate import attribution, ledger
from app.affiliate.models import CommissionEntry, ShareLink
from app.core.clock import now as clock_now
from app.core.errors import DomainError
from app.core.uow import unit_of_work
from app.extensions import db
from app.posts.models import STATUS_PUBLISHED, Post
from app.shop import cart, checkout, orders, payments, refunds
from app.shop.models import Address, OrderLine, Payment, PostProduct, Product, ProductStatus, Shop, Sku

# (what happens, days ago the click and purchase happened, units)
STORIES = [
    ("paid_out_then_refunded", 50, 2),  # completed, available, paid out — then a goodwill refund: owed
    ("paid_out", 48, 1),
    ("paid_out", 47, 2),
    ("available", 30, 1),
    ("available", 24, 2),
    ("reversed", 12, 1),
    ("partly_reversed", 9, 2),
    ("pending_completed", 4, 1),
    ("pending_shipped", 3, 1),
    ("pending", 1, 2),
    ("pending", 0.3, 1),
]


def seed_affiliate(named: dict[str, User], seed: int) -> dict[str, int]:
    """Share links and their sales for the demo creator; does nothing once the creator has a share link."""
    creator, merchant, admin = named.get("creator"), named.get("merchant"), named.get("admin")
    if creator is None or merchant is None or admin is None:
        return {}
    if db.session.scalar(select(func.count(ShareLink.id)).where(ShareLink.sharer_id == creator.id)):
        return {}
    shop = db.session.scalar(select(Shop).where(Shop.owner_id == merchant.id))
    products = list(db.session.scalars(select(Product).where(Product.shop_id == shop.id,
                                                             Product.status == ProductStatus.ACTIVE,
                                                             Product.commission_bps > 0)
                                       .order_by(Product.id).limit(3))) if shop else []
    if not products:
        return {}
    rng = random.Random(seed * 13 + 5)
    now = clock_now()
    note = _creator_note(creator, products, now)
    links = [attribution.share_link_for(creator, post_id=note.id, now=now - timedelta(days=60)),
             attribution.share_link_for(creator, product_id=products[-1].id, post_id=note.id,
                                        now=now - timedelta(days=60))]
    buyers = [u for u in db.session.scalars(select(User).where(User.is_demo.is_(True), User.id.not_in(
        [creator.id, merchant.id, admin.id])).order_by(User.id).limit(60))]
    rng.shuffle(buyers)
    buyers = [named["reader"], *buyers] if named.get("reader") else buyers
    sandbox = payments.get_provider("sandbox")
    made = 0
    paid_out_at = now - timedelta(days=37)
    late_refunds = []
    for index, (story, days_ago, units) in enumerate(STORIES):
        buyer = buyers[index % len(buyers)]
        link = links[index % len(links)]
        product = products[-1] if link.product_id else products[index % len(products)]
        at = now - timedelta(days=days_ago)
        placed = _buy_through(link, buyer, product, units, at, sandbox)
        if placed is None:
            continue
        made += 1
        order_id = placed
        if story in ("reversed",):
            refunds.refund_order(merchant, order_id, None, "customer changed their mind",
                                 now=at + timedelta(hours=5))
            continue
        if story == "partly_reversed":
            line_id = db.session.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id))
            refunds.refund_order(merchant, order_id, {line_id: 1}, "one unit out of stock", now=at + timedelta(hours=6))
            continue  # the rest stays pending (partly refunded, not shipped yet)
        if story == "pending":
            continue
        orders.ship_order(merchant, order_id, f"SF{rng.randint(10**11, 10**12 - 1)}", now=at + timedelta(hours=8))
        if story == "pending_shipped":
            continue
        orders.confirm_delivery(buyer, order_id, now=at + timedelta(days=2))
        if story == "paid_out_then_refunded":
            late_refunds.append((order_id, at + timedelta(days=30)))
    # The availability job as it ran before the payout, then the admin's payout run of last month.
    ledger.release_available_commissions(paid_out_at - timedelta(hours=1))
    try:
        ledger.run_payout(admin, f"demo-{paid_out_at:%Y-%m}", ledger.payout_minimum(), now=paid_out_at)
    except DomainError:
        pass
    # A goodwill refund the shop granted after the return window (the window is widened for that one refund):
    # the commission was already paid out, so the creator now owes it back.
    window = current_app.config.get("ORDER_RETURN_WINDOW_DAYS", 7)
    current_app.config["ORDER_RETURN_WINDOW_DAYS"] = 90
    try:
        for order_id, when in late_refunds:
            line_id = db.session.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id))
            refunds.refund_order(merchant, order_id, {line_id: 1}, "goodwill refund after the window", now=when)
    finally:
        current_app.config["ORDER_RETURN_WINDOW_DAYS"] = window
    released = ledger.release_available_commissions(now)
    return {"share links": len(links), "share-link orders": made, "commissions released": released,
            "ledger rows": db.session.scalar(select(func.count(CommissionEntry.id)))}


def _creator_note(creator: User, products: list[Product], now: datetime) -> Post:
    """The creator's newest published note, tagging the shop's products it shares (tags added if missing)."""
    note = db.session.scalar(select(Post).where(Post.author_id == creator.id, Post.status == STATUS_PUBLISHED)
                             .order_by(Post.id.desc()).limit(1))
    tagged = set(db.session.scalars(select(PostProduct.product_id).where(PostProduct.post_id == note.id)))
    position = len(tagged)
    rows = []
    for product in products:
        if product.id not in tagged and position < 6:
            rows.append({"post_id": note.id, "product_id": product.id, "position": position, "is_rated": False})
            position += 1
    if rows:
        with unit_of_work():
            db.session.execute(insert(PostProduct), rows)
    return note


def _buy_through(link: ShareLink, buyer: User, product: Product, units: int, at: datetime, sandbox) -> int | None:
    """A click on the link, then a paid checkout of the product minutes later; the order id (None if refused)."""
    attribution.record_click(link, visitor_id=buyer.id, anon_id=None, user_agent="Mozilla/5.0 (demo)",
                             now=at - timedelta(minutes=20))
    sku = db.session.scalar(select(Sku).where(Sku.product_id == product.id, Sku.is_active.is_(True),
                                              Sku.stock >= units).order_by(Sku.id).limit(1))
    if sku is None:
        return None
    address_id = db.session.scalar(select(Address.id).where(Address.user_id == buyer.id,
                                                            Address.deleted_at.is_(None)).limit(1))
    if address_id is None:
        address_id = cart.add_address(buyer, recipient_name=buyer.name[:60], phone=f"137{buyer.id:08d}",
                                      line1="8 Demo Street", region="Shanghai", postal_code="200000").id
    try:
        placed = checkout.place_orders(buyer, [{"sku_id": sku.id, "quantity": units}], address_id, None, now=at)
    except DomainError:
        return None
    payment = db.session.get(Payment, placed.payment.id)
    body, signature = sandbox.callback_for(payment, "succeeded")
    payments.handle_payment_callback(sandbox, body, signature, now=at + timedelta(minutes=1))  # inside any reservation
    return placed.orders[0].id
