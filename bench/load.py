"""Mixed load through nginx against the rehearsal (deploy/rehearsal.sh), then the invariants on the database.

    deploy/rehearsal.sh up
    eval "$(deploy/rehearsal.sh env)"          # DATABASE_URL and SECRET_KEY of the rehearsal
    .venv/bin/python bench/load.py --minutes 10 --users 40

Locust (headless, as a library) runs virtual shoppers: each logs in as a seeded member (password
tastemaker-demo), from a loopback address of its own (127.0.0.N, so per-address limits see distinct
clients, through nginx's X-Forwarded-For), and then picks tasks by weight from TASKS: For you, Following
and community feeds with their cursors, notes, products, likes, saves, comments, follows, searches in
English and Chinese, adding to the cart, checking out (sometimes with a coupon), and paying by playing the
sandbox provider: a signed server-to-server callback, sometimes sent twice. After the run it measures
/healthz alone for a few seconds (the ceiling to compare the mix with), prints per-endpoint rps and
p50/p99, responses by status, and checks every INVARIANT on the database (exit 1 if one fails or any
answer was a 5xx).

Group-buys and share links are in the mix: a shopper opens a group-buy product, joins one of its open
groups or opens a new one (paying like any order), makes a share link for a product, or follows someone's
link and sometimes buys what it points to (an attributed order). The invariants then include the groups'
seat and payment counters, filled and expired groups' members, and the commission ledger.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import os
import random
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402
import psycopg  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

PASSWORD = "tastemaker-demo"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
MORE = re.compile(r'href="([^"]*[?&]cursor=[^"]*)"')
CHECKOUT_TOKEN = re.compile(r'name="checkout_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="checkout_token"')
ADDRESS = re.compile(r'name="address_id"[^>]*value="(\d+)"')
ADDRESS_OPTION = re.compile(r'<select name="address_id"><option value="(\d+)"')
SKU_RADIO = re.compile(r'name="sku_id" value="(\d+)" (?!disabled)')
SKU_OPTION = re.compile(r'<select name="sku_id"><option value="(\d+)"')
GROUP_LINK = re.compile(r'href="/g/(\d+)"')
SHARE_CODE = re.compile(r'/s/([A-Za-z0-9_-]{6,16})(?=["<\s])')
PAY_REDIRECT = re.compile(r"/pay/sandbox/(\d+)")
SEARCHES_EN = ["sunscreen", "hiking boots", "lipstick review", "camera", "coffee", "tent", "serum spf50"]
SEARCHES_ZH = ["防晒", "口红", "露营", "咖啡", "面霜 推荐", "相机", "徒步 鞋"]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at the rehearsal's PostgreSQL: eval \"$(deploy/rehearsal.sh env)\"")
    return url.replace("postgresql+psycopg://", "postgresql://")


def sandbox_signature(body: bytes) -> str:
    """What the sandbox provider signs callbacks with (app/shop/payments.py SandboxProvider): we play it."""
    key = hmac.new(os.environ["SECRET_KEY"].encode(), b"tastemaker:sandbox-payments", hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


# --- the world the shoppers move in, read once before the run ----------------------------------------------

@dataclass
class World:
    usernames: list[str]
    post_ids: list[int]
    product_ids: list[int]
    sku_ids: list[int]
    community_slugs: list[str]
    coupons: list[str]
    campaign_products: list[int]
    share_codes: list[str]
    next_user: int = 0
    addresses: list[str] = field(default_factory=lambda: [f"127.0.0.{n}" for n in range(2, 250)])


def load_world(conn) -> World:
    q = conn.execute
    return World(
        usernames=[r[0] for r in q("SELECT username FROM users WHERE NOT is_admin AND suspended_at IS NULL "
                                   "AND deleted_at IS NULL AND username NOT IN ('admin', 'moderator') "
                                   "ORDER BY id")],
        post_ids=[r[0] for r in q("SELECT id FROM posts WHERE status = 'published' ORDER BY id")],
        product_ids=[r[0] for r in q("SELECT id FROM products WHERE status = 'active' ORDER BY id")],
        sku_ids=[r[0] for r in q("SELECT s.id FROM skus s JOIN products p ON p.id = s.product_id "
                                 "JOIN shops h ON h.id = p.shop_id WHERE s.is_active AND s.stock > 0 "
                                 "AND p.status = 'active' AND h.status = 'approved' ORDER BY s.id")],
        community_slugs=[r[0] for r in q("SELECT slug FROM communities ORDER BY id")],
        coupons=[r[0] for r in q("SELECT code FROM coupons WHERE (ends_at IS NULL OR ends_at > now()) "
                                 "AND (starts_at IS NULL OR starts_at <= now())")],
        campaign_products=[r[0] for r in q("SELECT DISTINCT c.product_id FROM groupbuy_campaigns c "
                                           "WHERE c.status = 'active' AND c.starts_at <= now() at time zone 'utc' "
                                           "AND c.ends_at > now() at time zone 'utc' ORDER BY 1")],
        share_codes=[r[0] for r in q("SELECT code FROM share_links WHERE product_id IS NOT NULL ORDER BY id")],
    )


WORLD: World | None = None
PAY_AFTER_CHECKOUT = True  # bench/faults.py's callbacks scenario places orders and delivers their callbacks itself
PAYMENT_LOOKUP: Callable[[int], tuple[int, str] | None] | None = None


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a given loopback address, so nginx (and the app behind it) sees a distinct client."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


# --- tasks: (weight, function(user)) ------------------------------------------------------------------------

def browse_feed(user: Shopper, path: str, name: str, pages: int = 2) -> None:
    url = path
    for page in range(pages):
        response = user.client.get(url, name=f"{name}{' (cursor)' if page else ''}")
        more = MORE.search(response.text or "")
        if response.status_code != 200 or not more:
            return
        url = html.unescape(more.group(1))


def for_you(user):
    browse_feed(user, "/", "GET / (for you)")


def following(user):
    browse_feed(user, "/following", "GET /following")


def community(user):
    slug = random.choice(WORLD.community_slugs)
    browse_feed(user, f"/c/{slug}?tab={random.choice(['hot', 'new', 'top'])}", "GET /c/<slug>")


def open_note(user):
    user.client.get(f"/p/{random.choice(WORLD.post_ids)}", name="GET /p/<id>")


def open_product(user):
    user.client.get(f"/products/{random.choice(WORLD.product_ids)}", name="GET /products/<id>")


def like(user):
    post = random.choice(WORLD.post_ids)
    action = random.choice(["like", "unlike"])
    user.post_form(f"/p/{post}/{action}", {}, name=f"POST /p/<id>/{action}")


def save(user):
    post = random.choice(WORLD.post_ids)
    action = random.choice(["save", "unsave"])
    user.post_form(f"/p/{post}/{action}", {}, name=f"POST /p/<id>/{action}")


def comment(user):
    post = random.choice(WORLD.post_ids)
    user.post_form(f"/p/{post}/comments", {"body": random.choice(["Love this!", "很好用，推荐", "Where to buy?"])},
                   name="POST /p/<id>/comments")


def follow(user):
    other = random.choice(WORLD.usernames)
    if other != user.username:
        action = random.choice(["follow", "unfollow"])
        user.post_form(f"/u/{other}/{action}", {}, name=f"POST /u/<name>/{action}")


def search(user):
    words = random.choice(SEARCHES_EN if random.random() < 0.5 else SEARCHES_ZH)
    kind = random.choice(["posts", "posts", "products"])
    user.client.get("/search", params={"q": words, "type": kind}, name=f"GET /search ({kind})")


def suggest(user):
    user.client.get("/search/suggest", params={"q": random.choice(SEARCHES_EN + SEARCHES_ZH)[:2]},
                    name="GET /search/suggest")


def add_to_cart(user):
    user.post_form("/cart/add", {"sku_id": random.choice(WORLD.sku_ids), "quantity": random.choice([1, 1, 2])},
                   name="POST /cart/add")


def check_out_and_pay(user, add: bool = True):
    """Cart → checkout page → place (coupon 1 time in 3) → play the provider's callback (1 in 10 twice)."""
    if add:
        add_to_cart(user)
    page = user.client.get("/checkout", name="GET /checkout")
    token = CHECKOUT_TOKEN.search(page.text or "")
    address = ADDRESS.search(page.text or "")
    if page.status_code != 200 or not token or not address:
        return
    coupon = random.choice(WORLD.coupons) if WORLD.coupons and random.random() < 0.33 else ""
    with user.client.post("/checkout", data={
            "csrf_token": user.csrf, "address_id": address.group(1), "coupon": coupon, "action": "place",
            "checkout_token": token.group(1) or token.group(2)}, name="POST /checkout",
            allow_redirects=False, catch_response=True) as placed:
        if placed.status_code in (409, 422, 429):  # out of stock, a refused coupon, a hold limit: a user's no
            placed.success()
    pay_if_sent(user, placed)


