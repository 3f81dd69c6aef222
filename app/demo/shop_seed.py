"""Demo storefront: approved shops with bilingual products and generated pictures, product tags on notes,
coupons and a few hundred past orders in every state.

Shops, coupons and every order move through the services (apply → approve, place_orders, the sandbox
provider's signed callbacks, ship, confirm, refund, cancel, expire) with a simulated clock, so stock, coupon
uses, payments and refunds obey the same invariants as real use. The catalog and the product tags have no
cross-row invariants beyond what is checked here, so they are written in bulk.
"""
from __future__ import annotations

import io
import os
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, select

from app.accounts.models import User
from app.communities.models import Community, Membership
from app.core import images
from app.core.clock import now as clock_now
from app.core.errors import DomainError
from app.core.uow import transactional, unit_of_work
from app.demo import progress
from app.demo.avatars import make_avatar
from app.demo.covers import make_product_image
from app.demo.shop_content import APPLICATION, SHOPS, TRACKING_PREFIXES, plan_products
from app.extensions import db
from app.posts.models import KIND_REVIEW, STATUS_PUBLISHED, Post
from app.shop import catalog, checkout, coupons, orders, payments, refunds
from app.shop.models import (
    Address,
    Order,
    OrderLine,
    Payment,
    PostProduct,
    Product,
    ProductImage,
    ProductStatus,
    Shop,
    Sku,
)
from app.shop.tags import MAX_PRODUCTS

IMAGE_SIZE = (512, 512)
NOTE_TAG_SHARE = 0.32  # notes (not reviews) that tag products; every review tags the product it rates
PIN_SHARE = 0.4
BUYERS = 120
# The share of checkouts that end in each state (a checkout across two shops makes two orders).
SCENARIOS = {"completed": 90, "declined_then_completed": 8, "shipped": 40, "paid": 35, "refunded_unshipped": 12,
             "refunded_after_delivery": 12, "partially_refunded": 18, "cancelled": 22, "expired": 12, "paid_late": 2,
             "pending_payment": 12}
MULTI_SHOP_SHARE = 0.12
FROM_NOTE_SHARE = 0.45
IN_INTEREST_SHARE = 0.85  # purchases whose first product is in a community the buyer joined


@dataclass
class DemoProduct:
    id: int
    vertical: str
    shop_id: int
    noun_zh: str
    noun_en: str
    active: bool
    skus: list[int] = field(default_factory=list)


def _render_product_image(job: tuple[str, str, int, str, str]) -> None:
    """Worker: draw one product picture and write it as WebP."""
    label, vertical, seed, media_root, relative = job
    buffer = io.BytesIO()
    make_product_image(label, vertical, seed, IMAGE_SIZE).save(buffer, "WEBP", quality=80, method=2)
    target = Path(media_root) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())


@contextmanager
def _commits_without_waiting_for_the_disk() -> Iterator[None]:
    """The order simulation commits about a thousand times (every service call is its own transaction),
    and waiting for the disk on each would be most of its time. Demo data is not worth that: if the
    machine dies mid-seed, seed again. Connection-level settings, restored afterwards."""
    with unit_of_work():
        connection = db.session.connection()
        dialect, level = connection.dialect.name, None
        if dialect == "sqlite":
            level = int(connection.exec_driver_sql("PRAGMA synchronous").scalar())
            connection.exec_driver_sql("PRAGMA synchronous = OFF")
        elif dialect == "postgresql":
            connection.exec_driver_sql("SET synchronous_commit TO off")
    try:
        yield
    finally:
        db.session.rollback()  # whatever a failed step left half-done
        with unit_of_work():
            connection = db.session.connection()
            if dialect == "sqlite":
                connection.exec_driver_sql(f"PRAGMA synchronous = {level}")
            elif dialect == "postgresql":
                connection.exec_driver_sql("RESET synchronous_commit")


