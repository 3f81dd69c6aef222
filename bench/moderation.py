"""Moderation through the service layer (app.moderation), on SQLite and/or PostgreSQL.

Seeds (rows written directly) one community with --posts notes by --users people (a tenth of them new
accounts), then measures, single-threaded:

- reports/s and p50/p99 per report (`reports.report`: snapshot, merge into the open item), --reports of them
  spread over a quarter of the notes, so most merge into an existing item;
- the moderator's queue, first page of 20 (`reports.queue` with its targets loaded): p50/p99 and queries;
- one action from the queue (`actions.take_action(remove_post)` with the item's version): p50/p99;
- the public log, first page of 30 (`log.modlog`): p50/p99;
- spam screening of one new note (`spam.screen_post`: near-duplicate check against the author's last 7 days
  and new accounts' last 24 hours, plus the own-product check): p50/p99.

    .venv/bin/python bench/moderation.py                         # SQLite in a temporary folder
    .venv/bin/python bench/moderation.py --db postgresql          # BENCH_DATABASE_URL, default local server
    .venv/bin/python bench/moderation.py --posts 50000 --reports 5000
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
from sqlalchemy import event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.communities.models import ROLE_MEMBER, ROLE_MODERATOR, ROLE_OWNER, Community, Membership  # noqa: E402
from app.config import TestConfig, normalise_database_url  # noqa: E402
from app.core.clock import now  # noqa: E402
from app.extensions import db  # noqa: E402
from app.moderation import actions, log, reports, spam  # noqa: E402
from app.moderation.models import QueueItem  # noqa: E402
from app.posts.models import Post  # noqa: E402

WORDS = ("sunscreen serum toner review texture scent spf daily oily dry sensitive skin glow matte dewy "
         "price value bottle pump travel summer winter beach office gentle strong fragrance free").split()


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def seed(users: int, posts: int, rng: random.Random) -> dict:
    moment = now()
    rows = [{"username": f"u{i}", "username_key": f"u{i}", "email": f"u{i}@bench.test",
             "email_key": f"u{i}@bench.test", "password_hash": "x", "display_name": "", "bio": "",
             "is_admin": False, "is_creator": False, "is_merchant": False, "is_demo": False,
             "invite_code": uuid.uuid4().hex[:12], "follower_count": 0, "following_count": 0,
             "likes_received_count": 0,
             "created_at": moment - timedelta(days=1 if i % 10 == 0 else 200)} for i in range(users)]
    db.session.execute(insert(User), rows)
    ids = list(db.session.scalars(select(User.id).order_by(User.id)))
    community = Community(slug="glow", name="Glow", vertical="beauty", owner_id=ids[0], member_count=len(ids),
                          post_count=posts)
    db.session.add(community)
    db.session.flush()
    db.session.execute(insert(Membership), [
        {"user_id": uid, "community_id": community.id, "joined_at": moment,
         "role": ROLE_OWNER if n == 0 else ROLE_MODERATOR if n == 1 else ROLE_MEMBER} for n, uid in enumerate(ids)])
    batch = []
    for n in range(posts):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        batch.append({"community_id": community.id, "author_id": rng.choice(ids[2:]), "kind": "note",
                      "title": f"Note {n} {rng.choice(WORDS)}", "body_md": words, "body_html": f"<p>{words}</p>",
                      "status": "published", "created_at": moment - timedelta(minutes=n),
                      "comments_locked": False, "discloses_own_product": False, "like_count": 0, "save_count": 0,
                      "comment_count": 0, "hot_score": 0.0})
        if len(batch) == 5000:
            db.session.execute(insert(Post), batch)
            batch = []
    if batch:
        db.session.execute(insert(Post), batch)
    db.session.commit()
    return {"users": ids, "community": community.id,
            "posts": list(db.session.scalars(select(Post.id).order_by(Post.id)))}


def run(url: str, args) -> None:
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.MEDIA_ROOT = Path(tempfile.mkdtemp()) / "media"
    config.SEARCH_INDEX_DIR = config.MEDIA_ROOT.parent / "search"
    app = create_app(config)
    rng = random.Random(args.seed)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        world = seed(args.users, args.posts, rng)
        print(f"  seeded {args.users} users, {args.posts} notes in {time.perf_counter() - started:.1f} s")
        users = {uid: db.session.get(User, uid) for uid in world["users"]}
        moderator = users[world["users"][1]]
        reporters = world["users"][2:]
        targets = world["posts"][: max(1, len(world["posts"]) // 4)]
        samples, filed = [], 0
        pairs = set()
        while len(pairs) < args.reports:
            pairs.add((rng.choice(reporters), rng.choice(targets)))
        t0 = time.perf_counter()
        for reporter_id, post_id in pairs:
            begin = time.perf_counter()
            try:
                reports.report(users[reporter_id], "post", post_id, rng.choice(["spam", "off_topic", "other"]))
                filed += 1
            except Exception:  # noqa: BLE001 - own notes are refused; counted as not filed
                db.session.rollback()
            samples.append(time.perf_counter() - begin)
        total = time.perf_counter() - t0
        items = db.session.query(QueueItem).filter_by(status="open").count()
        print(f"  report: {filed / total:.0f} reports/s, {ms(samples)} ({filed} filed into {items} open items)")

        queries = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args):
            queries.append(1)

        samples, per_page = [], []
        for _ in range(args.repeat):
            queries.clear()
            begin = time.perf_counter()
            page = reports.queue(moderator)
            samples.append(time.perf_counter() - begin)
            per_page.append(len(queries))
            db.session.expire_all()
        print(f"  queue page ({len(page.items)} items): {ms(samples)}, {max(per_page)} queries")

        samples = []
        for item in list(page.items)[: args.repeat]:
            begin = time.perf_counter()
            actions.take_action(moderator, "remove_post", target_kind="post", target_id=item.target_id,
                                reason="Spam or self-promotion", queue_item_id=item.id, seen_version=item.version)
            samples.append(time.perf_counter() - begin)
        print(f"  remove from the queue: {ms(samples)}")

        samples = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            log.modlog(db.session.get(Community, world["community"]), None)
            samples.append(time.perf_counter() - begin)
        print(f"  public log page: {ms(samples)}")

        samples = []
        for post_id in rng.sample(world["posts"], args.repeat):
            post = db.session.get(Post, post_id)
            begin = time.perf_counter()
            spam.screen_post(post)
            samples.append(time.perf_counter() - begin)
            db.session.rollback()
        print(f"  spam screening of a note: {ms(samples)}")
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="bench-moderation-")
        print("SQLite:")
        run(f"sqlite:///{folder}/bench.db", args)
    if args.db in ("postgresql", "both"):
        server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"bench_moderation_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL:")
            run(server.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