def pay_if_sent(user, response) -> None:
    """When a placed order (or a group-buy seat) redirected to the sandbox's pay page, play its callback."""
    paid = PAY_REDIRECT.search(response.headers.get("Location", "")) if response.status_code == 302 else None
    if paid and PAY_AFTER_CHECKOUT:
        pay(user, int(paid.group(1)), twice=random.random() < 0.1)


def pay(user, payment_id: int, twice: bool = False) -> None:
    amount = PAYMENT_LOOKUP(payment_id)
    if amount is None:
        return
    body = json.dumps({"payment_id": payment_id, "status": "succeeded", "amount_cents": amount[0],
                       "currency": amount[1], "provider_ref": f"load-{uuid.uuid4().hex[:16]}"},
                      sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-Sandbox-Signature": sandbox_signature(body)}
    for _ in range(2 if twice else 1):
        user.client.post("/payments/callback/sandbox", data=body, headers=headers,
                         name="POST /payments/callback/sandbox")


def orders(user):
    user.client.get("/orders", name="GET /orders")


def group_buy(user):
    """A group-buy product: join one of its open groups (2 in 3 when there is one) or open a new group."""
    if not WORLD.campaign_products:
        return
    product_id = random.choice(WORLD.campaign_products)
    page = user.client.get(f"/products/{product_id}", name="GET /products/[id]")
    groups = GROUP_LINK.findall(page.text or "")
    if groups and random.random() < 0.67:
        group_id = random.choice(groups)
        group = user.client.get(f"/g/{group_id}", name="GET /g/[id]")
        sku, address = SKU_OPTION.search(group.text or ""), ADDRESS_OPTION.search(group.text or "")
        if group.status_code != 200 or not sku or not address:
            return  # full, over, or already a member: the page offers no join form
        joined = user.post_form(f"/g/{group_id}/join", {"sku_id": sku.group(1), "quantity": 1,
                                                        "address_id": address.group(1)}, name="POST /g/[id]/join")
    else:
        sku, address = SKU_OPTION.search(page.text or ""), ADDRESS_OPTION.search(page.text or "")
        if not sku or not address:
            return  # the campaign ended, or this shopper reached its per-person limit
        joined = user.post_form(f"/products/{product_id}/groups", {"sku_id": sku.group(1), "quantity": 1,
                                                                   "address_id": address.group(1)},
                                name="POST /products/[id]/groups")
    pay_if_sent(user, joined)


def make_share_link(user):
    """The share sheet for a product: make (or find) the shopper's link and remember its code for others."""
    product_id = random.choice(WORLD.product_ids)
    made = user.post_form(f"/s/new?product={product_id}", {}, name="POST /s/new")
    if made.status_code in (302, 303):
        sheet = user.client.get(made.headers["Location"], name="GET /s/new")
        code = SHARE_CODE.search(sheet.text or "")
        if code and code.group(1) != "new":
            WORLD.share_codes.append(code.group(1))


def follow_share_link(user):
    """Someone's link: open what it points to and, 1 time in 3, buy it (an order attributed to the sharer)."""
    if not WORLD.share_codes:
        return
    landed = user.client.get(f"/s/{random.choice(WORLD.share_codes)}", name="GET /s/[code]")
    sku = SKU_RADIO.search(landed.text or "")
    if landed.status_code != 200 or not sku or random.random() >= 0.33:
        return
    user.post_form("/cart/add", {"sku_id": sku.group(1), "quantity": 1}, name="POST /cart/add")
    check_out_and_pay(user, add=False)


TASKS: list[tuple[int, Callable]] = [
    (10, for_you), (4, following), (6, community), (12, open_note), (6, open_product), (4, like), (2, save),
    (1, comment), (1, follow), (5, search), (2, suggest), (3, add_to_cart), (2, check_out_and_pay), (1, orders),
    (2, group_buy), (1, make_share_link), (2, follow_share_link),
]


class Shopper(HttpUser):
    wait_time = between(0.5, 2.5)

    def on_start(self):
        index = WORLD.next_user
        WORLD.next_user += 1
        self.username = WORLD.usernames[index % len(WORLD.usernames)]
        adapter = SourceAddressAdapter(WORLD.addresses[index % len(WORLD.addresses)], pool_maxsize=4)
        self.client.mount("http://", adapter)
        # A phone's browser, as shoppers have: share-link clicks from python-requests are counted as a bot's
        self.client.headers["User-Agent"] = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                                             "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148")
        page = self.client.get("/login", name="GET /login")
        self.csrf = CSRF.search(page.text).group(1)
        self.client.post("/login", data={"login": self.username, "password": PASSWORD, "csrf_token": self.csrf},
                         name="POST /login")
        self.csrf = CSRF.search(self.client.get("/cart", name="GET /cart").text).group(1)
        self.client.post("/addresses", data={"csrf_token": self.csrf, "recipient_name": "Load Test",
                                             "phone": "13800000000", "line1": "1 Bench Road",
                                             "region": "Shanghai", "postal_code": "200000", "next": "/cart"},
                         name="POST /addresses")

    def post_form(self, path: str, data: dict, name: str):
        with self.client.post(path, data={"csrf_token": self.csrf, **data}, name=name, catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code in (302, 303, 200, 409, 422):
                response.success()
            return response

    @task
    def act(self):
        weights, actions = zip(*TASKS, strict=True)
        random.choices(actions, weights)[0](self)


class Prober(HttpUser):
    """/healthz alone, as fast as it answers: the ceiling the mix is compared with."""

    wait_time = between(0, 0)

    @task
    def healthz(self):
        self.client.get("/healthz", name="GET /healthz (alone)")


# --- invariants on the database: (name, SQL returning offending rows) ----------------------------------------

@dataclass
class Snapshot:
    """Stock plus units held by live orders, per SKU, before the run (the sum must not change)."""

    held: dict[int, int]


# Units an order holds: what it bought, less what a refund before shipping put back on the shelf (a refund after
# shipping returns no stock: app/shop/refunds.py).
HELD_SQL = """
SELECT s.id, s.stock + COALESCE(SUM(ol.quantity - COALESCE((
    SELECT SUM(rl.quantity) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
    WHERE rl.order_line_id = ol.id AND (o.shipped_at IS NULL OR r.created_at < o.shipped_at)), 0))
  FILTER (WHERE o.status <> 'cancelled'), 0)
FROM skus s LEFT JOIN order_lines ol ON ol.sku_id = s.id LEFT JOIN orders o ON o.id = ol.order_id
GROUP BY s.id
"""

INVARIANTS: list[tuple[str, str]] = [
    ("no order is paid twice",
     "SELECT order_id, count(*) FROM order_events WHERE to_status = 'paid' GROUP BY order_id HAVING count(*) > 1"),
    ("no payment is recorded paid twice",
     "SELECT payment_id, count(*) FROM payment_callbacks WHERE outcome = 'paid' GROUP BY payment_id "
     "HAVING count(*) > 1"),
    ("a paid order has a succeeded payment",
     "SELECT o.id FROM orders o JOIN payments p ON p.id = o.payment_id WHERE o.status = 'paid' "
     "AND p.status NOT IN ('succeeded', 'partially_refunded', 'refunded')"),
    ("a payment's amount is its orders' totals",
     "SELECT p.id FROM payments p JOIN orders o ON o.payment_id = p.id GROUP BY p.id, p.amount_cents "
     "HAVING p.amount_cents <> SUM(o.total_cents)"),
    ("no refund exceeds its payment",
     "SELECT id FROM payments WHERE refunded_cents > amount_cents"),
    ("stock is never negative", "SELECT id FROM skus WHERE stock < 0"),
    ("no order is half-placed (every order has lines and a payment)",
     "SELECT o.id FROM orders o WHERE o.payment_id IS NULL OR NOT EXISTS "
     "(SELECT 1 FROM order_lines l WHERE l.order_id = o.id)"),
    ("no reservation outlives its window by more than 2 minutes (the expiry job runs every minute)",
     "SELECT id FROM orders WHERE status = 'pending_payment' AND reserved_until < (now() at time zone 'utc') "
     "- interval '2 minutes'"),
    ("coupon uses equal redemptions held or consumed",
     "SELECT c.id FROM coupons c WHERE c.total_uses IS NOT NULL AND c.total_uses - c.uses_left <> "
     "(SELECT count(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id AND r.status IN ('reserved', 'consumed'))"),
    ("per-user coupon uses equal that user's redemptions",
     "SELECT u.coupon_id, u.user_id FROM coupon_user_uses u WHERE u.uses <> (SELECT count(*) FROM coupon_redemptions r "
     "WHERE r.coupon_id = u.coupon_id AND r.user_id = u.user_id AND r.status IN ('reserved', 'consumed'))"),
    ("like counts equal likes",
     "SELECT p.id FROM posts p WHERE p.like_count <> (SELECT count(*) FROM likes l WHERE l.post_id = p.id)"),
    ("save counts equal savers",
     "SELECT p.id FROM posts p WHERE p.save_count <> "
     "(SELECT count(DISTINCT s.user_id) FROM saves s WHERE s.post_id = p.id)"),
    ("comment counts equal published comments",
     "SELECT p.id FROM posts p WHERE p.comment_count <> "
     "(SELECT count(*) FROM comments c WHERE c.post_id = p.id AND c.status = 'published')"),
    ("follower counts equal follows",
     "SELECT u.id FROM users u WHERE u.follower_count <> (SELECT count(*) FROM follows f WHERE f.followee_id = u.id) "
     "OR u.following_count <> (SELECT count(*) FROM follows f WHERE f.follower_id = u.id)"),
    # Group-buys (app/groupbuy): one seat per membership, counters equal their rows, and every group that ended
    # ended consistently.
    ("a live group's seats equal its seat-holding members",
     "SELECT g.id FROM groupbuy_groups g WHERE g.state IN ('pending', 'open') AND g.seats_taken <> "
     "(SELECT count(*) FROM groupbuy_members m WHERE m.group_id = g.id AND m.state IN ('pending', 'paid'))"),
    ("a group's paid count equals its members who paid (and were not refunded for leaving)",
     "SELECT g.id FROM groupbuy_groups g WHERE g.paid_count <> "
     "(SELECT count(*) FROM groupbuy_members m WHERE m.group_id = g.id AND m.state IN ('paid', 'refunded'))"),
    ("no group has more seats or payments than its size",
     "SELECT id FROM groupbuy_groups WHERE seats_taken > size OR paid_count > size"),
    ("a filled group has exactly its size in paid members, none refunded, none on hold",
     "SELECT g.id FROM groupbuy_groups g WHERE g.state = 'filled' AND (g.paid_count <> g.size OR EXISTS "
     "(SELECT 1 FROM groupbuy_members m JOIN orders o ON o.id = m.order_id WHERE m.group_id = g.id "
     "AND m.state = 'paid' AND (o.hold_reason IS NOT NULL "
     "OR EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id))))"),
    ("no member of an ended group still holds a seat or awaits a refund",
     "SELECT m.id FROM groupbuy_members m JOIN groupbuy_groups g ON g.id = m.group_id "
     "WHERE g.state IN ('expired', 'cancelled') AND (m.state IN ('pending', 'paid') "
     "OR (m.state = 'refunded' AND m.refund_state IS DISTINCT FROM 'done'))"),
    ("every refunded member's order is refunded exactly once",
     "SELECT m.id FROM groupbuy_members m WHERE m.state = 'refunded' AND (SELECT count(*) FROM refunds r "
     "WHERE r.order_id = m.order_id) <> 1"),
    ("no group stays open more than 2 minutes past its deadline (the expiry job runs every minute)",
     "SELECT id FROM groupbuy_groups WHERE state = 'open' AND deadline < (now() at time zone 'utc') "
     "- interval '2 minutes'"),
    # The commission ledger (app/affiliate): each attributed line's commission is what its rate gives, is
    # written once, and what was reversed, released and paid never exceeds it.
    ("a paid attributed line has its commission, once, at floor(rate x what the buyer paid)",
     "SELECT a.order_line_id FROM line_attributions a JOIN orders o ON o.id = a.order_id "
     "JOIN order_lines l ON l.id = a.order_line_id WHERE a.withheld = '' AND o.status NOT IN "
     "('pending_payment', 'cancelled') AND (SELECT coalesce(sum(e.amount_cents), 0) FROM commission_entries e "
     "WHERE e.order_line_id = a.order_line_id AND e.kind = 'pending') <> "
     "GREATEST(l.line_total_cents - l.discount_cents, 0) * a.rate_bps / 10000"),
    ("no commission without a paid attributed line for its beneficiary",
     "SELECT e.id FROM commission_entries e LEFT JOIN line_attributions a ON a.order_line_id = e.order_line_id "
     "AND a.beneficiary_id = e.beneficiary_id AND a.withheld = '' WHERE a.order_line_id IS NULL"),
    ("per line, what is pending is never negative, and reversals and payouts never exceed the commission",
     "SELECT order_line_id FROM commission_entries GROUP BY order_line_id, beneficiary_id HAVING "
     "sum(pending_cents) < 0 OR sum(paid_cents) > coalesce(sum(amount_cents) FILTER (WHERE kind = 'pending'), 0) "
     "OR -coalesce(sum(amount_cents) FILTER (WHERE kind = 'reversed'), 0) > "
     "coalesce(sum(amount_cents) FILTER (WHERE kind = 'pending'), 0)"),
]


def check_invariants(conn, before: Snapshot) -> list[str]:
    """Every invariant's verdict; returns the names of those that failed."""
    failed = []
    after = dict(conn.execute(HELD_SQL).fetchall())
    drift = {sku: (before.held.get(sku), total) for sku, total in after.items() if before.held.get(sku, total) != total}
    print(f"  {'ok  ' if not drift else 'FAIL'} stock conserved (stock + units in live orders, per SKU)"
          + (f": {list(drift.items())[:5]}" if drift else ""))
    if drift:
        failed.append("stock conserved")
    for name, sql in INVARIANTS:
        rows = conn.execute(sql).fetchall()
        print(f"  {'ok  ' if not rows else 'FAIL'} {name}" + (f": {rows[:5]}" if rows else ""))
        if rows:
            failed.append(name)
    return failed


def wait_for_quiet(conn, timeout: float = 120) -> None:
    """Let the job queue drain (search counts, notifications) before counting rows against counters."""
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        return
    client = redis.Redis.from_url(url)
    deadline = time.time() + timeout
    while time.time() < deadline and client.llen("rq:queue:default"):
        time.sleep(1)


# --- running and reporting ----------------------------------------------------------------------------------

@dataclass
class Phase:
    stats: object
    statuses: dict
    seconds: float
    timeline: list  # (seconds since start, "METHOD name", status or exception name, response ms)


def run_phase(host: str, user_class, users: int, seconds: float, spawn_rate: float,
              during: Callable[[float], None] | None = None) -> Phase:
    """Run `users` of `user_class` for `seconds`; `during(started)` runs beside them (a fault scenario)."""
    env = Environment(user_classes=[user_class], host=host)
    statuses: dict[str, Counter] = defaultdict(Counter)
    timeline: list = []
    started = time.time()

    def on_request(request_type, name, response_time, response_length, response=None, exception=None, **_):
        status = getattr(response, "status_code", None) or (type(exception).__name__ if exception else "?")
        statuses[f"{request_type} {name}"][status] += 1
        timeline.append((time.time() - started, f"{request_type} {name}", status, response_time))

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=spawn_rate)
    side = gevent.spawn(during, started) if during else None
    gevent.sleep(seconds)
    if side is not None:
        side.join()
    runner.quit()
    return Phase(env.stats, statuses, time.time() - started, timeline)