def seed_storefront(named: dict[str, User], seed: int, products: int = 200, checkouts: int = 260) -> dict[str, int]:
    """Shops, `products` active products, product tags, coupons and about `checkouts` checkouts (each
    scenario at least once); does nothing when a shop already exists."""
    if db.session.scalar(select(func.count(Shop.id))):
        return {}
    rng = random.Random(seed * 7 + 1)
    now = clock_now()
    communities = {c.vertical: c for c in db.session.scalars(select(Community))}
    people = [u for u in db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.id))
              if u.username_key not in named]
    step = progress.start("shops, catalog")
    shops = _open_shops(named, people, rng)
    catalog_ = _stock_catalog(shops, communities, rng, seed, products)
    tagged, tags_of_product = _tag_notes(catalog_, communities, rng)
    made_coupons = _make_coupons(named["admin"], shops, now)
    step.finish(len(catalog_))
    with _commits_without_waiting_for_the_disk():
        done = _simulate_orders(named, people, catalog_, tags_of_product, rng, now, checkouts)
    states = Counter(db.session.scalars(select(Order.status)))
    return {"shops": len(shops), "products": sum(p.active for p in catalog_),
            "skus": sum(len(p.skus) for p in catalog_), "tagged posts": tagged, "coupons": made_coupons,
            "checkouts": done, "orders": sum(states.values()),
            **{f"orders {state}": count for state, count in sorted(states.items())}}


@transactional
def _open_shops(named: dict[str, User], people: list[User], rng: random.Random) -> dict[str, Shop]:
    """One approved shop per vertical (the named merchant runs the beauty shop) and one application."""
    admin = named["admin"]
    owners = {"beauty": named["merchant"]}
    others = rng.sample(people, min(len(people), len(SHOPS)))
    for vertical in SHOPS:
        if vertical not in owners and others:
            owners[vertical] = others.pop()
    shops = {}
    for vertical, (slug, name, description, _prices) in SHOPS.items():
        if vertical not in owners:
            continue
        shop = catalog.apply_for_shop(owners[vertical], slug=slug, name=name, description=description)
        shops[vertical] = catalog.approve_shop(admin, shop.id)
    if others:
        slug, name, description = APPLICATION
        catalog.apply_for_shop(others.pop(), slug=slug, name=name, description=description)
    for shop in shops.values():
        initials = "".join(word[0] for word in shop.slug.split("-")[:2])
        shop.logo_path = images.store_webp(make_avatar(initials, random.Random(shop.slug)), "shops")
    return shops


@transactional
def _stock_catalog(shops: dict[str, Shop], communities: dict[str, Community], rng: random.Random,
                   seed: int, wanted: int) -> list[DemoProduct]:
    """`wanted` active products shared among the shops (plus a draft and an archived one each in a full
    catalog), 1–4 options each, with pictures drawn in parallel worker processes."""
    moment = clock_now()
    media_root = str(Path(current_app.config["MEDIA_ROOT"]))
    product_rows, meta, sku_plans, jobs = [], [], [], []
    extras = 2 if shops and wanted >= 5 * len(shops) else 0
    for number, (vertical, shop) in enumerate(shops.items()):
        active = wanted // len(shops) + (1 if number < wanted % len(shops) else 0)
        community = communities.get(vertical)
        for index, product in enumerate(plan_products(vertical, active + extras, rng)):
            status = ProductStatus.ACTIVE if index < active else (
                ProductStatus.DRAFT if index == active else ProductStatus.ARCHIVED)
            product_rows.append({"shop_id": shop.id, "title": product.title, "description": product.description,
                                 "community_id": community.id if community else None, "status": status,
                                 "commission_bps": rng.choice([0, 300, 500, 500, 800, 1000, 1500]),
                                 "created_at": moment - timedelta(days=rng.randint(70, 200))})
            meta.append((vertical, shop, product.noun_zh, product.noun_en, status == ProductStatus.ACTIVE))
            # Each kind's own options (sizes, shades, capacities) at prices that fit it.
            sku_plans.append([(label, price, 0 if rng.random() < 0.04 else rng.randint(30, 300))
                              for label, price in product.options])
    if not product_rows:
        return []
    db.session.execute(insert(Product), product_rows)
    product_ids = list(db.session.scalars(select(Product.id).order_by(Product.id)))
    products, sku_rows, image_rows = [], [], []
    for product_id, (vertical, shop, n_zh, n_en, active), plan in zip(product_ids, meta, sku_plans, strict=True):
        products.append(DemoProduct(product_id, vertical, shop.id, n_zh, n_en, active))
        for k, (label, price, stock) in enumerate(plan):
            sku_rows.append({"product_id": product_id, "shop_id": shop.id, "code": f"{shop.slug[:8].upper()}-"
                             f"{product_id:04d}-{k + 1}", "label": label, "price_cents": price, "currency": "CNY",
                             "stock": stock, "is_active": True})
        for position in range(1 if rng.random() < 0.7 else 2):
            stem = uuid.UUID(int=rng.getrandbits(128)).hex
            relative = f"products/{stem}.webp"
            jobs.append((n_en, vertical, seed * 10_000 + product_id * 10 + position, media_root, relative))
            image_rows.append({"product_id": product_id, "path": relative, "position": position})
    db.session.execute(insert(Sku), sku_rows)
    db.session.execute(insert(ProductImage), image_rows)
    by_product = {product.id: product for product in products}
    for sku_id, product_id in db.session.execute(select(Sku.id, Sku.product_id).order_by(Sku.id)):
        by_product[product_id].skus.append(sku_id)
    with progress.stage("product pictures", len(jobs)) as step, \
            ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for _done in pool.map(_render_product_image, jobs, chunksize=8):
            step.advance()
    return products


