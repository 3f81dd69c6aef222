"""Sharing commissions at scale on PostgreSQL: click → order → pay → complete → availability job.

Creates a scratch database on BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
makes the tables, and seeds through the services one shop with --products products (10 % commission), 20
sharers with product share links and --buyers buyers. Then:

1. --through-services orders go the whole way through the real services — a share-link click, checkout,
   a signed sandbox payment callback, shipping, the buyer's confirmation — timed per order;
2. the rest, up to --orders attributed orders, are bulk-inserted in the exact shape those services leave
   (payment, completed order, line, attribution, click, pending ledger row), so the run stays minutes long;
   the star sharer gets --star-orders of them (each becomes two ledger rows: pending, then available);
3. the availability job runs over every completed order past the return window (timed, then run again to
   show the second run writes nothing);
4. --requests GETs of the star's /me/earnings and of the shop's /shop/<slug>/dashboard?days=90 through the
   test client, signed in, printing p50/p99.

    .venv/bin/python bench/affiliate.py                       # 100k orders, 10k ledger rows for the star
    .venv/bin/python bench/affiliate.py --orders 20000 --star-orders 2000   # quick look
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.affiliate import attribution, ledger  # noqa: E402
from app.affiliate.models import CommissionEntry, LineAttribution, ShareClick  # noqa: E402
from app.config import TestConfig, normalise_database_url  # noqa: E402
from app.core.clock import now as clock_now  # noqa: E402
from app.extensions import db  # noqa: E402
from app.shop import cart, catalog, checkout, orders, payments  # noqa: E402
from app.shop.models import Order, OrderLine, Payment, ProductStatus  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-123"
RATE = 1000
SHARERS = 20


def make_app(url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.MEDIA_ROOT = Path(tempfile.gettempdir()) / "tastemaker-bench-media"
    config.RATELIMIT_ENABLED = False
    config.CHECKOUT_RATE_LIMIT = config.CHECKOUT_IP_RATE_LIMIT = "100000/minute"
    return create_app(config)


def person(name: str, **fields) -> User:
    from app.accounts.services import register_user

    user = register_user(name, f"{name}@example.com", PASSWORD, allow_reserved=True)
    for key, value in fields.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed(products: int, buyers: int, rng: random.Random) -> dict:
    admin, merchant = person("admin", is_admin=True), person("merchant")
    shop = catalog.approve_shop(admin, catalog.apply_for_shop(merchant, slug="bench-shop", name="Bench").id)
    items = []
    for index in range(products):
        product = catalog.create_product(merchant, shop.id, title=f"Product {index}", commission_bps=RATE)
        sku = catalog.add_sku(merchant, product.id, code=f"B{index}", label="one",
                              price_cents=rng.choice([1990, 5900, 12800, 29900]), stock=10**8)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        items.append((product.id, sku.id, sku.price_cents))
    sharers = [person(f"sharer{i}") for i in range(SHARERS)]
    star = sharers[0]
    links = [attribution.share_link_for(sharer, product_id=items[i % len(items)][0]) for i, sharer in
             enumerate(sharers)]
    buyer_rows = []
    for index in range(buyers):
        buyer = person(f"buyer{index}")
        address = cart.add_address(buyer, recipient_name=f"Buyer {index}", phone=f"138{index:08d}",
                                   line1=f"{index} Bench Road", region="Shanghai")
        buyer_rows.append((buyer.id, address.id))
    return {"admin": admin.id, "merchant": merchant.id, "shop": shop.id, "items": items, "star": star.id,
            "links": [(link.id, link.sharer_id, link.product_id) for link in links], "buyers": buyer_rows}


def through_services(world: dict, count: int, rng: random.Random) -> list[float]:
    """Click, checkout, pay, ship and confirm `count` orders with the services, 30–20 days ago."""
    sandbox = payments.get_provider("sandbox")
    merchant = db.session.get(User, world["merchant"])
    start = clock_now() - timedelta(days=30)
    timings = []
    items = {product_id: (sku_id, price) for product_id, sku_id, price in world["items"]}
    for index in range(count):
        at = start + timedelta(minutes=index * 10)
        link_id, sharer_id, product_id = world["links"][0 if index % 10 == 0 else rng.randrange(1, SHARERS)]
        buyer_id, address_id = world["buyers"][index % len(world["buyers"])]
        buyer = db.session.get(User, buyer_id)
        began = time.perf_counter()
        link = db.session.get(attribution.ShareLink, link_id)
        attribution.record_click(link, visitor_id=buyer_id, anon_id=None, user_agent="Mozilla/5.0", now=at)
        placed = checkout.place_orders(buyer, [{"sku_id": items[product_id][0], "quantity": 1}], address_id,
                                       now=at + timedelta(minutes=1))
        payment = db.session.get(Payment, placed.payment.id)
        body, signature = sandbox.callback_for(payment, "succeeded")
        payments.handle_payment_callback(sandbox, body, signature, now=at + timedelta(minutes=2))
        order_id = placed.orders[0].id
        orders.ship_order(merchant, order_id, "SF1", now=at + timedelta(hours=3))
        orders.confirm_delivery(buyer, order_id, now=at + timedelta(days=2))
        timings.append(time.perf_counter() - began)
    return timings


def bulk(world: dict, count: int, star_orders: int, rng: random.Random) -> None:
    """`count` completed, attributed, paid orders in the shape the services leave them, 90–10 days ago."""
    now = clock_now()
    next_ids = {table: (db.session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0) + 1
                for table in ("payments", "orders", "order_lines")}
    star_links = [link for link in world["links"] if link[1] == world["star"]]
    other_links = [link for link in world["links"] if link[1] != world["star"]]
    price_of = {product_id: (sku_id, price) for product_id, sku_id, price in world["items"]}
    chunk = 5000
    for begin in range(0, count, chunk):
        rows = {"payments": [], "orders": [], "order_lines": [], "attr": [], "entries": [], "clicks": []}
        for offset in range(begin, min(count, begin + chunk)):
            pay_id, order_id, line_id = (next_ids["payments"] + offset, next_ids["orders"] + offset,
                                         next_ids["order_lines"] + offset)
            link_id, sharer_id, product_id = rng.choice(star_links if offset < star_orders else other_links)
            sku_id, price = price_of[product_id]
            buyer_id, address_id = world["buyers"][offset % len(world["buyers"])]
            paid = now - timedelta(days=rng.uniform(10, 90))
            rows["payments"].append({"id": pay_id, "buyer_id": buyer_id, "provider": "sandbox", "amount_cents": price,
                                     "refunded_cents": 0, "currency": "CNY", "status": "succeeded",
                                     "created_at": paid, "succeeded_at": paid})
            rows["orders"].append({
                "id": order_id, "buyer_id": buyer_id, "shop_id": world["shop"], "payment_id": pay_id,
                "status": "completed", "subtotal_cents": price, "discount_cents": 0, "total_cents": price,
                "refunded_cents": 0, "currency": "CNY", "address_id": address_id, "shipping_name": "Bench",
                "shipping_phone": "13800000000", "shipping_address": "1 Bench Road", "reserved_until": paid,
                "created_at": paid, "updated_at": paid, "paid_at": paid, "shipped_at": paid + timedelta(hours=3),
                "completed_at": paid + timedelta(days=2)})
            rows["order_lines"].append({
                "id": line_id, "order_id": order_id, "sku_id": sku_id, "product_id": product_id,
                "product_title": "Product", "sku_label": "one", "unit_price_cents": price, "quantity": 1,
                "line_total_cents": price, "discount_cents": 0, "refunded_quantity": 0, "refunded_cents": 0})
            rows["attr"].append({"order_line_id": line_id, "order_id": order_id, "shop_id": world["shop"],
                                 "buyer_id": buyer_id, "beneficiary_id": sharer_id, "source": "link",
                                 "link_id": link_id, "post_id": None, "rate_bps": RATE, "withheld": "",
                                 "created_at": paid})
            commission = price * RATE // 10_000
            rows["entries"].append({"order_line_id": line_id, "order_id": order_id, "shop_id": world["shop"],
                                    "beneficiary_id": sharer_id, "kind": "pending", "seq": 0,
                                    "amount_cents": commission, "pending_cents": commission, "available_cents": 0,
                                    "paid_cents": 0, "rate_bps": RATE, "units": 0, "currency": "CNY",
                                    "created_at": paid})
            rows["clicks"].append({"link_id": link_id, "visitor_id": buyer_id, "anon_id": None,
                                   "created_at": paid - timedelta(minutes=5)})
        db.session.execute(insert(Payment), rows["payments"])
        db.session.execute(insert(Order), rows["orders"])
        db.session.execute(insert(OrderLine), rows["order_lines"])
        db.session.execute(insert(LineAttribution), rows["attr"])
        db.session.execute(insert(CommissionEntry), rows["entries"])
        db.session.execute(insert(ShareClick), rows["clicks"])
        db.session.commit()
    for table in ("payments", "orders", "order_lines"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def latency(app, username: str, url: str, requests: int) -> list[float]:
    client = app.test_client()
    with app.app_context():
        token = client.get("/login").get_data(as_text=True)
    import re

    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', token) or \
        re.search(r'name="csrf_token" value="([^"]+)"', token)
    form = {"login": username, "password": PASSWORD, **({"csrf_token": found.group(1)} if found else {})}
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.status_code
    client.get(url)  # warm-up
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--through-services", type=int, default=500)
    parser.add_argument("--star-orders", type=int, default=5_000)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    name = f"bench_affiliate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + f"/{name}"
    try:
        app = make_app(url)
        with app.app_context():
            db.create_all()
            began = time.perf_counter()
            world = seed(args.products, args.buyers, rng)
            print(f"seeded through the services in {time.perf_counter() - began:.1f} s "
                  f"({args.products} products, {SHARERS} sharers, {args.buyers} buyers)")
            timings = through_services(world, args.through_services, rng)
            if timings:
                print(f"{len(timings)} orders click → checkout → pay → ship → confirm through the services: "
                      f"{len(timings) / sum(timings):.1f} orders/s, p50 {statistics.median(timings) * 1000:.1f} ms, "
                      f"p99 {percentile(timings, 0.99) * 1000:.1f} ms each")
            already_star = db.session.scalar(select(func.count()).select_from(LineAttribution)
                                             .where(LineAttribution.beneficiary_id == world["star"]))
            began = time.perf_counter()
            rest = max(0, args.orders - args.through_services)
            bulk(world, rest, max(0, args.star_orders - already_star), rng)
            print(f"bulk-inserted {rest} more attributed, paid, completed orders "
                  f"in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            written = ledger.release_available_commissions()
            elapsed = time.perf_counter() - began
            print(f"availability job: {written} commissions made available in {elapsed:.1f} s "
                  f"({written / elapsed:.0f}/s)")
            began = time.perf_counter()
            again = ledger.release_available_commissions()
            print(f"availability job again: {again} written in {time.perf_counter() - began:.2f} s")
            star = db.session.get(User, world["star"])
            rows = db.session.scalar(select(func.count()).select_from(CommissionEntry)
                                     .where(CommissionEntry.beneficiary_id == star.id))
            total_orders = db.session.scalar(select(func.count()).select_from(Order))
            star_name = star.username
        for label, username, page in (("earnings page", star_name, "/me/earnings"),
                                      ("shop dashboard (90 days)", "merchant", "/shop/bench-shop/dashboard?days=90")):
            timings = latency(app, username, page, args.requests)
            print(f"{label}: p50 {statistics.median(timings) * 1000:.1f} ms, "
                  f"p99 {percentile(timings, 0.99) * 1000:.1f} ms over {len(timings)} requests "
                  f"({rows} ledger rows for the creator, {total_orders} orders in the shop)")
        with app.app_context():
            db.engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
