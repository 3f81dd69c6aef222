"""Fault scenarios against the rehearsal (deploy/rehearsal.sh), each checked with "nothing lost, nothing doubled".

    deploy/rehearsal.sh up && eval "$(deploy/rehearsal.sh env)"
    .venv/bin/python bench/faults.py kill-app          # one or more scenarios, or `all`
    .venv/bin/python bench/faults.py --list

Scenarios (SCENARIOS below; each runs the shoppers of bench/load.py through nginx while it breaks something):

- kill-app: `kill -9` app instance 1 (master and workers) in the middle of checkouts, bring it back after 20 s.
  nginx routes around it; only requests in flight on the killed instance may fail (502); no order is
  half-placed, and its unpaid reservations expire like any other.
- kill-worker: `kill -9` the RQ worker that is running a search re-indexing job (all notes, deleted from the
  index first); a new worker starts as systemd would restart it. RQ finds the abandoned job and runs it again
  (a retry); the index ends equal to the database. JOB_FAULTS holds such jobs as (name, start, check): the
  group-buy expiry job is one entry to add when group-buys merge.
- restart-pg: stop the rehearsal's own PostgreSQL (never the system's) for 10 s under load. Requests answer a
  fast 503 (no 500, no hang), and the site recovers without a restart (pool pre-ping).
- stop-redis: stop the rehearsal's own Redis for 20 s under load. Pages keep serving (limits count in each
  process, jobs run inline); when it is back the queue drains.
- callbacks: checkouts whose payment callbacks arrive three times at once, a decline after the success
  (reordered), and successes after the buyer cancelled (late): one payment, one state change, one refund.

After each: bench/load.py's invariants on the database (stock conserved, no order paid twice, coupons, counters…).
Exit status 1 when a scenario's own check or an invariant fails.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

WORKER_QUEUES = ("urgent", "default")  # app/jobs/runner.py WORKER_QUEUES (not imported: no app in this process)

BENCH = Path(__file__).resolve().parent
# Python put bench/ first on the path, where bench/recommender.py would hide the recommender package the app
# imports: take it off, and load bench/load.py by its path (it patches with gevent first).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]
_spec = importlib.util.spec_from_file_location("load", BENCH / "load.py")
load = importlib.util.module_from_spec(_spec)
sys.modules["load"] = load
_spec.loader.exec_module(load)
Shopper, Snapshot, check_invariants = load.Shopper, load.Snapshot, load.check_invariants
prepare, report, run_phase = load.prepare, load.report, load.run_phase

ROOT = Path(__file__).resolve().parent.parent
REHEARSAL = [str(ROOT / "deploy" / "rehearsal.sh")]
HOST = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8480")


def rehearsal(*args: str) -> None:
    subprocess.run(["bash", *REHEARSAL, *args], check=True, stdout=subprocess.DEVNULL)


def window(timeline, start: float, end: float) -> Counter:
    return Counter(status for t, _name, status, _ms in timeline if start <= t < end)


def verdict(ok: bool, message: str) -> bool:
    print(f"  {'ok  ' if ok else 'FAIL'} {message}")
    return ok


MIX = list(load.TASKS)


def shoppers_buying() -> None:
    """Weigh the mix towards checkouts for the scenarios that break something mid-checkout."""
    load.TASKS[:] = [(weight * (6 if fn is load.check_out_and_pay else 1), fn) for weight, fn in MIX]


# --- scenarios: each returns True when its own checks hold -----------------------------------------------------

def kill_app(users: int) -> bool:
    shoppers_buying()
    conn = load.psycopg.connect(load.database_url(), autocommit=True)
    first_order = conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    moments = {}

    def fault(started):
        time.sleep(30)
        moments["kill"] = time.time() - started
        rehearsal("kill-app", "1")
        time.sleep(20)
        rehearsal("start-app", "1")
        moments["back"] = time.time() - started

    phase = run_phase(HOST, Shopper, users, 120, 10, during=fault)
    report(phase.stats, phase.statuses, phase.seconds)
    kill, back = moments["kill"], moments["back"]
    unpaid = _expire_unpaid(conn, first_order)
    around = window(phase.timeline, kill - 1, kill + 6)  # requests in flight when it died, and nginx noticing
    later = window(phase.timeline, kill + 6, phase.seconds)
    before = window(phase.timeline, 0, kill - 1)
    print(f"  killed at {kill:.0f} s, back at {back:.0f} s; answers around the kill {dict(around)}, "
          f"after {dict(later)}")
    failures_later = sum(n for status, n in later.items() if not isinstance(status, int) or status >= 500)
    return all([
        verdict(not any(not isinstance(s, int) or s >= 500 for s in before), "no error before the kill"),
        verdict(sum(n for s, n in around.items() if not isinstance(s, int) or s >= 500) <= 2 * 2,
                "at most the killed instance's in-flight requests failed (2 workers, a request each, ×2 margin)"),
        verdict(failures_later == 0, "nginx routed around the dead instance and back to it: no error after"),
        verdict(unpaid == 0, "every unpaid order of the scenario was cancelled by the expiry job once its "
                             "reservation ended (stock back: see the invariants)"),
    ])


def _expire_unpaid(conn, first_order: int) -> int:
    """Wait for the reservations of this scenario's unpaid orders to end and the expiry job to cancel them;
    returns how many are still unpaid after that."""
    pending = "FROM orders WHERE id > %s AND status = 'pending_payment'"
    last = conn.execute(f"SELECT max(reserved_until) {pending}", (first_order,)).fetchone()[0]
    if last is not None:
        wait = (last - conn.execute("SELECT now() at time zone 'utc'").fetchone()[0]).total_seconds() + 75
        print(f"  {conn.execute(f'SELECT count(*) {pending}', (first_order,)).fetchone()[0]} unpaid order(s); "
              f"waiting {max(wait, 0):.0f} s for their reservations to end and the expiry job to run")
        time.sleep(max(wait, 0))
    return conn.execute(f"SELECT count(*) {pending}", (first_order,)).fetchone()[0]


def _search_documents(conn, kind: str) -> int:
    return conn.execute("SELECT count(*) FROM search_documents WHERE doc_type = %s", (kind,)).fetchone()[0]


def reindex_all_notes_job(conn) -> Callable[[], bool]:
    """Remove every note from the index and enqueue one job that writes them all back (several seconds)."""
    from app import create_app
    from app.jobs.runner import enqueue

    expected = conn.execute("SELECT count(*) FROM posts p JOIN users u ON u.id = p.author_id "
                            "WHERE p.status = 'published' AND u.suspended_at IS NULL").fetchone()[0]
    ids = [row[0] for row in conn.execute("SELECT id FROM posts ORDER BY id")]
    conn.execute("DELETE FROM search_documents WHERE doc_type = 'post'")
    app = create_app()
    with app.app_context():
        enqueue("app.search.indexing:index_documents", kind="post", ids=ids, with_dependents=False)

    def done() -> bool:
        return _search_documents(conn, "post") == expected

    return done


def expire_groups_job(conn) -> Callable[[], bool]:
    """Let every open group's deadline pass (moved into the past: time passing) and enqueue the expiry job;
    done when each of them expired and each member who had paid was refunded exactly once."""
    from app import create_app
    from app.jobs.runner import enqueue_urgent

    if conn.execute("SELECT count(*) FROM groupbuy_groups WHERE state = 'open'").fetchone()[0] < 3:
        load.TASKS[:] = [(1, load.group_buy)]  # shoppers open and join groups first, so some are open and paid
        load.run_phase(HOST, load.Shopper, 8, 45, 4)
        load.TASKS[:] = MIX
    groups = [row[0] for row in conn.execute("SELECT id FROM groupbuy_groups WHERE state = 'open' ORDER BY id")]
    paid = [row[0] for row in conn.execute("SELECT order_id FROM groupbuy_members WHERE state = 'paid' "
                                           "AND group_id = ANY(%s)", (groups,))]
    print(f"  group-buy expiry: {len(groups)} open group(s) with {len(paid)} paid member(s) become overdue")
    conn.execute("UPDATE groupbuy_groups SET deadline = (now() at time zone 'utc') - interval '1 minute' "
                 "WHERE id = ANY(%s)", (groups,))
    app = create_app()
    with app.app_context():
        enqueue_urgent("app.groupbuy.services:expire_overdue_groups")

    def done() -> bool:
        open_left = conn.execute("SELECT count(*) FROM groupbuy_groups WHERE id = ANY(%s) AND state <> 'expired'",
                                 (groups,)).fetchone()[0]
        refunds = conn.execute("SELECT o.id, count(r.id) FROM unnest(%s::int[]) AS o(id) "
                               "LEFT JOIN refunds r ON r.order_id = o.id GROUP BY o.id", (paid,)).fetchall()
        return bool(groups) and not open_left and all(count == 1 for _order, count in refunds)

    return done


# (name, start(conn) -> check() -> bool, seconds to wait after a worker picked the job up before killing it)
JOB_FAULTS: list[tuple[str, Callable, float]] = [
    ("search re-indexing of every note", reindex_all_notes_job, 1.0),
    ("group-buy expiry", expire_groups_job, 0.2),
]


def kill_worker(users: int) -> bool:
    import redis
    from rq import Worker

    conn = load.psycopg.connect(load.database_url(), autocommit=True)
    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    results = []
    for name, start, mid_job in JOB_FAULTS:
        check = start(conn)
        victim = None
        deadline = time.time() + 60
        while victim is None and time.time() < deadline:  # the worker that picked the job up
            live = {_pid_of("worker1"), _pid_of("worker2")}  # a killed worker's registration lingers in Redis
            victim = next((worker for worker in Worker.all(connection=connection)
                           if worker.pid in live and worker.get_current_job_id()), None)
            if victim is None:
                time.sleep(0.05)
        if victim is None:
            results.append(verdict(False, f"{name}: no worker picked the job up within 60 s"))
            continue
        running = victim.get_current_job_id()
        time.sleep(mid_job)
        still = Worker.find_by_key(victim.key, connection=connection)
        results.append(verdict(bool(still and still.get_current_job_id() == running),
                               f"{name}: the worker was killed while the job ran"))
        number = next(n for n in (1, 2) if _pid_of(f"worker{n}") == victim.pid)
        rehearsal("kill-worker", str(number))
        print(f"  {name}: killed worker {number} (pid {victim.pid}) mid-job"
              + (f"; the index holds {_search_documents(conn, 'post')} notes" if "search" in name else ""))
        rehearsal("start-worker", str(number))  # what systemd's Restart=always does
        started = time.time()
        while not check() and time.time() - started < 400:
            time.sleep(2)
        results.append(verdict(check(), f"{name}: retried and completed once, {time.time() - started:.0f} s after "
                                        "the kill (RQ notices an abandoned job after its heartbeat lapses)"))
    failed = sum(connection.zcard(f"rq:failed:{name}") for name in WORKER_QUEUES)
    results.append(verdict(True, f"{failed} job(s) in the failed registry"))
    return all(results)


def _pid_of(name: str) -> int | None:
    path = Path(os.environ.get("REHEARSAL_DIR", "/tmp/tastemaker-rehearsal")) / "run" / f"{name}.pid"
    return int(path.read_text()) if path.exists() else None


def restart_pg(users: int) -> bool:
    moments = {}

    def fault(started):
        time.sleep(20)
        moments["down"] = time.time() - started
        rehearsal("stop-pg")
        time.sleep(10)
        rehearsal("start-pg")
        moments["up"] = time.time() - started

    phase = run_phase(HOST, Shopper, users, 70, 10, during=fault)
    report(phase.stats, phase.statuses, phase.seconds)
    down, up = moments["down"], moments["up"]
    outage = [(status, ms) for t, _n, status, ms in phase.timeline if down + 1 <= t < up]
    recovered = window(phase.timeline, up + 10, phase.seconds)
    slowest = max((ms for _s, ms in outage), default=0)
    print(f"  down {down:.0f}–{up:.0f} s; during: {dict(Counter(s for s, _ in outage))}; after: {dict(recovered)}")
    return all([
        verdict(all(status in (200, 302, 503) for status, _ in outage), "during the outage: 503s (or what needs "
                "no database), never a 500 or 502"),
        verdict(slowest < 6000, f"failing fast: slowest answer during the outage {slowest:.0f} ms"),
        verdict(not any(not isinstance(s, int) or s >= 500 for s in recovered),
                "recovered by itself 10 s after the database returned"),
    ])


def stop_redis(users: int) -> bool:
    import redis

    moments = {}

    def fault(started):
        time.sleep(20)
        moments["down"] = time.time() - started
        rehearsal("stop-redis")
        time.sleep(20)
        rehearsal("start-redis")
        moments["up"] = time.time() - started

    phase = run_phase(HOST, Shopper, users, 70, 10, during=fault)
    report(phase.stats, phase.statuses, phase.seconds)
    errors = [(t, s) for t, _n, s, _ms in phase.timeline if not isinstance(s, int) or s >= 500]
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.time() + 120
    def waiting() -> int:
        return sum(client.llen(f"rq:queue:{name}") for name in WORKER_QUEUES)

    while waiting() and time.time() < deadline:
        time.sleep(1)
    print(f"  Redis down {moments['down']:.0f}–{moments['up']:.0f} s; server errors: {errors[:10]}")
    return all([
        verdict(not errors, "pages kept serving: no server error while Redis was away"),
        verdict(waiting() == 0, "the job queues drained after Redis came back"),
    ])


def callbacks(users: int) -> bool:
    """Place orders as shoppers, then deliver each payment's callbacks out of order, twice, and late."""
    import gevent
    import requests

    conn = load.psycopg.connect(load.database_url(), autocommit=True)
    first = conn.execute("SELECT coalesce(max(id), 0) FROM payments").fetchone()[0]
    shoppers_buying()
    load.PAY_AFTER_CHECKOUT = False
    phase = run_phase(HOST, Shopper, users, 45, 10)
    load.PAY_AFTER_CHECKOUT = True
    report(phase.stats, phase.statuses, phase.seconds)
    created = conn.execute("SELECT id, amount_cents, currency FROM payments WHERE id > %s AND status = 'created'",
                           (first,)).fetchall()
    # Late: the orders were cancelled before the money arrived (what the expiry job does at the deadline),
    # through the shop's own service so their stock and coupons go back.
    late = {pid for pid, *_ in created[::3]}
    from app import create_app
    from app.core.clock import now as clock_now
    from app.core.uow import unit_of_work
    from app.shop.orders import cancel_unpaid_orders

    with create_app().app_context():
        for pid in late:
            with unit_of_work():
                cancel_unpaid_orders(pid, actor_id=None, note="fault scenario: reservation expired", now=clock_now(),
                                     overdue_only=False)
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))

    def deliver(pid, amount, currency, status):
        body = json.dumps({"payment_id": pid, "status": status, "amount_cents": amount, "currency": currency,
                           "provider_ref": f"fault-{uuid.uuid4().hex[:12]}"}, sort_keys=True,
                          separators=(",", ":")).encode()
        return session.post(f"{HOST}/payments/callback/sandbox", data=body, headers={
            "Content-Type": "application/json", "X-Sandbox-Signature": load.sandbox_signature(body)}).status_code

    jobs = []
    for pid, amount, currency in created:
        for _ in range(3):  # the same success three times at once
            jobs.append(gevent.spawn(deliver, pid, amount, currency, "succeeded"))
    gevent.joinall(jobs)
    declined_after = [deliver(pid, amount, currency, "failed") for pid, amount, currency in created]  # reordered
    statuses = Counter(job.value for job in jobs) + Counter(declined_after)
    rows = conn.execute("""
        SELECT p.id, p.status, p.refunded_cents, p.amount_cents,
               (SELECT count(*) FROM payment_callbacks c
                 WHERE c.payment_id = p.id AND c.outcome IN ('paid', 'refunded')),
               (SELECT count(*) FROM refunds r WHERE r.payment_id = p.id),
               (SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id
                 WHERE o.payment_id = p.id AND e.to_status = 'paid'),
               (SELECT count(*) FROM orders o WHERE o.payment_id = p.id)
        FROM payments p WHERE p.id = ANY(%s)""", ([pid for pid, *_ in created],)).fetchall()
    print(f"  {len(created)} payments, {len(late)} of them late; callback answers {dict(statuses)}")
    once = [r for r in rows if r[4] != 1]
    late_ok = [r for r in rows if r[0] in late and (r[5] != r[7] or r[2] != r[3] or r[6] != 0)]
    paid_ok = [r for r in rows if r[0] not in late and (r[1] != "succeeded" or r[6] < 1 or r[5] != 0)]
    return all([
        verdict(bool(created), "some checkouts were placed"),
        verdict(not any(s >= 500 for s in statuses), "no callback answered a server error"),
        verdict(not once, f"each payment applied exactly once {once[:3]}"),
        verdict(not paid_ok, f"on-time payments: succeeded, orders paid, nothing refunded {paid_ok[:3]}"),
        verdict(not late_ok, f"late payments: refunded in full, one refund per order, no order paid {late_ok[:3]}"),
    ])


SCENARIOS: dict[str, Callable[[int], bool]] = {
    "kill-app": kill_app, "kill-worker": kill_worker, "restart-pg": restart_pg, "stop-redis": stop_redis,
    "callbacks": callbacks,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", default=["all"])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    names = list(SCENARIOS) if args.scenarios == ["all"] else args.scenarios
    failed = []
    for name in names:
        conn = prepare()
        before = Snapshot(dict(conn.execute(load.HELD_SQL).fetchall()))
        load.TASKS[:] = MIX
        print(f"\n=== {name} ({args.users} shoppers; load average {os.getloadavg()[0]:.1f}) ===")
        ok = SCENARIOS[name](args.users)
        conn = load.psycopg.connect(load.database_url(), autocommit=True)  # the scenario may have restarted it
        load.wait_for_quiet(conn)
        print("  invariants:")
        ok = not check_invariants(conn, before) and ok
        print(f"=== {name}: {'passed' if ok else 'FAILED'} ===")
        if not ok:
            failed.append(name)
    print(f"\n{len(names) - len(failed)} of {len(names)} scenarios passed" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