@transactional
def _tag_notes(products: list[DemoProduct], communities: dict[str, Community],
               rng: random.Random) -> tuple[int, dict[int, list[int]]]:
    """Every review tags (and rates) a product of its community's shop; about a third of the notes tag
    one to three. Products named in the title come first. Returns (posts tagged, product → post ids)."""
    vertical_of = {community.id: vertical for vertical, community in communities.items()}
    offer = defaultdict(list)
    for product in products:
        if product.active:
            offer[product.vertical].append(product)
    rows, tagged = [], 0
    tags_of_product: dict[int, list[int]] = defaultdict(list)
    posts = db.session.execute(select(Post.id, Post.kind, Post.title, Post.community_id)
                               .where(Post.status == STATUS_PUBLISHED).order_by(Post.id)).all()
    for post in posts:
        candidates = offer.get(vertical_of.get(post.community_id), [])
        review = post.kind == KIND_REVIEW
        if not candidates or (not review and rng.random() >= NOTE_TAG_SHARE):
            continue
        named_in_title = [p for p in candidates if p.noun_zh in post.title or p.noun_en.lower() in post.title.lower()]
        first = rng.choice(named_in_title or candidates)
        extra = rng.choice([0, 0, 1]) if review else rng.choice([0, 1, 1, 2])
        others = rng.sample([p for p in candidates if p is not first], min(extra, len(candidates) - 1))
        for position, product in enumerate([first, *others][:MAX_PRODUCTS]):
            pinned = rng.random() < PIN_SHARE
            rows.append({"post_id": post.id, "product_id": product.id, "position": position,
                         "pin_image": 0 if pinned else None,
                         "pin_x": round(rng.uniform(0.2, 0.8), 2) if pinned else None,
                         "pin_y": round(rng.uniform(0.2, 0.7), 2) if pinned else None,
                         "is_rated": review and position == 0})
            tags_of_product[product.id].append(post.id)
        tagged += 1
    if rows:
        db.session.execute(insert(PostProduct), rows)
    return tagged, tags_of_product