def report(stats, statuses, seconds: float) -> int:
    """Print the per-endpoint table; returns the number of 5xx answers and connection errors."""
    print(f"\n{'endpoint':<44} {'reqs':>7} {'rps':>7} {'p50 ms':>7} {'p99 ms':>7}  statuses")
    server_errors = 0
    for entry in sorted(stats.entries.values(), key=lambda e: -e.num_requests):
        key = f"{entry.method} {entry.name}"
        codes = statuses.get(key, Counter())
        server_errors += sum(n for code, n in codes.items() if not isinstance(code, int) or code >= 500)
        shown = " ".join(f"{code}:{n}" for code, n in sorted(codes.items(), key=lambda kv: str(kv[0])))
        print(f"{entry.name[:44]:<44} {entry.num_requests:>7} {entry.num_requests / seconds:>7.1f} "
              f"{entry.get_response_time_percentile(0.5):>7.0f} "
              f"{entry.get_response_time_percentile(0.99):>7.0f}  {shown}")
    total = stats.total
    print(f"{'all':<44} {total.num_requests:>7} {total.num_requests / seconds:>7.1f} "
          f"{total.get_response_time_percentile(0.5):>7.0f} {total.get_response_time_percentile(0.99):>7.0f}")
    by_status = Counter()
    for codes in statuses.values():
        by_status.update(codes)
    print("responses by status: " + ", ".join(
        f"{code}: {n}" for code, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))))
    return server_errors


