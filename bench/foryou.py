"""For-you feed at scale on PostgreSQL: server time through the service, and throughput under gunicorn.

Generates (seeded) 100k users, 1M posts in 8 communities (power-law authors), ~3M power-law follows,
memberships, ~5M likes and ~500k saves into a throwaway database, plus an active RecommenderModel and
150 precomputed `recommendations` rows and 12 `follow_suggestions` for each of 2 000 sampled active readers
(and the 50 readers who follow 5 000 people). About 2 % of likes and saves are newer than the model, so the
"fresh followee engagement" part of every request has work to do. Sampled readers also get opens, impressions and some
"not interested" / "fewer from" feedback.

Then:
  1. server time: `for_you_feed` + `describe` on its cards (what the home view does), first page and the
     next (cursor) page, in-process, p50/p99; plus the whole GET / through the test client;
  2. throughput: the real app under `gunicorn -w 2`, driven from loopback by CLIENTS load-generator
     processes, GET /healthz, a static file (the floor), then GET / signed in as sampled readers (one real
     login through the form, then session cookies signed with the server's key): requests/s, p50/p99.

    .venv/bin/python bench/foryou.py                    # full size (generation takes several minutes)
    .venv/bin/python bench/foryou.py --scale 0.1        # quick look
    .venv/bin/python bench/foryou.py --keep             # keep the database; rerun with --reuse NAME
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the server.
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app, settle_for_serving  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.config import Config, TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.feeds.foryou import for_you_feed  # noqa: E402
from app.feeds.reasons import describe  # noqa: E402
from app.feeds.services import following_feed  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"
MAX_FOLLOWEES = 5_000
MODEL_AGE = timedelta(hours=12)  # the active model was trained this long before the run
FRESH_SHARE = 0.02  # share of likes/saves made after the model was trained
COMMUNITIES = 8
USER_AGENT = "tastemaker-bench/1"


# ---------------------------------------------------------------------------------------------- generation

def copy_rows(conn, table: str, columns: list[str], lines) -> int:
    """COPY text lines (already tab-separated) into table, in chunks; return the row count."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for count, line in enumerate(lines, 1):
            buffer.write(line)
            if count % 200_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def stamp(base: np.datetime64, seconds: np.ndarray) -> list[str]:
    return np.datetime_as_string(base + seconds.astype("timedelta64[s]")).tolist()