def _make_coupons(admin: User, shops: dict[str, Shop], now: datetime) -> int:
    """Site-wide and per-shop coupons: current, expired, not yet valid, and nearly used up."""
    plans = [
        (None, {"code": "WELCOME10", "kind": "percent", "value": 10, "min_spend_cents": 10_000,
                "starts_at": now - timedelta(days=90), "per_user_limit": 1}),
        (None, {"code": "SPRING20", "kind": "fixed", "value": 2_000, "min_spend_cents": 19_900,
                "starts_at": now - timedelta(days=75), "ends_at": now - timedelta(days=45)}),
        (None, {"code": "DOUBLE11", "kind": "percent", "value": 30, "min_spend_cents": 30_000,
                "starts_at": now + timedelta(days=7), "ends_at": now + timedelta(days=14)}),
        ("beauty", {"code": "GLOW15", "kind": "percent", "value": 15, "min_spend_cents": 15_000,
                    "starts_at": now - timedelta(days=60)}),
        ("outdoor", {"code": "SUMMIT50", "kind": "fixed", "value": 5_000, "min_spend_cents": 50_000,
                     "starts_at": now - timedelta(days=60), "total_uses": 30, "per_user_limit": 2}),
        ("food", {"code": "SNACK5", "kind": "fixed", "value": 500, "min_spend_cents": 3_900,
                  "starts_at": now - timedelta(days=30), "ends_at": now + timedelta(days=30)}),
        ("digital", {"code": "BYTE100", "kind": "fixed", "value": 10_000, "min_spend_cents": 100_000,
                     "starts_at": now - timedelta(days=50), "total_uses": 5}),
    ]
    made = 0
    for vertical, values in plans:
        if vertical is not None and vertical not in shops:
            continue
        shop = shops.get(vertical)
        coupons.create_coupon(shop.owner if shop else admin, shop_id=shop.id if shop else None, **values)
        made += 1
    return made


@transactional
def _addresses(buyers: list[User], rng: random.Random) -> dict[int, int]:
    """One saved address per buyer (bulk: addresses have no invariants); buyer id → address id."""
    cities = [("上海市 Shanghai", "200000"), ("北京市 Beijing", "100000"), ("杭州市 Hangzhou", "310000"),
              ("成都市 Chengdu", "610000"), ("广州市 Guangzhou", "510000"), ("深圳市 Shenzhen", "518000")]
    streets = ["长乐路", "Garden Road", "文三路", "春熙路", "天河路", "Nanshan Avenue"]
    rows = []
    for buyer in buyers:
        region, postal = rng.choice(cities)
        rows.append({"user_id": buyer.id, "recipient_name": buyer.display_name or buyer.username,
                     "phone": f"13{rng.randint(100_000_000, 999_999_999)}", "region": region,
                     "line1": f"{rng.randint(1, 999)} {rng.choice(streets)}", "postal_code": postal,
                     "created_at": clock_now() - timedelta(days=90)})
    db.session.execute(insert(Address), rows)
    ids = {buyer.id for buyer in buyers}
    return {user_id: address_id for address_id, user_id in
            db.session.execute(select(Address.id, Address.user_id).where(Address.user_id.in_(ids)))}


def _when(scenario: str, now: datetime, rng: random.Random) -> datetime:
    """When a checkout of this scenario was placed, so that its later steps are still in the past and the
    scheduled jobs leave it in its state (shipped orders auto-complete after ORDER_AUTO_COMPLETE_DAYS)."""
    days = {"completed": (12, 60), "declined_then_completed": (12, 60), "shipped": (2, 8), "paid": (0.1, 3),
            "refunded_unshipped": (1, 40), "refunded_after_delivery": (6, 40), "partially_refunded": (4, 40),
            "cancelled": (1, 50), "expired": (1, 50), "paid_late": (1, 30), "pending_payment": (0, 0)}[scenario]
    return now - timedelta(minutes=rng.uniform(days[0] * 1440, days[1] * 1440) if days[1] else rng.uniform(0, 3))