def prepare():
    """Read the world and open the payment lookup; returns a connection for the invariants."""
    global WORLD, PAYMENT_LOOKUP
    conn = psycopg.connect(database_url(), autocommit=True)
    WORLD = load_world(conn)
    lookup = [psycopg.connect(database_url(), autocommit=True)]

    def payment_amount(payment_id: int):
        """What the provider knows of a payment; None while the database is away (a fault scenario)."""
        try:
            if lookup[0].closed:
                lookup[0] = psycopg.connect(database_url(), autocommit=True, connect_timeout=3)
            return lookup[0].execute("SELECT amount_cents, currency FROM payments WHERE id = %s",
                                     (payment_id,)).fetchone()
        except psycopg.OperationalError:
            lookup[0].close()
            return None

    PAYMENT_LOOKUP = payment_amount
    return conn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8480"))
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--healthz-seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    conn = prepare()
    before = Snapshot(dict(conn.execute(HELD_SQL).fetchall()))
    load_avg = os.getloadavg()
    print(f"{len(WORLD.usernames)} members, {len(WORLD.post_ids)} notes, {len(WORLD.sku_ids)} SKUs in stock, "
          f"{len(WORLD.coupons)} coupons; {args.users} shoppers for {args.minutes} min on {args.host}; "
          f"load average before {load_avg[0]:.1f}")
    mixed = run_phase(args.host, Shopper, args.users, args.minutes * 60, args.spawn_rate)
    print(f"\nMixed load: {mixed.seconds:.0f} s, load average after {os.getloadavg()[0]:.1f}")
    server_errors = report(mixed.stats, mixed.statuses, mixed.seconds)
    probe = run_phase(args.host, Prober, 8, args.healthz_seconds, 100)
    print(f"\n/healthz alone, 8 connections, {probe.seconds:.0f} s:")
    server_errors += report(probe.stats, probe.statuses, probe.seconds)
    wait_for_quiet(conn)
    print("\nInvariants:")
    failed = check_invariants(conn, before)
    print(f"\n{server_errors} server error(s); {len(failed)} invariant(s) failed.")
    return 1 if server_errors or failed else 0


if __name__ == "__main__":
    sys.exit(main())