def unique_pairs(left: np.ndarray, right: np.ndarray, width: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (left, right) pairs in random order."""
    pairs = np.unique(left.astype(np.int64) * width + right)
    pairs = pairs[rng.permutation(pairs.size)]
    return pairs // width, pairs % width


class Timer:
    def __init__(self, label: str):
        self.label, self.t0 = label, time.perf_counter()

    def done(self, detail: str = "") -> None:
        print(f"  {self.label}: {detail}{' in ' if detail else ''}{time.perf_counter() - self.t0:.1f}s", flush=True)


def generate(conn, sizes: dict, active: int, rng: np.random.Generator, run_at: datetime) -> None:
    """Fill every table the For-you path reads."""
    users, posts, follows, likes, saves = (sizes[k] for k in ("users", "posts", "follows", "likes", "saves"))
    now64 = np.datetime64(run_at.replace(microsecond=0), "s")
    year = 365 * 86_400
    model_age = int(MODEL_AGE.total_seconds())
    created = (run_at - timedelta(days=400)).replace(microsecond=0).isoformat(sep=" ")

    t = Timer("users + communities + memberships")
    password_hash = generate_password_hash(PASSWORD, method="scrypt")
    copy_rows(conn, "users", ["id", "username", "username_key", "email", "email_key", "password_hash",
                              "display_name", "bio", "is_admin", "is_creator", "is_merchant", "is_demo",
                              "invite_code", "created_at", "onboarded_at", "follower_count", "following_count",
                              "likes_received_count"],
              (f"{i}\tu{i}\tu{i}\tu{i}@b.test\tu{i}@b.test\t{password_hash}\tUser {i}\t\tf\tf\tf\tf\ti{i}\t{created}"
               f"\t{created}\t0\t0\t0\n" for i in range(1, users + 1)))
    copy_rows(conn, "communities", ["id", "slug", "name", "description", "vertical", "rules_md", "owner_id",
                                    "member_count", "post_count", "created_at", "removal_reasons",
                                    "approval_account_days"],
              (f"{c}\tc{c}\tCommunity {c}\t\toutdoor\t\t1\t0\t0\t{created}\t\t0\n" for c in range(1, COMMUNITIES + 1)))
    # Every reader joins 2–6 communities, bigger communities more often (Gumbel top-k without replacement).
    community_weight = 1.0 / np.arange(1, COMMUNITIES + 1) ** 0.8
    joined_count = np.clip(rng.poisson(2.5, size=users) + 2, 2, 6)
    keys = np.log(community_weight)[None, :] + rng.gumbel(size=(users, COMMUNITIES))
    picks = np.argsort(-keys, axis=1)
    member_rows = [(u + 1, int(picks[u, j]) + 1) for u in range(users) for j in range(joined_count[u])]
    copy_rows(conn, "memberships", ["user_id", "community_id", "role", "joined_at"],
              (f"{u}\t{c}\tmember\t{created}\n" for u, c in member_rows))
    t.done(f"{users:,} users, {len(member_rows):,} memberships")

    # Creators: a Zipf-like ranking shared by authorship and follower popularity (prolific = followed).
    creator_order = rng.permutation(users)
    author_weight = 1.0 / np.arange(1, users + 1) ** 0.9
    author_weight /= author_weight.sum()

    t = Timer("likes + saves (drawn) and posts")
    post_authors = creator_order[rng.choice(users, size=posts, p=author_weight)] + 1
    post_age = rng.integers(60, year, size=posts)  # seconds before the run
    post_community = rng.integers(1, COMMUNITIES + 1, size=posts)
    post_appeal = rng.lognormal(0.0, 1.6, size=posts)
    appeal_cdf = np.cumsum(post_appeal / post_appeal.sum())

    def draw_posts(size) -> np.ndarray:  # 0-based post indexes, by appeal (rng.choice with p is slow per call)
        return np.minimum(np.searchsorted(appeal_cdf, rng.random(size)), posts - 1)
    reader_activity = rng.lognormal(0.0, 1.3, size=users)
    reader_activity /= reader_activity.sum()

    def engagements(count: int):
        who = rng.choice(users, size=int(count * 1.08), p=reader_activity)
        what = draw_posts(who.size)
        who, what = unique_pairs(who, what, posts, rng)
        who, what = who[:count], what[:count]
        # Most engagement comes within days of posting; FRESH_SHARE of it after the model was trained.
        age = np.maximum(1, post_age[what] - rng.exponential(3 * 86_400, size=who.size).astype(np.int64))
        fresh = rng.random(who.size) < FRESH_SHARE
        window = np.minimum(post_age[what], model_age)
        age[fresh] = (rng.random(int(fresh.sum())) * window[fresh]).astype(np.int64) + 1
        order = np.lexsort((what, who))
        return who[order] + 1, what[order] + 1, age[order]

    like_user, like_post, like_age = engagements(likes)
    save_user, save_post, save_age = engagements(saves)
    like_count = np.bincount(like_post, minlength=posts + 1)[1:]
    save_count = np.bincount(save_post, minlength=posts + 1)[1:]
    hot = np.log10(np.maximum(1, like_count)) - post_age / 45_000
    stamps = stamp(now64, -post_age)
    authors_, communities_, likes_, saves_, hot_ = (a.tolist() for a in (post_authors, post_community, like_count,
                                                                        save_count, hot))

    def post_lines():
        for i in range(posts):
            yield (f"{i + 1}\t{communities_[i]}\t{authors_[i]}\tnote\tPost {i + 1}\tbody\t<p>body</p>\tpublished"
                   f"\tf\tf\t{likes_[i]}\t{saves_[i]}\t0\t{hot_[i]:.6f}\t{stamps[i]}\n")

    copy_rows(conn, "posts", ["id", "community_id", "author_id", "kind", "title", "body_md", "body_html", "status",
                              "comments_locked", "discloses_own_product", "like_count", "save_count",
                              "comment_count", "hot_score", "created_at"], post_lines())
    t.done(f"{posts:,} posts")

    t = Timer("likes")
    when = stamp(now64, -like_age)
    copy_rows(conn, "likes", ["user_id", "post_id", "created_at"],
              (f"{u}\t{p}\t{w}\n" for u, p, w in zip(like_user.tolist(), like_post.tolist(), when, strict=True)))
    t.done(f"{like_user.size:,} likes ({int((like_age <= model_age).sum()):,} after the model)")

    t = Timer("saves")
    savers = np.unique(save_user)
    copy_rows(conn, "collections", ["id", "owner_id", "name", "is_public", "item_count", "created_at"],
              (f"{u}\t{u}\tSaved\tf\t0\t{created}\n" for u in savers.tolist()))
    when = stamp(now64, -save_age)
    copy_rows(conn, "saves", ["user_id", "post_id", "collection_id", "created_at"],
              (f"{u}\t{p}\t{u}\t{w}\n" for u, p, w in zip(save_user.tolist(), save_post.tolist(), when, strict=True)))
    t.done(f"{save_user.size:,} saves")

    # Follows: out-degree log-normal (median ~20) scaled to the target, capped at MAX_FOLLOWEES, plus a few
    # readers at the cap; followee popularity is the creators' power law.
    t = Timer("follows")
    most = min(MAX_FOLLOWEES, users - 1)
    out_degree = np.minimum(rng.lognormal(3.0, 1.2, size=users) + 1, most)
    out_degree = np.clip(out_degree * (follows / out_degree.sum()), 1, most).astype(np.int64)
    heavy = rng.choice(users, size=max(3, users // 2_000), replace=False)
    out_degree[heavy] = most
    popularity = 1.0 / np.arange(1, users + 1) ** 1.1
    popularity /= popularity.sum()
    followers = np.repeat(np.arange(users), (out_degree * 1.6).astype(np.int64) + 2)
    followees = creator_order[rng.choice(users, size=followers.size, p=popularity)]
    keep = followers != followees
    followers, followees = unique_pairs(followers[keep], followees[keep], users, rng)
    order = np.argsort(followers, kind="stable")
    followers, followees = followers[order], followees[order]
    rank_in_owner = np.arange(followers.size) - np.searchsorted(followers, followers)
    keep = rank_in_owner < out_degree[followers]
    followers, followees = followers[keep], followees[keep]
    for u in heavy:  # exactly MAX_FOLLOWEES distinct followees for the heavy readers
        have = followees[followers == u]
        missing = np.setdiff1d(np.delete(np.arange(users), u), have)
        extra = rng.choice(missing, size=most - have.size, replace=False)
        followers = np.concatenate([followers, np.full(extra.size, u)])
        followees = np.concatenate([followees, extra])
    order = np.lexsort((followees, followers))
    followers, followees = followers[order], followees[order]
    follow_age = rng.integers(86_400, year, size=followers.size)
    when = stamp(now64, -follow_age)
    copy_rows(conn, "follows", ["follower_id", "followee_id", "created_at"],
              (f"{a}\t{b}\t{w}\n" for a, b, w in zip((followers + 1).tolist(), (followees + 1).tolist(), when,
                                                       strict=True)))
    t.done(f"{followers.size:,} follows")

    t = Timer("blocks, model, recommendations, events, feedback")
    blockers, blocked = unique_pairs(rng.integers(0, users, size=users // 50), rng.integers(0, users, size=users // 50),
                                     users, rng)
    keep = blockers != blocked
    copy_rows(conn, "blocks", ["blocker_id", "blocked_id", "created_at"],
              (f"{a + 1}\t{b + 1}\t{created}\n" for a, b in zip(blockers[keep].tolist(), blocked[keep].tolist(),
                                                                 strict=True)))
    model_at = (run_at - MODEL_AGE).replace(microsecond=0).isoformat(sep=" ")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO recommender_models (version, created_at, path, n_users, n_items, n_interactions,"
                    " train_seconds, metrics, is_active) VALUES (%s, %s, %s, %s, %s, %s, 0, '{}', true)",
                    ("bench-1", model_at, "/nonexistent", users, posts, likes))
        cur.execute("UPDATE users SET following_count = f.n FROM (SELECT follower_id, count(*) n FROM follows "
                    "GROUP BY follower_id) f WHERE users.id = f.follower_id")
    conn.commit()

    # Active readers: at least one followee and three likes; each gets 150 precomputed candidates.
    liked_by = np.bincount(like_user, minlength=users + 1)
    follows_of = np.bincount(followers + 1, minlength=users + 1)
    eligible = np.flatnonzero((liked_by >= 3) & (follows_of >= 1))
    readers = np.union1d(rng.choice(eligible, size=min(active, eligible.size), replace=False), heavy + 1)
    per_reader = 150
    draws = draw_posts((readers.size, per_reader * 2)) + 1
    like_starts = np.searchsorted(like_user, readers)
    like_ends = np.searchsorted(like_user, readers, side="right")
    follow_starts = np.searchsorted(followers + 1, readers)
    follow_ends = np.searchsorted(followers + 1, readers, side="right")
    rec_lines, people_lines, open_lines, feedback_lines = [], [], [], []
    codes = ("because_you_liked", "followees_engaged", "similar_content", "popular_in_community",
             "friends_of_friends", "shared_taste")
    for row, reader in enumerate(readers.tolist()):
        chosen = list(dict.fromkeys(draws[row].tolist()))[:per_reader]
        liked = like_post[like_starts[row]:like_ends[row]].tolist() or [1]
        mine = (followees[follow_starts[row]:follow_ends[row]] + 1).tolist() or [1]
        scores = np.sort(rng.random(len(chosen)))[::-1] * 2.0
        for rank, (post_id, score) in enumerate(zip(chosen, scores.tolist(), strict=True)):
            code = codes[rank % len(codes)]
            params: dict = {}
            if code in ("because_you_liked", "similar_content"):
                params = {"item_id": str(liked[rank % len(liked)])}
            elif code == "followees_engaged":
                params = {"user_ids": [str(mine[rank % len(mine)])], "others": rank % 3}
            elif code == "popular_in_community":
                params = {"community": f"c{rank % COMMUNITIES + 1}"}
            elif code == "shared_taste":
                params = {"shared": 3 + rank % 7}
            rec_lines.append(f"{reader}\t{post_id}\t{score:.6f}\t{json.dumps({'code': code, 'params': params})}"
                             f"\tbench-1\t{int(post_authors[post_id - 1])}\t{int(post_community[post_id - 1])}\n")
        # People to follow (the model writes 12 per reader): popular creators they do not follow yet.
        followed = set(mine)
        suggested = [int(u) + 1 for u in creator_order[rng.choice(users, size=40, p=popularity)]]
        suggested = [u for u in dict.fromkeys(suggested) if u != reader and u not in followed][:12]
        for rank, user_id in enumerate(suggested):
            reason = {"code": "followed_by_followees", "params": {"user_ids": [str(mine[rank % len(mine)])],
                                                                  "others": rank % 4}}
            people_lines.append(f"{reader}\t{user_id}\t{1.0 - rank / 12:.4f}\t{json.dumps(reason)}\tbench-1\n")
        # What they opened and were shown recently, and a little feedback.
        opened = draw_posts(int(rng.lognormal(3.0, 1.0)) + 1) + 1
        shown = draw_posts(opened.size * 10) + 1
        for kind, items in (("open", opened), ("impression", shown)):
            ages = rng.integers(60, 60 * 86_400, size=items.size)
            for post_id, when in zip(items.tolist(), stamp(now64, -ages), strict=True):
                open_lines.append(f"{reader}\t{kind}\t{post_id}\tfor_you\t{when}\n")
        if rng.random() < 0.3:
            for post_id in set(rng.choice(chosen, size=int(rng.integers(1, 4))).tolist()):
                feedback_lines.append(f"{reader}\tnot_interested\t{post_id}\t{created}\n")
        if rng.random() < 0.1:
            feedback_lines.append(f"{reader}\tfewer_author\t{int(post_authors[chosen[0] - 1])}\t{created}\n")
        if rng.random() < 0.05:
            feedback_lines.append(f"{reader}\tfewer_community\t{int(rng.integers(1, COMMUNITIES + 1))}\t{created}\n")
    copy_rows(conn, "recommendations", ["user_id", "post_id", "score", "reason", "model_version", "author_id",
                                        "community_id"], rec_lines)
    copy_rows(conn, "follow_suggestions", ["user_id", "suggested_id", "score", "reason", "model_version"],
              people_lines)
    copy_rows(conn, "events", ["user_id", "kind", "post_id", "surface", "created_at"], open_lines)
    copy_rows(conn, "feed_feedback", ["user_id", "kind", "target_id", "created_at"], feedback_lines)
    with conn.cursor() as cur:
        for table in ("users", "communities", "posts", "collections", "saves", "events", "feed_feedback"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}','id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    t.done(f"{readers.size:,} readers, {len(rec_lines):,} recommendations, {len(open_lines):,} events")

    t = Timer("VACUUM ANALYZE")
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False
    t.done()


# ---------------------------------------------------------------------------------------------- measurement

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


class QueryLog:
    """Statement count and time per normalised statement, for the slowest-statements table."""

    def __init__(self, engine):
        self.count, self.by_statement = 0, defaultdict(lambda: [0, 0.0])
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.count += 1
            key = re.sub(r"\s+", " ", re.sub(r"%\(\w+\)s(, )?", "", statement))[:150]
            entry = self.by_statement[key]
            entry[0] += 1
            entry[1] += time.perf_counter() - conn.info["t0"]


def login_secrets(app, user_ids: list[int]) -> dict[int, str]:
    """Start a server-side log-in for each reader (as the log-in form does) and return its cookie secret."""
    from app.accounts.sessions import start_session

    with app.app_context():
        secrets_ = {uid: start_session(db.session.get(User, uid), remember=True, user_agent=USER_AGENT,
                                       ip_address="127.0.0.1") for uid in user_ids}
        db.session.remove()
    return secrets_


def server_time(app, readers: list[int], heavy: set[int], http_sample: int) -> dict:
    """for_you_feed + describe per reader (first page, then the next page), and GET / via the test client."""
    rows: dict[str, list[float]] = defaultdict(list)
    with app.app_context():
        log = QueryLog(db.engine)
        for_you_feed(db.session.get(User, readers[0]))  # warm the pool
        log.on = True
        calls = 0
        for user_id in readers:
            viewer = db.session.get(User, user_id)
            label = "heavy" if user_id in heavy else "first"
            t0 = time.perf_counter()
            page = for_you_feed(viewer)
            describe([card.reason for card in page.cards])
            rows[label].append((time.perf_counter() - t0) * 1000)
            calls += 1
            if page.next_cursor:
                t0 = time.perf_counter()
                page = for_you_feed(viewer, page.next_cursor)
                describe([card.reason for card in page.cards])
                rows["cursor" if label == "first" else "heavy_cursor"].append((time.perf_counter() - t0) * 1000)
                calls += 1
            if user_id in heavy:  # the Following feed, first and next page, for readers of 5 000 people
                log.on = False
                t0 = time.perf_counter()
                following = following_feed(viewer)
                rows["following_heavy"].append((time.perf_counter() - t0) * 1000)
                if following.next_cursor:
                    t0 = time.perf_counter()
                    following_feed(viewer, following.next_cursor)
                    rows["following_heavy_cursor"].append((time.perf_counter() - t0) * 1000)
                log.on = True
            db.session.expunge_all()
        log.on = False
        statements_per_call = log.count / max(1, calls)
        slowest = sorted(log.by_statement.items(), key=lambda item: -item[1][1])[:6]
        db.session.remove()
        db.engine.dispose()

    client = app.test_client()
    logins = login_secrets(app, readers[:http_sample])
    with app.app_context():
        log = QueryLog(db.engine)
    # As a server runs (config.Config): the reader's first page kept FORYOU_PAGE_SECONDS (app/feeds/pages.py).
    app.config["FORYOU_PAGE_SECONDS"] = getattr(Config(), "FORYOU_PAGE_SECONDS", 0)

    def time_home_pages(query_log, wall: list, cpu: list) -> None:
        """GET / once as each sampled reader, timed (wall and CPU) with its statements counted."""
        for user_id in readers[:http_sample]:
            with client.session_transaction() as session:
                session["_user_id"], session["_fresh"] = logins[user_id], True
            query_log.on = True
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get("/")
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            query_log.on = False
            if response.status_code != 200 or b'href="/following"' not in response.data:
                raise RuntimeError(f"GET / as {user_id} answered {response.status_code} without the For-you tabs")

    time_home_pages(log, rows["view"], rows["view_cpu"])
    view_calls, kept_log = len(readers[:http_sample]), None
    if app.config["FORYOU_PAGE_SECONDS"]:  # the same readers again, within the time their page is kept
        with app.app_context():
            kept_log = QueryLog(db.engine)
        time_home_pages(kept_log, rows["view_kept"], rows["view_kept_cpu"])
    with app.app_context():
        db.engine.dispose()
    return {"rows": rows, "statements": statements_per_call, "slowest": slowest,
            "view_statements": log.count / max(1, view_calls),
            "kept_statements": kept_log.count / max(1, view_calls) if kept_log else None}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, headers: dict | None = None, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def cookie_of(headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def real_login(port: int, user_id: int) -> str:
    """Log in through the form (CSRF token scraped from /login); return the session cookie."""
    status, headers, body = request(port, "GET", "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if status != 200 or not token:
        raise RuntimeError(f"GET /login answered {status} without a CSRF token")
    form = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), "login": f"u{user_id}",
                                   "password": PASSWORD})
    status, headers, _body = request(port, "POST", "/login", {
        "Cookie": f"session={cookie_of(headers, 'session')}",
        "Content-Type": "application/x-www-form-urlencoded"}, form)
    cookie = cookie_of(headers, "session")
    if status != 302 or not cookie:
        raise RuntimeError(f"POST /login answered {status}")
    return cookie


def signed_cookies(url: str, secret_key: str, user_ids: list[int]) -> dict[int, str]:
    """Session cookies as the server would issue after logging in: a server-side session per reader (its
    secret in flask-login's key), signed with the server's key."""
    from flask_login.utils import _create_identifier

    config = TestConfig()
    config.SECRET_KEY = secret_key
    config.SQLALCHEMY_DATABASE_URI = url.replace("postgresql://", "postgresql+psycopg://")
    app = create_app(config)
    logins = login_secrets(app, user_ids)
    serializer = app.session_interface.get_signing_serializer(app)
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": USER_AGENT}):
        identifier = _create_identifier()
    with app.app_context():
        db.engine.dispose()
    return {uid: serializer.dumps({"_user_id": logins[uid], "_fresh": True, "_id": identifier}) for uid in user_ids}


def load_client(args) -> tuple[list[float], int, float]:
    """One load-generator process: requests back to back until the deadline or the count is reached."""
    port, path, cookies, deadline, max_requests = args
    latencies, errors = [], 0
    index = 0
    start = time.perf_counter()
    while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
        headers = {"Cookie": f"session={cookies[index % len(cookies)]}"} if cookies else {}
        index += 1
        t0 = time.perf_counter()
        try:
            status, _headers, _body = request(port, "GET", path, headers)
        except OSError:
            status = 0
        if status == 200:
            latencies.append((time.perf_counter() - t0) * 1000)
        else:
            errors += 1
    return latencies, errors, time.perf_counter() - start


def built_pages(url: str) -> int:
    """Index scans of `recommendations` so far (one per For-you page ranked, cached or not)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'recommendations'"
                            ).fetchone()[0]


def drive(port: int, path: str, cookies: list[str] | None, clients: int, seconds: float, max_requests: int) -> dict:
    """CLIENTS processes hit `path` concurrently; requests/s over the whole window, latency percentiles."""
    warm_deadline = time.perf_counter() + min(3.0, seconds / 5)
    per_client = [cookies[i::clients] if cookies else None for i in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients, initializer=signal.signal,
                                                  initargs=(signal.SIGTERM, signal.SIG_DFL)) as pool:
        # Warm-up: a few seconds, and for signed-in pages one visit by every reader in the cycle (so each
        # worker's caches and connections are in their steady state, as on a site that has been up a while).
        warm = [(port, path, per_client[i], warm_deadline if not cookies else time.perf_counter() + 600,
                 10**9 if not cookies else len(per_client[i])) for i in range(clients)]
        pool.map(load_client, warm)
        t0 = time.perf_counter()
        deadline = t0 + seconds
        results = pool.map(load_client, [(port, path, per_client[i], deadline, max_requests // clients)
                                         for i in range(clients)])
        elapsed = time.perf_counter() - t0
    latencies = [v for lat, _e, _s in results for v in lat]
    errors = sum(e for _l, e, _s in results)
    return {"n": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 99), "seconds": elapsed}


def throughput(url: str, readers: list[int], args) -> dict:
    """Start gunicorn on the bench database; drive /healthz, then / as signed-in readers."""
    secret_key = secrets.token_urlsafe(32)
    port = free_port()
    instance = tempfile.mkdtemp(prefix="tastemaker_bench_")
    # JOBS_SCHEDULER=off: with the inline scheduler a worker would start the nightly recommender training
    # on the bench data set in the middle of the measurement (a deployment runs `flask jobs scheduler`).
    env = {**os.environ, "DATABASE_URL": url, "TASTEMAKER_ENV": "development", "SECRET_KEY": secret_key,
           "TASTEMAKER_INSTANCE": instance, "JOBS_SCHEDULER": "off"}
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = args.redis
    log_path = Path(instance) / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "-b",
                                   f"127.0.0.1:{port}", "--error-logfile", "-", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not answer /healthz within 60 s")
        # One real login through the form, then server-signed cookies for the rest of the pool.
        logged_in = real_login(port, readers[0])
        status, _h, body = request(port, "GET", "/", {"Cookie": f"session={logged_in}"})
        if status != 200 or b'href="/following"' not in body:
            raise RuntimeError(f"GET / after logging in answered {status} without the For-you tabs")
        pool = signed_cookies(url, secret_key, readers[1:args.http_readers])
        first = next(iter(pool.values()))
        status, _h, body = request(port, "GET", "/", {"Cookie": f"session={first}"})
        if status != 200 or b'href="/following"' not in body:
            raise RuntimeError(f"GET / with a signed session answered {status} without the For-you tabs")
        cookies = [logged_in, *pool.values()]
        results = {
            "healthz": drive(port, "/healthz", None, args.clients, args.seconds, args.max_requests),
            "static": drive(port, "/static/img/logo.svg", None, args.clients, args.seconds, args.max_requests),
        }
        # Pages ranked and built (For-you rankings run) in the timed window: one index scan of recommendations
        # each, counted by PostgreSQL's statistics (flushed by an idle connection within 10 s), less the warm-up's
        # one visit per reader.
        time.sleep(11)
        built_before = built_pages(url)
        results["for_you"] = drive(port, "/", cookies, args.clients, args.seconds, args.max_requests)
        time.sleep(11)
        results["built"] = built_pages(url) - built_before - len(cookies)
        results["readers"] = len(cookies)
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(instance, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 100k users / 1M posts / 3M follows / 5M likes / 500k saves")
    parser.add_argument("--active", type=int, default=2_000, help="readers given precomputed recommendations")
    parser.add_argument("--samples", type=int, default=500, help="readers timed in-process")
    parser.add_argument("--view-samples", type=int, default=100, help="readers timed through GET / (test client)")
    parser.add_argument("--http-readers", type=int, default=500, help="signed-in readers the load generator cycles")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load-generator processes")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                        help="gunicorn workers (default 2 × cores, as deploy/systemd/tastemaker-web.service)")
    parser.add_argument("--redis", metavar="URL", help="REDIS_URL for gunicorn, as deployed (default: none, so "
                                                        "each worker keeps cards and pages in its own memory)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load window per endpoint")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per endpoint")
    parser.add_argument("--only-http", action="store_true", help="skip the in-process timings")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="measure an existing bench database (made with --keep)")
    parser.add_argument("--prefix", default="tastemaker_bench_", help="name prefix of a generated database")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `kill PID` still drops the database
    sizes = {"users": int(100_000 * args.scale), "posts": int(1_000_000 * args.scale),
             "follows": int(3_000_000 * args.scale), "likes": int(5_000_000 * args.scale),
             "saves": int(500_000 * args.scale)}
    name = args.reuse or f"{args.prefix}{uuid.uuid4().hex[:8]}"
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    print(f"For-you bench, database {name}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
          flush=True)
    if not args.reuse:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url.replace("postgresql://", "postgresql+psycopg://")
        app = create_app(config)
        with app.app_context():
            db.create_all()  # with --reuse, adds any table the schema gained since…
            for table in db.metadata.sorted_tables:  # …and any index (create_all skips existing tables)
                for index in table.indexes:
                    index.create(db.engine, checkfirst=True)
            db.engine.dispose()
        if not args.reuse:
            print(f"Generating {sizes['users']:,} users, {sizes['posts']:,} posts, ~{sizes['follows']:,} follows,"
                  f" ~{sizes['likes']:,} likes, ~{sizes['saves']:,} saves (seed {args.seed})…", flush=True)
            t0 = time.perf_counter()
            with psycopg.connect(url) as conn:
                generate(conn, sizes, args.active, np.random.default_rng(args.seed), datetime.now(UTC)
                         .replace(tzinfo=None))
            print(f"  generated in {time.perf_counter() - t0:.0f}s", flush=True)
        with psycopg.connect(url) as conn:
            counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                      for table in ("users", "posts", "follows", "memberships", "likes", "saves", "recommendations",
                                    "events")}
            readers = [r for (r,) in conn.execute("SELECT DISTINCT user_id FROM recommendations ORDER BY 1")]
            heavy = {r for (r,) in conn.execute("SELECT id FROM users WHERE following_count >= %s",
                                                (min(MAX_FOLLOWEES, counts["users"] - 1),))}
        rng = np.random.default_rng(args.seed + 1)
        ordinary = [r for r in readers if r not in heavy]
        timed = rng.choice(ordinary, size=min(args.samples, len(ordinary)), replace=False).tolist()
        timed += sorted(heavy & set(readers))

        settle_for_serving()  # as wsgi.py does in every serving process
        rows = {}
        if not args.only_http:
            print("Timing for_you_feed in-process…", flush=True)
            measured = server_time(app, timed, heavy, args.view_samples)
            rows = measured["rows"]
            print(f"\nFor you on PostgreSQL — {counts['users']:,} users, {counts['posts']:,} posts, "
                  f"{counts['follows']:,} follows, {counts['memberships']:,} memberships, {counts['likes']:,} likes, "
                  f"{counts['saves']:,} saves, {counts['events']:,} events;\n{counts['recommendations']:,} precomputed "
                  f"recommendations for {len(readers):,} readers (150 each), active model trained "
                  f"{MODEL_AGE.total_seconds() / 3600:.0f} h before the run, {FRESH_SHARE:.0%} of likes/saves newer.")
            print("\nServer time, in-process (for_you_feed + describe on its cards), ms:")
            print(f"{'':<42}{'n':>6}{'p50':>9}{'p99':>9}{'max':>9}")
            for label, key in (("first page", "first"), ("next page (cursor)", "cursor"),
                               (f"first page, {MAX_FOLLOWEES:,} followees", "heavy"),
                               (f"next page, {MAX_FOLLOWEES:,} followees", "heavy_cursor"),
                               ("whole GET / (test client, render + log)", "view"),
                               ("  its CPU (process time)", "view_cpu"),
                               ("GET / again, page kept (test client)", "view_kept"),
                               ("  its CPU (process time)", "view_kept_cpu"),
                               (f"Following, first page, {MAX_FOLLOWEES:,} followees", "following_heavy"),
                               (f"Following, next page, {MAX_FOLLOWEES:,} followees", "following_heavy_cursor")):
                values = rows.get(key)
                if values:
                    print(f"{label:<42}{len(values):>6}{statistics.median(values):>9.1f}"
                          f"{percentile(values, 99):>9.1f}{max(values):>9.1f}")
            print(f"SQL statements: {measured['statements']:.1f} per for_you_feed + describe, "
                  f"{measured['view_statements']:.1f} per GET /"
                  + (f", {measured['kept_statements']:.1f} per GET / with the page kept" if measured["kept_statements"]
                     else ""))
            print("Most time-consuming statements in for_you_feed + describe (total ms, count):")
            for statement, (count, seconds) in measured["slowest"]:
                print(f"  {seconds * 1000:9.0f} {count:6}  {statement}")

        print("\nDriving gunicorn…", flush=True)
        load = throughput(url, rng.permutation(ordinary).tolist(), args)
        print(f"\nThroughput: gunicorn -w {args.workers} (sync), REDIS_URL {args.redis or 'unset'}, {args.clients} "
              "load-generator processes on loopback,"
              f" {args.seconds:.0f} s per endpoint; GET / cycles {load['readers']} signed-in readers.")
        print("The load generator, the server and PostgreSQL share this machine's "
              f"{os.cpu_count()} cores (and any other work on it: load average now {os.getloadavg()[0]:.2f}).")
        print(f"{'endpoint':<34}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for label, key in (("GET /healthz", "healthz"), ("GET /static/img/logo.svg (floor)", "static"),
                           ("GET / (For you, signed in)", "for_you")):
            result = load[key]
            print(f"{label:<34}{result['n']:>10}{result['errors']:>8}{result['rps']:>9.1f}{result['p50']:>9.1f}"
                  f"{result['p99']:>9.1f}")
        hz, fy = load["healthz"], load["for_you"]
        ratio = fy["rps"] / hz["rps"] if hz["rps"] else float("nan")
        print(f"For-you pages ranked and built during the timed window: ≈{load['built']} of {fy['n']} requests "
              f"(the rest served the reader's kept page, app/feeds/pages.py)")
        print(f"For you / healthz throughput: {ratio:.2f} (target ≥ 0.25); "
              + (f"in-process p99 first page {percentile(rows['first'], 99):.1f} ms (target < 100 ms)" if rows else ""),
              flush=True)
    finally:
        if args.keep or args.reuse:
            print(f"\nKept database {name} (rerun with --reuse {name}).")
        else:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