def _simulate_orders(named: dict[str, User], people: list[User], products: list[DemoProduct],
                     tags_of_product: dict[int, list[int]], rng: random.Random, now: datetime, wanted: int) -> int:
    """About `wanted` checkouts through the services, each walked to the state its scenario names (every
    scenario at least once); returns how many were made."""
    if wanted <= 0:
        return 0
    owner_of = {shop_id: owner for shop_id, owner in db.session.execute(select(Shop.id, Shop.owner_id))}
    merchants = set(owner_of.values())  # nobody buys from (and so could not refund) their own shop
    buyers = [user for user in rng.sample(people, min(BUYERS, len(people))) + [named["reader"], named["creator"]]
              if user.id not in merchants]
    if not products or not buyers:
        return 0
    address_of = _addresses(buyers, rng)
    sandbox = payments.get_provider("sandbox")
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(
        set(owner_of.values()) | {b.id for b in buyers})))}
    for_sale = [p for p in products if p.active]
    if not for_sale:
        return 0
    stock = dict(db.session.execute(select(Sku.id, Sku.stock)).all())
    interests: dict[int, set[str]] = defaultdict(set)  # people buy mostly in the communities they joined
    for user_id, vertical in db.session.execute(select(Membership.user_id, Community.vertical)
                                                .join(Community, Community.id == Membership.community_id)):
        interests[user_id].add(vertical)
    codes = {"beauty": "GLOW15", "outdoor": "SUMMIT50", "food": "SNACK5", "digital": "BYTE100"}
    total = sum(SCENARIOS.values())
    counts = {name: max(1, round(share * wanted / total)) for name, share in SCENARIOS.items()}
    plan = [name for name, count in counts.items() for _ in range(count) if name != "pending_payment"]
    rng.shuffle(plan)
    plan += ["pending_payment"] * counts["pending_payment"]  # last: nothing later may expire them
    done = 0
    reader_has: set[str] = set()  # the demo reader gets the first order of every scenario, so every state shows
    step = progress.start("orders", len(plan))
    for index, scenario in enumerate(plan):
        step.advance()
        reader_turn = index % 15 == 0 or scenario not in reader_has
        buyer = named["reader"] if reader_turn else rng.choice(buyers)
        placed_at = _when(scenario, now, rng)
        lines = _lines(rng, for_sale, stock, tags_of_product, two_units=scenario == "partially_refunded",
                       interests=interests.get(buyer.id, set()))
        if not lines:
            continue
        first = next(p for p in for_sale if lines[0]["sku_id"] in p.skus)
        coupon = None
        if rng.random() < 0.18:
            coupon = rng.choice(["WELCOME10", "SPRING20", codes.get(first.vertical, "WELCOME10")])
        try:
            try:
                placed = checkout.place_orders(buyer, lines, address_of[buyer.id], coupon, now=placed_at)
            except checkout.HoldLimitReached:
                raise
            except DomainError:  # the coupon did not apply then (expired, minimum not met, used up…)
                placed = checkout.place_orders(buyer, lines, address_of[buyer.id], None, now=placed_at)
        except checkout.HoldLimitReached:
            continue  # this buyer already has as much awaiting payment as anyone may
        for line in lines:
            stock[line["sku_id"]] -= line["quantity"]
        _walk(scenario, placed, buyer, users, owner_of, sandbox, placed_at, rng)
        if buyer is named["reader"]:
            reader_has.add(scenario)
        done += 1
    step.finish()
    return done


def _lines(rng: random.Random, for_sale: list[DemoProduct], stock: dict[int, int],
           tags_of_product: dict[int, list[int]], two_units: bool, interests: set[str] = frozenset()) -> list[dict]:
    """One or two products (sometimes from two shops), each perhaps bought from a note that tags it; the first
    mostly from the buyer's interests."""
    mine = [p for p in for_sale if p.vertical in interests]
    first = rng.choice(mine if mine and rng.random() < IN_INTEREST_SHARE else for_sale)
    chosen = [first]
    same_shop = [p for p in for_sale if p.shop_id == first.shop_id and p is not first]
    other_shops = [p for p in for_sale if p.shop_id != first.shop_id]
    if same_shop and rng.random() < 0.25:
        chosen.append(rng.choice(same_shop))
    if other_shops and rng.random() < MULTI_SHOP_SHARE:
        chosen.append(rng.choice(other_shops))
    lines = []
    for position, product in enumerate(chosen):
        quantity = 2 if two_units and position == 0 else rng.choice([1, 1, 1, 2])
        options = [sku for sku in product.skus if stock.get(sku, 0) >= quantity]
        if not options:
            continue
        line = {"sku_id": rng.choice(options), "quantity": quantity}
        notes = tags_of_product.get(product.id)
        if notes and rng.random() < FROM_NOTE_SHARE:
            line["source_post_id"] = rng.choice(notes)
        lines.append(line)
    if two_units and (not lines or lines[0]["quantity"] < 2):
        return []
    return lines


