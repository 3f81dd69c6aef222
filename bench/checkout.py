"""Checkout throughput through the service layer (app.shop.checkout + app.shop.payments), SQLite and PostgreSQL.

Seeds, through the shop services, 6 approved shops with a catalogue of --products products (1–3 SKUs each,
plus a few scarce "hot" SKUs that many buyers want), --buyers buyers with a saved address, and a site-wide
coupon with fewer uses than the buyers who try it. Then --workers worker processes (or threads) run
--checkouts checkouts between them, all started together: each places the orders for 1–3 random lines
(one order per shop, some with the coupon) and pays them with a signed sandbox callback, as the provider
would. Prints checkouts/s and orders placed+paid per second, p50/p99 latency per checkout (place + pay),
what was refused (sold out, coupon used up) or failed, and then checks the invariants on the database:
stock never negative and equal to what was stocked less what was sold, every order paid exactly once, totals
equal to the lines less the discount, and the coupon used exactly as many times as its uses went down.

    .venv/bin/python bench/checkout.py                                     # both databases, 2 processes
    .venv/bin/python bench/checkout.py --checkouts 300 --db sqlite         # quick look
    .venv/bin/python bench/checkout.py --mode threads                      # 2 threads in one process
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the server; a scratch
    database is created on it and dropped afterwards (unless --keep). SQLite is a file in a temporary folder
    (--sqlite-dir to choose where; /dev/shm skips the fsyncs a disk would make).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.config import TestConfig, normalise_database_url  # noqa: E402
from app.core.errors import DomainError  # noqa: E402
from app.extensions import db  # noqa: E402
from app.shop import cart, catalog, checkout, coupons, payments  # noqa: E402
from app.shop.models import (  # noqa: E402
    Coupon,
    CouponRedemption,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentCallback,
    ProductStatus,
    RedemptionStatus,
    Sku,
)

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SHOPS = 6
HOT_SKUS, HOT_STOCK = 5, 20  # scarce items: about a fifth of the lines ask for one of them
COUPON = "BENCH5"


def make_app(url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.MEDIA_ROOT = Path(tempfile.gettempdir()) / "tastemaker-bench-media"
    return create_app(config)


def seed(app, products: int, buyers: int, coupon_uses: int, rng: random.Random) -> dict:
    """Build the catalogue and the buyers through the services; return what the plan and the checks need."""
    with app.app_context():
        db.create_all()

        def person(name: str, **fields) -> User:
            user = User(username=name, username_key=name, email=f"{name}@bench.test", email_key=f"{name}@bench.test",
                        password_hash="x", **fields)  # never logs in
            db.session.add(user)
            db.session.commit()
            return user

        admin = person("admin", is_admin=True)
        shop_ids = []
        for s in range(SHOPS):
            merchant = person(f"merchant{s}")
            shop = catalog.apply_for_shop(merchant, slug=f"shop-{s}", name=f"Shop {s}")
            catalog.approve_shop(admin, shop.id)
            shop_ids.append((merchant.id, shop.id))
        skus: dict[int, int] = {}  # sku id → initial stock
        for p in range(products):
            merchant_id, shop_id = shop_ids[p % SHOPS]
            merchant = db.session.get(User, merchant_id)
            product = catalog.create_product(merchant, shop_id, title=f"Product {p}", commission_bps=500)
            for v in range(rng.randint(1, 3)):
                stock = rng.randint(200, 2000)
                sku = catalog.add_sku(merchant, product.id, code=f"P{p}-{v}", label=f"Variant {v}",
                                      price_cents=rng.randint(5, 500) * 100 + rng.choice((0, 50, 99)), stock=stock)
                skus[sku.id] = stock
            catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        hot = rng.sample(sorted(skus), HOT_SKUS)
        for sku_id in hot:
            sku = db.session.get(Sku, sku_id)
            catalog.adjust_stock(db.session.get(User, sku.product.shop.owner_id), sku_id, HOT_STOCK - sku.stock)
            skus[sku_id] = HOT_STOCK
        people = []
        for b in range(buyers):
            buyer = person(f"buyer{b}")
            address = cart.add_address(buyer, recipient_name=f"Buyer {b}", phone="13800000000",
                                       line1=f"{b} Bench Road", region="Shanghai", postal_code="200000")
            people.append((buyer.id, address.id))
        coupons.create_coupon(admin, code=COUPON, kind="percent", value=5, total_uses=coupon_uses)
        db.engine.dispose()
    return {"skus": skus, "hot": hot, "buyers": people}


def plan_checkouts(world: dict, checkouts: int, rng: random.Random) -> list[tuple]:
    """(buyer id, address id, lines, coupon code) per checkout; a fifth of them try the coupon."""
    ordinary = [sku_id for sku_id in world["skus"] if sku_id not in world["hot"]]
    plan = []
    for n in range(checkouts):
        buyer_id, address_id = world["buyers"][n % len(world["buyers"])]
        wanted = {}
        for _ in range(rng.choice((1, 1, 2, 3))):
            sku_id = rng.choice(world["hot"]) if rng.random() < 0.2 else rng.choice(ordinary)
            wanted[sku_id] = rng.choice((1, 1, 1, 2))
        lines = [{"sku_id": sku_id, "quantity": quantity} for sku_id, quantity in wanted.items()]
        plan.append((buyer_id, address_id, lines, COUPON if rng.random() < 0.2 else None))
    return plan


def run_worker(url: str, plan: list[tuple], barrier, results, app=None) -> None:
    """Place and pay each planned checkout; report latencies (s), orders paid, refusals and failures."""
    own_app = app is None
    app = app or make_app(url)
    latencies, refused_latencies, orders_paid = [], [], 0
    refused, failed = Counter(), Counter()
    with app.app_context():
        provider = payments.get_provider("sandbox")
        db.session.execute(select(1))  # connect before the clock starts
        db.session.rollback()
        barrier.wait()
        started = time.perf_counter()
        for buyer_id, address_id, lines, coupon in plan:
            t0 = time.perf_counter()
            try:
                placed = checkout.place_orders(db.session.get(User, buyer_id), lines, address_id, coupon)
                body, signature = provider.callback_for(placed.payment)
                outcome = payments.handle_payment_callback(provider, body, signature).outcome
                if outcome != "paid":
                    failed[f"callback {outcome}"] += 1
                    continue
                orders_paid += len(placed.orders)
                latencies.append(time.perf_counter() - t0)
            except DomainError as exc:  # sold out, coupon used up: outcomes, not errors
                db.session.rollback()
                refused[exc.message if "coupon" in exc.message.lower() else type(exc).__name__ + ": sold out"] += 1
                refused_latencies.append(time.perf_counter() - t0)
            except OperationalError as exc:  # e.g. SQLite's "database is locked": a failure the user would see
                db.session.rollback()
                failed[str(exc.orig).splitlines()[0][:60]] += 1
            finally:
                db.session.expunge_all()
        finished = time.perf_counter()
        db.session.remove()
        if own_app:
            db.engine.dispose()
    results.put({"started": started, "finished": finished, "latencies": latencies, "orders": orders_paid,
                 "refused": refused, "refused_latencies": refused_latencies, "failed": failed})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def check_invariants(app, world: dict, coupon_uses: int, orders_reported: int) -> bool:
    """What must hold after any run, however the checkouts interleaved."""
    with app.app_context():
        stock = dict(db.session.execute(select(Sku.id, Sku.stock)).all())
        sold = dict(db.session.execute(select(OrderLine.sku_id, func.sum(OrderLine.quantity))
                                       .join(Order, Order.id == OrderLine.order_id)
                                       .where(Order.status != OrderStatus.CANCELLED).group_by(OrderLine.sku_id)).all())
        statuses = Counter(db.session.scalars(select(Order.status)))
        bad_totals = db.session.scalar(select(func.count()).select_from(Order).where(
            Order.total_cents != Order.subtotal_cents - Order.discount_cents)) or 0
        line_sums = db.session.execute(select(OrderLine.order_id, func.sum(OrderLine.line_total_cents),
                                              func.sum(OrderLine.discount_cents)).group_by(OrderLine.order_id)).all()
        orders = {o.id: o for o in db.session.scalars(select(Order))}
        bad_lines = sum(1 for order_id, total, discount in line_sums
                        if (orders[order_id].subtotal_cents, orders[order_id].discount_cents) != (total, discount))
        payment_sums = dict(db.session.execute(select(Order.payment_id, func.sum(Order.total_cents))
                                               .group_by(Order.payment_id)).all())
        paid_payments = db.session.execute(select(Payment.id, Payment.amount_cents, Payment.status)).all()
        bad_payments = sum(1 for p in paid_payments
                           if p.amount_cents != payment_sums.get(p.id) or p.status != "succeeded")
        paid_callbacks = Counter(db.session.scalars(select(PaymentCallback.payment_id)
                                                    .where(PaymentCallback.outcome == "paid")))
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == COUPON))
        consumed = db.session.scalar(select(func.count()).select_from(CouponRedemption).where(
            CouponRedemption.status == RedemptionStatus.CONSUMED)) or 0
        hot_sold = sum(sold.get(sku_id, 0) for sku_id in world["hot"])
        db.engine.dispose()
    checks = [
        ("stock never negative", min(stock.values()) >= 0),
        ("stock = stocked − sold, for every SKU",
         all(world["skus"][sku_id] - stock[sku_id] == sold.get(sku_id, 0) for sku_id in world["skus"])),
        (f"every order paid ({sum(statuses.values())} orders, {orders_reported} reported)",
         set(statuses) <= {OrderStatus.PAID} and sum(statuses.values()) == orders_reported),
        ("order total = subtotal − discount = lines − line discounts", bad_totals == 0 and bad_lines == 0),
        ("payment = sum of its orders, succeeded", bad_payments == 0),
        ("each payment paid by exactly one callback",
         len(paid_callbacks) == len(paid_payments) and set(paid_callbacks.values()) <= {1}),
        (f"coupon: {coupon_uses - (coupon.uses_left or 0)} uses taken = {consumed} consumed, "
         f"never more than {coupon_uses}", coupon_uses - coupon.uses_left == consumed <= coupon_uses),
        (f"hot SKUs: {hot_sold} sold of {HOT_SKUS * HOT_STOCK} stocked", hot_sold <= HOT_SKUS * HOT_STOCK),
    ]
    for label, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}")
    return all(ok for _, ok in checks)


def bench(label: str, url: str, args) -> bool:
    rng = random.Random(args.seed)
    coupon_uses = max(1, args.checkouts // 10)
    app = make_app(url)
    t0 = time.perf_counter()
    world = seed(app, args.products, args.buyers, coupon_uses, rng)
    print(f"\n{label}: seeded {SHOPS} shops, {args.products} products, {len(world['skus'])} SKUs "
          f"({HOT_SKUS} hot with {HOT_STOCK} units), {args.buyers} buyers in {time.perf_counter() - t0:.1f}s",
          flush=True)
    plan = plan_checkouts(world, args.checkouts, rng)
    shares = [plan[w::args.workers] for w in range(args.workers)]
    if args.mode == "processes":
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(args.workers), context.Queue()
        workers = [context.Process(target=run_worker, args=(url, share, barrier, results)) for share in shares]
    else:
        import queue

        barrier, results = threading.Barrier(args.workers), queue.Queue()
        workers = [threading.Thread(target=run_worker, args=(url, share, barrier, results, app)) for share in shares]
    for worker in workers:
        worker.start()
    reports = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    wall = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    latencies = [x * 1000 for r in reports for x in r["latencies"]]
    refused_latencies = [x * 1000 for r in reports for x in r["refused_latencies"]]
    orders = sum(r["orders"] for r in reports)
    refused = sum((r["refused"] for r in reports), Counter())
    failed = sum((r["failed"] for r in reports), Counter())
    print(f"{label}, {args.workers} worker {args.mode}, {args.checkouts} checkouts in {wall:.1f}s:")
    print(f"  {len(latencies) / wall:8.1f} checkouts/s placed+paid   {orders / wall:8.1f} orders/s placed+paid "
          f"({orders} orders)")
    if latencies:
        print(f"  latency per checkout (place + pay), ms: p50 {statistics.median(latencies):.1f}  "
              f"p99 {percentile(latencies, 99):.1f}  max {max(latencies):.1f}")
    if refused_latencies:
        print(f"  refused checkouts, ms: p50 {statistics.median(refused_latencies):.1f}  "
              f"p99 {percentile(refused_latencies, 99):.1f}")
    for reason, count in refused.most_common():
        print(f"  refused {count:5d}  {reason}")
    for reason, count in failed.most_common():
        print(f"  FAILED  {count:5d}  {reason}")
    print("  invariants:")
    return check_invariants(app, world, coupon_uses, orders) and not failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--checkouts", type=int, default=2000, help="in all, split between the workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=("processes", "threads"), default="processes")
    parser.add_argument("--sqlite-dir", default=None, help="folder for the SQLite file (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases afterwards")
    args = parser.parse_args()
    print(f"Machine: {os.cpu_count()} CPUs (shared with whatever else runs); workers and the database share them.")
    ok = True
    if args.db in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="tastemaker-bench-", dir=args.sqlite_dir))
        try:
            ok &= bench(f"SQLite ({folder})", f"sqlite:///{folder / 'bench.db'}", args)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        name = f"tastemaker_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            ok &= bench(f"PostgreSQL ({name})", SERVER.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            if not args.keep:
                with psycopg.connect(SERVER, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
