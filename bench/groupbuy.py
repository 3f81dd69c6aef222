"""Group-buy joins through the service layer (app.groupbuy.services + app.shop.payments) on PostgreSQL.

Seeds, through the services, one shop with --products products, each with a live campaign (groups of 3–5,
1–3 hours to fill), --groups groups already opened and paid by their leaders at staggered times (so their
deadlines fall across the run), and --buyers buyers with a saved address. Then --workers worker processes,
started together, run --joins joins between them: each joins a random group (a seat claimed by conditional
update inside the checkout) and pays it with a signed sandbox callback. Time is simulated: the run covers two
hours of the clock, so groups keep expiring mid-run, and every 40 joins a worker runs the expiry job
(`expire_overdue_groups`, refunds inline) as the scheduler would — two workers at once do so too.

Prints joins placed+paid per second, p50/p99 latency per join (join + pay), groups filled and expired,
refusals by code (full, closed, already a member), failures, then runs a last expiry and checks the
invariants on the database: per group, paid members = paid_count ≤ size and no seat is held without a
member; a filled group has exactly N paid members, no refund and no hold; an expired group's every paid
order is refunded exactly once; one refund per order at most, payments' refunded totals equal the refunds;
units stocked = on hand + reserved + sold.

    .venv/bin/python bench/groupbuy.py                       # 3 000 joins, 2 processes
    .venv/bin/python bench/groupbuy.py --joins 600           # quick look
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the server; a scratch
    database is created on it and dropped afterwards (unless --keep).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
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
from app.groupbuy import services  # noqa: E402
from app.groupbuy.models import Group, GroupMember, GroupState, MemberState  # noqa: E402
from app.shop import cart, catalog, payments  # noqa: E402
from app.shop.models import Order, OrderLine, OrderStatus, Payment, ProductStatus, Refund, Sku  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 6, 1, 12, 0)
RUN_SPAN = timedelta(hours=2)  # simulated time the joins are spread over
EXPIRE_EVERY = 40


def make_app(url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.MEDIA_ROOT = Path(tempfile.gettempdir()) / "tastemaker-bench-media"
    config.MAX_UNPAID_ORDERS = 50
    return create_app(config)


def pay(provider, payment_id: int, now: datetime) -> str:
    body, signature = provider.callback_for(db.session.get(Payment, payment_id))
    return payments.handle_payment_callback(provider, body, signature, now=now).outcome


def seed(app, products: int, groups: int, buyers: int, rng: random.Random) -> dict:
    with app.app_context():
        db.create_all()

        def person(name: str, **fields) -> User:
            user = User(username=name, username_key=name, email=f"{name}@bench.test", email_key=f"{name}@bench.test",
                        password_hash="x", **fields)
            db.session.add(user)
            db.session.commit()
            return user

        admin, merchant = person("admin", is_admin=True), person("merchant")
        shop = catalog.apply_for_shop(merchant, slug="group-shop", name="Group shop")
        catalog.approve_shop(admin, shop.id)
        skus, campaigns = {}, []
        for p in range(products):
            product = catalog.create_product(merchant, shop.id, title=f"Product {p}")
            stock = rng.randint(400, 900)
            sku = catalog.add_sku(merchant, product.id, code=f"G{p}", label="One",
                                  price_cents=rng.randint(20, 300) * 100, stock=stock)
            catalog.set_product_status(merchant, product.id, ProductStatus.ACTIVE)
            skus[sku.id] = stock
            campaign = services.create_campaign(merchant, product.id, services.CampaignInput(
                prices={sku.id: sku.price_cents * 7 // 10}, group_size=rng.randint(3, 5),
                window_hours=rng.randint(1, 3), starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=5),
                per_order_limit=1, per_user_limit=50), now=T0 - timedelta(days=1))
            campaigns.append((campaign.id, sku.id))
        people = []
        for b in range(buyers):
            buyer = person(f"buyer{b}")
            address = cart.add_address(buyer, recipient_name=f"Buyer {b}", phone="13800000000",
                                       line1=f"{b} Bench Road", region="Shanghai", postal_code="200000")
            people.append((buyer.id, address.id))
        provider = payments.get_provider("sandbox")
        opened = []
        for g in range(groups):
            campaign_id, sku_id = campaigns[g % len(campaigns)]
            leader_id, address_id = people[g % len(people)]
            at = T0 - timedelta(minutes=rng.randint(0, 60))  # deadlines land from T0 to T0 + 3 h: a share mid-run
            joined = services.open_group(db.session.get(User, leader_id), campaign_id, sku_id=sku_id,
                                         address_id=address_id, now=at)
            pay(provider, joined.checkout.payment.id, at)
            opened.append((joined.group.id, sku_id))
        db.engine.dispose()
    return {"skus": skus, "groups": opened, "buyers": people}


def run_worker(url: str, plan: list[tuple], barrier, results) -> None:
    app = make_app(url)
    latencies, refused, failed, paid, expired = [], Counter(), Counter(), 0, 0
    with app.app_context():
        provider = payments.get_provider("sandbox")
        db.session.execute(select(1))
        db.session.rollback()
        barrier.wait()
        started = time.perf_counter()
        for index, (buyer_id, address_id, group_id, sku_id) in enumerate(plan):
            now = T0 + RUN_SPAN * (index / len(plan))
            t0 = time.perf_counter()
            try:
                joined = services.join_group(db.session.get(User, buyer_id), group_id, sku_id=sku_id,
                                             address_id=address_id, now=now)
                outcome = pay(provider, joined.checkout.payment.id, now + timedelta(seconds=20))
                if outcome == "paid":
                    paid += 1
                    latencies.append(time.perf_counter() - t0)
                else:
                    failed[f"callback {outcome}"] += 1
            except DomainError as exc:
                db.session.rollback()
                refused[exc.code] += 1
            except OperationalError as exc:
                db.session.rollback()
                failed[str(exc.orig).splitlines()[0][:60]] += 1
            finally:
                db.session.expunge_all()
            if index % EXPIRE_EVERY == EXPIRE_EVERY - 1:
                expired += services.expire_overdue_groups(now)
                db.session.expunge_all()
        finished = time.perf_counter()
        db.session.remove()
        db.engine.dispose()
    results.put({"started": started, "finished": finished, "latencies": latencies, "paid": paid,
                 "refused": refused, "failed": failed, "expired": expired})


def check_invariants(app, world: dict) -> bool:
    ok = True

    def check(label: str, holds: bool) -> None:
        nonlocal ok
        ok &= holds
        print(f"    {'ok ' if holds else 'FAIL'} {label}")

    with app.app_context():
        services.expire_overdue_groups(T0 + RUN_SPAN + timedelta(hours=4))  # whatever is left open expires
        groups = list(db.session.scalars(select(Group)))
        members = list(db.session.scalars(select(GroupMember)))
        by_group: dict[int, list[GroupMember]] = {}
        for m in members:
            by_group.setdefault(m.group_id, []).append(m)
        refunds_per_order = Counter(db.session.scalars(select(Refund.order_id)))
        orders = {o.id: o for o in db.session.scalars(select(Order))}
        states = Counter(g.state for g in groups)
        print(f"  groups: {dict(states)}; members {len(members)}; refunds {sum(refunds_per_order.values())}")
        bad_counts = [g.id for g in groups if g.paid_count != sum(
            1 for m in by_group.get(g.id, []) if m.state in (MemberState.PAID, MemberState.REFUNDED))]
        check("paid_count equals the members who paid, in every group", not bad_counts)
        check("no group has more paid members than its size", all(g.paid_count <= g.size for g in groups))
        check("no member still holds an unpaid seat after the last expiry",
              not any(m.state == MemberState.PENDING for m in members))
        filled = [g for g in groups if g.state == GroupState.FILLED]
        check("a filled group has exactly N paid members, none refunded, none on hold",
              all(g.paid_count == g.size and all(refunds_per_order[m.order_id] == 0 and
                                                 orders[m.order_id].hold_reason is None
                                                 for m in by_group[g.id] if m.state == MemberState.PAID)
                  for g in filled))
        expired = [g for g in groups if g.state == GroupState.EXPIRED]
        check("every paid order of an expired group is refunded exactly once",
              all(refunds_per_order[m.order_id] == 1 and orders[m.order_id].status == OrderStatus.REFUNDED
                  for g in expired for m in by_group[g.id] if m.state in (MemberState.PAID, MemberState.REFUNDED)))
        check("at most one refund per order", all(count == 1 for count in refunds_per_order.values()))
        refunded = db.session.scalar(select(func.coalesce(func.sum(Payment.refunded_cents), 0)))
        check("payments' refunded totals equal the refunds",
              refunded == db.session.scalar(select(func.coalesce(func.sum(Refund.amount_cents), 0))))
        for sku_id, stocked in world["skus"].items():
            on_hand = db.session.get(Sku, sku_id).stock
            reserved, sold = db.session.execute(
                select(func.coalesce(func.sum(OrderLine.quantity).filter(
                    Order.status == OrderStatus.PENDING_PAYMENT), 0),
                       func.coalesce(func.sum(OrderLine.quantity - OrderLine.refunded_quantity).filter(
                           Order.status.notin_([OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED])), 0))
                .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.sku_id == sku_id)).one()
            if on_hand + reserved + sold != stocked:
                check(f"stock of SKU {sku_id}: stocked = on hand + reserved + sold", False)
                break
        else:
            check("units stocked = on hand + reserved + sold, for every SKU", True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--groups", type=int, default=400)
    parser.add_argument("--buyers", type=int, default=400)
    parser.add_argument("--joins", type=int, default=3000, help="in all, split between the workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(f"Machine: {os.cpu_count()} CPUs (shared with whatever else runs); workers and the database share them.")
    name = f"tastemaker_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    ok = False
    try:
        rng = random.Random(args.seed)
        app = make_app(url)
        t0 = time.perf_counter()
        world = seed(app, args.products, args.groups, args.buyers, rng)
        print(f"PostgreSQL ({name}): seeded {args.products} campaigns, {args.groups} open groups, {args.buyers} buyers "
              f"in {time.perf_counter() - t0:.1f}s", flush=True)
        plan = []
        for _ in range(args.joins):
            buyer_id, address_id = world["buyers"][rng.randrange(len(world["buyers"]))]
            group_id, sku_id = world["groups"][rng.randrange(len(world["groups"]))]
            plan.append((buyer_id, address_id, group_id, sku_id))
        shares = [plan[w::args.workers] for w in range(args.workers)]
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(args.workers), context.Queue()
        workers = [context.Process(target=run_worker, args=(url, share, barrier, results)) for share in shares]
        for worker in workers:
            worker.start()
        reports = [results.get() for _ in workers]
        for worker in workers:
            worker.join()
        wall = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
        latencies = [x * 1000 for r in reports for x in r["latencies"]]
        refused = sum((r["refused"] for r in reports), Counter())
        failed = sum((r["failed"] for r in reports), Counter())
        print(f"{args.workers} worker processes, {args.joins} join attempts over {RUN_SPAN} of simulated time, "
              f"in {wall:.1f}s:")
        print(f"  {len(latencies) / wall:8.1f} joins/s placed+paid ({len(latencies)} joins), "
              f"{sum(r['expired'] for r in reports)} groups expired mid-run by the workers' expiry runs")
        if latencies:
            ordered = sorted(latencies)
            print(f"  latency per join (join + pay), ms: p50 {statistics.median(latencies):.1f}  "
                  f"p99 {ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]:.1f}  max {max(latencies):.1f}")
        for code, count in refused.most_common():
            print(f"  refused {count:5d}  {code}")
        for reason, count in failed.most_common():
            print(f"  FAILED  {count:5d}  {reason}")
        print("  invariants:")
        ok = check_invariants(app, world) and not failed
        with app.app_context():
            db.engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