def _pay(sandbox, payment_id: int, at: datetime, status: str = "succeeded") -> None:
    payment = db.session.get(Payment, payment_id)
    body, signature = sandbox.callback_for(payment, status)
    payments.handle_payment_callback(sandbox, body, signature, now=at)


def _walk(scenario: str, placed, buyer: User, users: dict[int, User], owner_of: dict[int, int], sandbox,
          t0: datetime, rng: random.Random) -> None:
    """Move a fresh checkout along its scenario with the services, at plausible times after `t0`."""
    payment_id, order_ids = placed.payment.id, [order.id for order in placed.orders]
    shop_of = dict(db.session.execute(select(Order.id, Order.shop_id).where(Order.id.in_(order_ids))).all())

    def merchant(order_id: int) -> User:
        return users[owner_of[shop_of[order_id]]]

    def ship(at: datetime) -> None:
        for order_id in order_ids:
            tracking = f"{rng.choice(TRACKING_PREFIXES)}{rng.randint(10**11, 10**12 - 1)}"
            orders.ship_order(merchant(order_id), order_id, tracking, now=at)

    def confirm(at: datetime) -> None:
        for order_id in order_ids:
            orders.confirm_delivery(buyer, order_id, now=at)

    minutes = timedelta(minutes=1)
    # Payments land inside the reservation the site is configured with (the rehearsal runs 3 minutes, the
    # default is 15); paying at a fixed 4 minutes made every later step fail on a short one.
    window = timedelta(minutes=current_app.config["ORDER_RESERVATION_MINUTES"])
    if scenario == "pending_payment":
        return
    if scenario == "cancelled":
        orders.cancel_order(buyer, order_ids[0], now=t0 + window / 3)
        return
    if scenario in ("expired", "paid_late"):
        orders.expire_reservations(now=t0 + window + minutes)
        if scenario == "paid_late":  # the money arrives after the hold ran out: refunded automatically
            _pay(sandbox, payment_id, t0 + window + 3 * minutes)
        return
    if scenario == "declined_then_completed":
        _pay(sandbox, payment_id, t0 + window / 8, "failed")
    _pay(sandbox, payment_id, t0 + window / 4)
    if scenario == "paid":
        return
    if scenario == "refunded_unshipped":
        for order_id in order_ids:
            refunds.refund_order(merchant(order_id), order_id, None, "out of stock in the warehouse",
                                 now=t0 + timedelta(hours=3))
        return
    if scenario == "partially_refunded":
        # Half lose one unit before shipping (it goes back on the shelf), half after delivery. An order
        # shipped but never confirmed would be completed by the auto-complete job, so none is left so.
        before_shipping = rng.random() < 0.5
        if not before_shipping:
            ship(t0 + timedelta(hours=rng.randint(6, 30)))
            confirm(t0 + timedelta(days=3))
        line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order_ids[0])
                                 .order_by(OrderLine.id).limit(1))
        reason = "one unit out of stock" if before_shipping else "one arrived damaged"
        refunds.refund_order(merchant(order_ids[0]), order_ids[0], {line.id: 1}, reason,
                             now=t0 + (timedelta(hours=2) if before_shipping else timedelta(days=3, hours=2)))
        return
    ship(t0 + timedelta(hours=rng.randint(6, 30)))
    if scenario == "shipped":
        return
    confirm(t0 + timedelta(days=3))
    if scenario == "refunded_after_delivery":
        for order_id in order_ids:
            refunds.refund_order(merchant(order_id), order_id, None, "returned within seven days",
                                 now=t0 + timedelta(days=5))
