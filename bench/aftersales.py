"""After-sales and coupon claims through the service layer, on SQLite and PostgreSQL.

Seeds one approved shop, --orders paid and shipped orders (one per buyer, 2 units each) and a claimable
coupon with --claims claims. Then, in one process: opens an after-sales request on every order (half
refunds, half returns) and answers them — refunds approved by the shop, returns sent back and confirmed —
timing each service call; lets the auto-approve job approve a second batch of --orders requests in one run;
and races --threads threads of buyers claiming the coupon (each buyer twice). Prints p50/p99 per step, the
job's rate, claims/s, and checks the invariants: one refund per approved request, refunded money equal to
what the requests asked for, exactly --claims claims and none twice.

    .venv/bin/python bench/aftersales.py                       # both databases
    .venv/bin/python bench/aftersales.py --db sqlite --orders 100
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the server; a scratch
    database is created on it and dropped afterwards.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.config import TestConfig, normalise_database_url  # noqa: E402
from app.core.errors import DomainError  # noqa: E402
from app.extensions import db  # noqa: E402
from app.shop import aftersales, cart, catalog, checkout, coupons, orders, payments, wallet  # noqa: E402
from app.shop.aftersale_models import AfterSale, CouponClaim  # noqa: E402
from app.shop.models import Order, Payment, ProductStatus, Refund  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 6, 1, 12, 0)


def make_app(url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.MEDIA_ROOT = Path(tempfile.gettempdir()) / "tastemaker-bench-media"
    return create_app(config)


def person(name: str, **fields) -> User:
    user = User(username=name, username_key=name, email=f"{name}@bench.test", email_key=f"{name}@bench.test",
                password_hash="x", display_name=name, **fields)
    db.session.add(user)
    db.session.commit()
    return user


def seed(app, orders_wanted: int, claims: int) -> dict:
    """A shop, 2 × orders_wanted shipped orders (two batches) and a claimable coupon, through the services."""
    with app.app_context():
        db.create_all()
        admin, merchant = person("admin", is_admin=True), person("merchant")
        shop = catalog.approve_shop(admin, catalog.apply_for_shop(merchant, slug="bench-shop", name="Bench").id)
        product = catalog.create_product(merchant, shop.id, title="Bench tint", commission_bps=500)
        sku = catalog.add_sku(merchant, product.id, code="B1", price_cents=1_999, stock=10 * orders_wanted)
        catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
        sandbox = payments.get_provider("sandbox")
        order_ids, buyer_ids = [], []
        for i in range(2 * orders_wanted):
            buyer = person(f"buyer{i}")
            address = cart.add_address(buyer, recipient_name="B", phone="1", line1="Road 1")
            placed = checkout.place_orders(buyer, [{"sku_id": sku.id, "quantity": 2}], address.id, now=NOW)
            body, signature = sandbox.callback_for(db.session.get(Payment, placed.payment.id))
            payments.handle_payment_callback(sandbox, body, signature, now=NOW)
            orders.ship_order(merchant, placed.orders[0].id, f"SF{i}", now=NOW)
            order_ids.append(placed.orders[0].id)
            buyer_ids.append(buyer.id)
        coupon = coupons.create_coupon(merchant, code="CLAIMME", kind="fixed", value=300, shop_id=shop.id,
                                       total_uses=claims, per_user_limit=1)
        wallet.publish_coupon(merchant, coupon.id)
        return {"merchant": merchant.id, "orders": order_ids, "buyers": buyer_ids, "coupon": coupon.id}


@contextmanager
def timed(samples: list[float]):
    start = time.perf_counter()
    yield
    samples.append((time.perf_counter() - start) * 1000)


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms"


def bench(label: str, url: str, args) -> bool:
    app = make_app(url)
    started = time.perf_counter()
    world = seed(app, args.orders, args.claims)
    print(f"\n{label}: seeded {2 * args.orders} shipped orders in {time.perf_counter() - started:.1f} s")
    half = args.orders
    steps = {name: [] for name in ("request", "approve refund", "approve return", "return tracking",
                                   "confirm receipt")}
    with app.app_context():
        merchant = db.session.get(User, world["merchant"])
        for i, order_id in enumerate(world["orders"][:half]):
            buyer = db.session.get(User, world["buyers"][i])
            line_id = db.session.get(Order, order_id).lines[0].id
            kind = "refund" if i % 2 == 0 else "return"
            with timed(steps["request"]):
                request = aftersales.request_after_sale(buyer, order_id, kind=kind, quantities={line_id: 1},
                                                        reason="damaged", now=NOW)
            if kind == "refund":
                with timed(steps["approve refund"]):
                    aftersales.approve_after_sale(merchant, request.id, now=NOW)
                continue
            with timed(steps["approve return"]):
                aftersales.approve_after_sale(merchant, request.id, now=NOW)
            with timed(steps["return tracking"]):
                aftersales.submit_return_tracking(buyer, request.id, "YT", now=NOW)
            with timed(steps["confirm receipt"]):
                aftersales.confirm_return_received(merchant, request.id, now=NOW)
        for i, order_id in enumerate(world["orders"][half:], start=half):
            buyer = db.session.get(User, world["buyers"][i])
            line_id = db.session.get(Order, order_id).lines[0].id
            aftersales.request_after_sale(buyer, order_id, kind="refund", quantities={line_id: 2}, reason="missing",
                                          now=NOW)
        start = time.perf_counter()
        approved = aftersales.approve_overdue_after_sales(NOW + timedelta(hours=49))
        job_seconds = time.perf_counter() - start
    for name, samples in steps.items():
        print(f"  {name:<16} {len(samples):>5} × {figures(samples)}")
    print(f"  auto-approve job: {approved} requests in {job_seconds:.2f} s ({approved / job_seconds:.0f}/s)")

    results: list[str] = []
    lock = threading.Lock()
    buyers = world["buyers"][: args.threads * 4]
    chunks = [buyers[i::args.threads] for i in range(args.threads)]
    barrier = threading.Barrier(args.threads)

    def claimer(ids):
        barrier.wait()
        with app.app_context():
            for user_id in ids:
                for _attempt in range(2):
                    try:
                        wallet.claim_coupon(db.session.get(User, user_id), world["coupon"], NOW)
                        outcome = "claimed"
                    except DomainError as exc:
                        db.session.rollback()
                        outcome = exc.code
                    with lock:
                        results.append(outcome)
            db.session.remove()

    threads = [threading.Thread(target=claimer, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claim_seconds = time.perf_counter() - start
    print(f"  claims: {len(results)} attempts by {len(buyers)} buyers on {args.threads} threads in "
          f"{claim_seconds:.2f} s ({len(results) / claim_seconds:.0f}/s): "
          + ", ".join(f"{results.count(k)} {k}" for k in sorted(set(results))))

    with app.app_context():
        refunds = db.session.scalar(select(func.count()).select_from(Refund))
        refunded = db.session.scalar(select(func.sum(Order.refunded_cents)))
        requests_refunded = db.session.scalar(select(func.count()).select_from(AfterSale)
                                              .where(AfterSale.status == "refunded"))
        claim_rows = db.session.scalar(select(func.count()).select_from(CouponClaim))
        distinct = db.session.scalar(select(func.count(func.distinct(CouponClaim.user_id))))
        expected_money = half * 1_999 + half * 2 * 1_999
        ok = (refunds == requests_refunded == 2 * half and refunded == expected_money
              and claim_rows == min(args.claims, len(buyers)) == distinct == results.count("claimed"))
        print(f"  invariants: {refunds} refunds for {requests_refunded} refunded requests, "
              f"{refunded} cents refunded (expected {expected_money}), {claim_rows} claims "
              f"→ {'OK' if ok else 'BROKEN'}")
        db.session.remove()
        db.engine.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="requests answered by people (and again by the job)")
    parser.add_argument("--claims", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    ok = True
    if args.db in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="tastemaker-bench-"))
        try:
            ok &= bench(f"SQLite ({folder})", f"sqlite:///{folder / 'bench.db'}", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        name = f"tastemaker_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            ok &= bench(f"PostgreSQL ({name})", SERVER.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
