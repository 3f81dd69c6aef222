"""Following-feed latency at scale on PostgreSQL, through the real service (app.feeds.services).

Generates (seeded) 100k users, 2M posts and 5M power-law follows — including readers who follow
exactly 5 000 people — into a throwaway database, then times first pages and cursor pages of
`following_feed` for readers across the whole range of followee counts and prints p50/p99.

    .venv/bin/python bench/feeds.py                     # full size (about 3–5 minutes)
    .venv/bin/python bench/feeds.py --scale 0.05        # quick look
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the server.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.feeds.services import following_feed  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EPOCH = datetime(2026, 1, 1)
HEAVY_FOLLOWEES = 5_000


def copy_rows(conn, table: str, columns: list[str], lines) -> None:
    """COPY text lines (already tab-separated) into table, in chunks."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for count, line in enumerate(lines, 1):
            buffer.write(line)
            if count % 200_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def generate(conn, users: int, posts: int, follows: int, rng: np.random.Generator) -> np.ndarray:
    """Fill users, communities, posts and follows; return the follower out-degree per user."""
    t0 = time.perf_counter()
    created = EPOCH.isoformat(sep=" ")
    copy_rows(conn, "users", ["id", "username", "username_key", "email", "email_key", "password_hash",
                              "display_name", "bio", "is_admin", "is_creator", "is_merchant", "is_demo",
                              "invite_code", "created_at", "follower_count", "following_count",
                              "likes_received_count"],
              (f"{i}\tu{i}\tu{i}\tu{i}@b.test\tu{i}@b.test\tx\tUser {i}\t\tf\tf\tf\tf\ti{i}\t{created}\t0\t0\t0\n"
               for i in range(1, users + 1)))
    copy_rows(conn, "communities", ["id", "slug", "name", "description", "vertical", "rules_md", "owner_id",
                                    "member_count", "post_count", "created_at"],
              (f"{c}\tc{c}\tCommunity {c}\t\toutdoor\t\t1\t0\t0\t{created}\n" for c in range(1, 9)))
    # Authors: Zipf-like activity, so a few creators write most posts.
    author_weights = 1.0 / np.arange(1, users + 1) ** 0.9
    author_weights /= author_weights.sum()
    authors = rng.permutation(users)[rng.choice(users, size=posts, p=author_weights)] + 1
    seconds = rng.integers(0, 365 * 86_400, size=posts)
    communities = rng.integers(1, 9, size=posts)
    likes = rng.zipf(2.0, size=posts) - 1
    hot = np.log10(np.maximum(1, likes)) + (seconds + (EPOCH.timestamp() - 1_700_000_000)) / 45_000

    stamps = np.datetime_as_string(np.datetime64(EPOCH, "s") + seconds.astype("timedelta64[s]")).tolist()
    communities_, authors_, likes_, hot_ = (a.tolist() for a in (communities, authors, likes, hot))

    def post_lines():
        for i in range(posts):
            yield (f"{i + 1}\t{communities_[i]}\t{authors_[i]}\tnote\tPost {i + 1}\tbody\t<p>body</p>\tpublished"
                   f"\tf\t{likes_[i]}\t0\t0\t{hot_[i]:.6f}\t{stamps[i]}\n")

    copy_rows(conn, "posts", ["id", "community_id", "author_id", "kind", "title", "body_md", "body_html", "status",
                              "comments_locked", "like_count", "save_count", "comment_count", "hot_score",
                              "created_at"], post_lines())
    print(f"  users + posts: {time.perf_counter() - t0:.1f}s", flush=True)

    # Follows: out-degree log-normal (median ~20), followee popularity power-law; some 5 000-followee readers.
    t0 = time.perf_counter()
    most = min(HEAVY_FOLLOWEES, users - 1)
    out_degree = np.minimum(rng.lognormal(3.0, 1.2, size=users).astype(np.int64) + 1, most)
    heavy = rng.choice(users, size=max(5, users // 2_000), replace=False)
    out_degree = np.minimum(most, np.maximum(1, out_degree * (follows / out_degree.sum()))).astype(np.int64)
    out_degree[heavy] = most
    popularity = 1.0 / np.arange(1, users + 1) ** 1.1
    popularity /= popularity.sum()
    popular_order = rng.permutation(users)
    # Popular followees repeat, so draw more than needed and trim each reader to their degree after dedup.
    followers = np.repeat(np.arange(users), (out_degree * 1.6).astype(np.int64) + 2)
    followees = popular_order[rng.choice(users, size=followers.size, p=popularity)]
    ordinary = ~np.isin(followers, heavy)
    followers, followees = followers[ordinary], followees[ordinary]
    keep = followers != followees
    pairs = np.unique(followers[keep].astype(np.int64) * users + followees[keep])
    pairs = pairs[rng.permutation(pairs.size)]  # trim a random subset, not the lowest ids
    owner = pairs // users
    order = np.argsort(owner, kind="stable")
    pairs, owner = pairs[order], owner[order]
    rank_in_owner = np.arange(pairs.size) - np.searchsorted(owner, owner)
    pairs = pairs[rank_in_owner < out_degree[owner]]
    for u in heavy:  # exactly 5 000 distinct followees for the heavy readers
        picks = rng.choice(np.delete(np.arange(users), u), size=most, replace=False)
        pairs = np.concatenate([pairs, u * users + picks])
    pairs = np.sort(pairs)
    follower_ids, followee_ids = pairs // users + 1, pairs % users + 1
    copy_rows(conn, "follows", ["follower_id", "followee_id", "created_at"],
              (f"{a}\t{b}\t{created}\n" for a, b in zip(follower_ids.tolist(), followee_ids.tolist(), strict=True)))
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET following_count = f.n FROM (SELECT follower_id, count(*) n FROM follows "
                    "GROUP BY follower_id) f WHERE users.id = f.follower_id")
        cur.execute("SELECT setval(pg_get_serial_sequence('users','id'), (SELECT max(id) FROM users))")
        cur.execute("SELECT setval(pg_get_serial_sequence('posts','id'), (SELECT max(id) FROM posts))")
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"  follows: {pairs.size:,} rows in {time.perf_counter() - t0:.1f}s", flush=True)
    return np.bincount(follower_ids, minlength=users + 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100k users / 2M posts / 5M follows")
    parser.add_argument("--samples", type=int, default=300, help="readers timed")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    users, posts, follows = int(100_000 * args.scale), int(2_000_000 * args.scale), int(5_000_000 * args.scale)
    name = f"tastemaker_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url.replace("postgresql://", "postgresql+psycopg://")
        app = create_app(config)
        with app.app_context():
            db.create_all()
        print(f"Generating {users:,} users, {posts:,} posts, ~{follows:,} follows (seed {args.seed})…", flush=True)
        with psycopg.connect(url) as conn:
            degree = generate(conn, users, posts, follows, np.random.default_rng(args.seed))
        rng = np.random.default_rng(args.seed + 1)
        heavy = np.flatnonzero(degree >= min(HEAVY_FOLLOWEES, users - 1))
        ordinary = np.flatnonzero(degree > 0)
        sample = np.concatenate([rng.choice(ordinary, size=args.samples, replace=False), heavy])
        first, second, heavy_first = [], [], []
        heavy_set = set(heavy.tolist())
        with app.app_context():
            following_feed(db.session.get(User, int(sample[0])))  # warm the pool and caches
            for user_id in sample.tolist():
                viewer = db.session.get(User, user_id)
                t0 = time.perf_counter()
                page = following_feed(viewer)
                elapsed = (time.perf_counter() - t0) * 1000
                (heavy_first if user_id in heavy_set else first).append(elapsed)
                if page.next_cursor:
                    t0 = time.perf_counter()
                    following_feed(viewer, page.next_cursor)
                    second.append((time.perf_counter() - t0) * 1000)
                db.session.expunge_all()
            db.engine.dispose()
        print(f"\nFollowing feed on PostgreSQL ({users:,} users, {posts:,} posts, {int(degree.sum()):,} follows),"
              " server time through the service, ms:")
        print(f"{'readers':<34}{'n':>6}{'p50':>9}{'p99':>9}{'max':>9}")
        for label, values in (("first page, 1–4 999 followees", first), ("next page (cursor)", second),
                              (f"first page, {HEAVY_FOLLOWEES} followees", heavy_first)):
            if values:
                print(f"{label:<34}{len(values):>6}{statistics.median(values):>9.1f}"
                      f"{percentile(values, 99):>9.1f}{max(values):>9.1f}")
    finally:
        if not args.keep:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
