"""Search backends at scale: Whoosh, PostgreSQL (search_documents) and, as an untuned reference, SQLite FTS5.

Generates N seeded bilingual posts (Chinese, English and mixed titles and bodies, tags, 8 communities),
indexes them with each backend and prints, per backend:

  - build time (including the jieba/stemming analysis) and index size on disk;
  - query latency p50/p99 for one-, two- and three-word queries in Chinese, English and mixed
    (--queries each, default 50; the query the results page runs: top 20 posts by relevance + total + facets);
  - queries per second, one client thread, mixed queries, over --duration seconds (default 30);
  - as-you-type suggestions (`suggest`, the last word as a title prefix) p50/p99, Whoosh and PostgreSQL.

SQLite FTS5 gets the same documents, analysed by the same tokenizer (space-joined tokens, unicode61,
bm25 with the same field weights), and runs MATCH + ORDER BY bm25 LIMIT 20 + count(*): no facets, no
tuning — a reference point, not a contender.

    .venv/bin/python bench/search.py                    # 100k posts
    .venv/bin/python bench/search.py --size 1000000     # 1M posts (long: run it alone)
    .venv/bin/python bench/search.py --size 20000 --duration 5 --backends whoosh,fts5
    .venv/bin/python bench/search.py --size 1000000 --keep /tmp/s1m            # keep the Whoosh/FTS5 indexes
    .venv/bin/python bench/search.py --size 1000000 --keep /tmp/s1m --reuse --backends whoosh  # measure again
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres (default) names the PostgreSQL server;
    a throwaway database is created and dropped.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.search.backend import FIELD_WEIGHTS, SearchDocument, SearchQuery  # noqa: E402
from app.search.text import parse_query, terms  # noqa: E402

QUERIES_PER_CELL = 50
COMMUNITIES = ["beauty", "mother-baby", "outdoor", "digital", "food", "travel", "fashion", "home"]
ZH = ("防晒 防晒霜 面霜 口红 粉底 护肤 补水 敏感肌 测评 推荐 好用 平价 性价比 夏天 冬天 旅行 露营 徒步 帐篷 背包 "
      "相机 手机 耳机 电脑 键盘 咖啡 火锅 甜品 面包 早餐 宝宝 奶粉 尿不湿 玩具 穿搭 裙子 外套 运动鞋 收纳 家居 "
      "厨房 清洁 香水 精华 眼霜 洗面奶 卸妆 面膜 酒店 机票 美食 攻略 新手 分享 日常 清单 好物 种草 拔草").split()
EN = ("sunscreen moisturizer lipstick foundation skincare serum review budget summer winter travel camping "
      "hiking tent backpack camera phone headphones laptop keyboard coffee hotpot dessert bread breakfast baby "
      "formula diapers toys outfit dress jacket sneakers storage kitchen cleaning perfume cleanser mask hotel "
      "flight food guide beginner daily list favourite honest lightweight waterproof battery charger lens "
      "espresso recipe spicy cozy minimal vintage durable").split()
EN_FILLER = "the a and with for my this is was very really after before on in of to it".split()
SPF = ["SPF50", "SPF30", "PA++++", "iPhone15", "M2", "4K", "USB-C"]


def generate(size: int, seed: int) -> Iterator[SearchDocument]:
    """Seeded posts: a third Chinese, a third English, a third mixed."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    for ref_id in range(1, size + 1):
        language = ref_id % 3
        if language == 0:
            title = "".join(rng.choices(ZH, k=rng.randint(2, 4)))
            body = "，".join("".join(rng.choices(ZH, k=rng.randint(2, 5))) for _ in range(rng.randint(6, 16)))
        elif language == 1:
            title = " ".join(rng.choices(EN, k=rng.randint(2, 5))).capitalize()
            body = " ".join(rng.choice(EN if rng.random() < 0.55 else EN_FILLER) for _ in range(rng.randint(25, 70)))
        else:
            title = "".join(rng.choices(ZH, k=2)) + " " + rng.choice(SPF) + " " + rng.choice(EN)
            body = " ".join("".join(rng.choices(ZH, k=rng.randint(1, 3))) + " " + rng.choice(EN)
                            for _ in range(rng.randint(8, 20)))
        tags = " ".join(rng.choices(EN + ZH, k=rng.randint(0, 4)))
        likes = int(rng.paretovariate(1.3)) - 1
        yield SearchDocument(
            doc_type="post", ref_id=ref_id, title=title, body=body, tags=tags,
            names=f"user{rng.randint(1, 20000)} {rng.choice(COMMUNITIES)}", community=rng.choice(COMMUNITIES),
            author_id=rng.randint(1, 20000), kind="note", created_at=start + timedelta(minutes=ref_id),
            like_count=likes, save_count=likes // 3, comment_count=likes // 5)


def queries(seed: int, per_cell: int = QUERIES_PER_CELL) -> dict[str, list[str]]:
    """`per_cell` queries for each of (zh, en, mixed) × (1, 2, 3 words)."""
    rng = random.Random(seed + 1)
    cells: dict[str, list[str]] = {}
    for words in (1, 2, 3):
        cells[f"zh-{words}"] = [" ".join(rng.sample(ZH, words)) for _ in range(per_cell)]
        cells[f"en-{words}"] = [" ".join(rng.sample(EN, words)) for _ in range(per_cell)]
        mixed = []
        for _ in range(per_cell):
            parts = [rng.choice(ZH), rng.choice(EN), rng.choice(SPF)][:words]
            rng.shuffle(parts)
            mixed.append(" ".join(parts))
        cells[f"mixed-{words}"] = mixed
    return cells


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024:
            return f"{nbytes:.1f} {unit}" if unit == "GB" else f"{nbytes:.0f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"


# --- the three contenders ---------------------------------------------------------------------------------------

class WhooshRun:
    name = "whoosh"

    def __init__(self, workdir: Path):
        from app.search.whoosh_backend import WhooshBackend

        self.path = workdir / "whoosh"
        self.backend = WhooshBackend(self.path)

    def build(self, docs: Iterator[SearchDocument]) -> int:
        return self.backend.rebuild(docs)

    def built(self) -> int:
        return self.backend.count() if self.path.exists() else 0

    def size(self) -> int:
        return directory_size(self.path)

    def query(self, text: str) -> int:
        return self.backend.search(SearchQuery(parse_query(text), limit=20, facets=True)).total

    def suggest(self, text: str) -> int:
        return len(self.backend.suggest(parse_query(text, prefix=True), 16))

    def close(self) -> None:
        pass


class PostgresRun:
    name = "postgres"

    def __init__(self, url: str, database: str | None = None):
        import psycopg
        from sqlalchemy import create_engine

        from app.config import normalise_database_url
        from app.search.models import SearchDocumentRow, SearchTerm
        from app.search.postgres_backend import PostgresBackend

        self.admin_url = url.replace("postgresql+psycopg://", "postgresql://")
        self.keep = database is not None  # a named database is kept for --reuse
        self.database = database or f"tastemaker_bench_search_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')
        self.engine = create_engine(normalise_database_url(f"{self.admin_url.rsplit('/', 1)[0]}/{self.database}"))
        for table in (SearchDocumentRow.__table__, SearchTerm.__table__):
            table.create(self.engine, checkfirst=True)
        self.backend = PostgresBackend(self.engine)

    def built(self) -> int:
        from app.search.models import RUM_INDEX

        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {RUM_INDEX}")  # a database kept from before its drop
            return conn.exec_driver_sql("SELECT count(*) FROM search_documents").scalar()

    def build(self, docs: Iterator[SearchDocument]) -> int:
        count = self.backend.rebuild(docs)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE search_documents")
        return count

    def size(self) -> int:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT pg_total_relation_size('search_documents') "
                                        "+ pg_total_relation_size('search_terms')").scalar()

    def query(self, text: str) -> int:
        return self.backend.search(SearchQuery(parse_query(text), limit=20, facets=True)).total

    def suggest(self, text: str) -> int:
        return len(self.backend.suggest(parse_query(text, prefix=True), 16))

    def close(self) -> None:
        import psycopg

        self.engine.dispose()
        if self.keep:
            return
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


class Fts5Run:
    name = "sqlite-fts5"

    def __init__(self, workdir: Path):
        self.path = workdir / "fts5.db"
        self.conn = sqlite3.connect(self.path)
        self.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS docs "
                          "USING fts5(title, tags, names, body, tokenize='unicode61')")
        weights = ", ".join(str(FIELD_WEIGHTS[name]) for name in ("title", "tags", "names", "body"))
        self.sql = (f"SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, {weights}) LIMIT 20")

    def built(self) -> int:
        return self.conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def build(self, docs: Iterator[SearchDocument]) -> int:
        self.conn.execute("DELETE FROM docs")
        count = 0
        rows = []
        for doc in docs:
            rows.append((doc.ref_id, *(" ".join(terms(getattr(doc, f), mode="index"))
                                      for f in ("title", "tags", "names", "body"))))
            count += 1
            if len(rows) >= 5000:
                self.conn.executemany("INSERT INTO docs(rowid, title, tags, names, body) VALUES (?, ?, ?, ?, ?)", rows)
                rows = []
        if rows:
            self.conn.executemany("INSERT INTO docs(rowid, title, tags, names, body) VALUES (?, ?, ?, ?, ?)", rows)
        self.conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        self.conn.commit()
        return count

    def size(self) -> int:
        return self.path.stat().st_size

    def query(self, text: str) -> int:
        words = parse_query(text).must
        if not words:
            return 0
        match = " AND ".join('"' + word.replace('"', '""') + '"' for word in words)
        self.conn.execute(self.sql, (match,)).fetchall()
        return self.conn.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


# --- measuring ------------------------------------------------------------------------------------------------

def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def measure(run, size: int, seed: int, duration: float, per_cell: int, reuse: bool = False) -> None:
    if reuse and getattr(run, "built", lambda: 0)() == size:
        print(f"\n== {run.name}: {size} documents, reusing the index kept in --keep / --pg-database (no build), "
              f"index size {human(run.size())}", flush=True)
    else:
        started = time.perf_counter()
        count = run.build(generate(size, seed))
        build_seconds = time.perf_counter() - started
        print(f"\n== {run.name}: {count} documents, build {build_seconds:.1f} s "
              f"({count / build_seconds:.0f} docs/s), index size {human(run.size())}", flush=True)
    cells = queries(seed, per_cell)
    for text in cells["en-1"][:20] + cells["zh-1"][:20]:  # warm caches
        run.query(text)
    print(f"   {'queries':<10} {'p50 ms':>8} {'p99 ms':>8} {'mean hits':>10}")
    for cell, texts in cells.items():
        latencies, hits = [], []
        for text in texts:
            t0 = time.perf_counter()
            hits.append(run.query(text))
            latencies.append((time.perf_counter() - t0) * 1000)
        print(f"   {cell:<10} {percentile(latencies, 50):8.1f} {percentile(latencies, 99):8.1f} "
              f"{statistics.mean(hits):10.0f}", flush=True)
    mixed = [text for texts in cells.values() for text in texts]
    random.Random(seed).shuffle(mixed)
    done, deadline = 0, time.perf_counter() + duration
    while time.perf_counter() < deadline:
        run.query(mixed[done % len(mixed)])
        done += 1
    print(f"   throughput: {done / duration:.0f} queries/s (one thread, {duration:.0f} s, all cells mixed)",
          flush=True)
    if hasattr(run, "suggest"):  # as typed: an English word cut to 2–5 letters, after a Chinese word or not
        rng = random.Random(seed + 2)
        typed = [(rng.choice(ZH) + " " if rng.random() < 0.5 else "") + rng.choice(EN)[:rng.randint(2, 5)]
                 for _ in range(per_cell * 2)]
        latencies = []
        for text in typed:
            t0 = time.perf_counter()
            run.suggest(text)
            latencies.append((time.perf_counter() - t0) * 1000)
        print(f"   suggest:  p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
              f"({len(typed)} prefixes)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the throughput run")
    parser.add_argument("--backends", default="whoosh,postgres,fts5")
    parser.add_argument("--queries", type=int, default=QUERIES_PER_CELL, help="queries per cell")
    parser.add_argument("--keep", metavar="DIR", help="build the Whoosh and FTS5 indexes in DIR and keep them "
                        "(e.g. to try queries on the 1M index afterwards); by default a temporary directory")
    parser.add_argument("--reuse", action="store_true", help="with --keep: measure the Whoosh and FTS5 indexes "
                        "already there (built by an earlier run of the same --size) instead of building them")
    parser.add_argument("--pg-database", metavar="NAME", help="use (and keep) this PostgreSQL database instead "
                        "of a throwaway one; with --reuse, measure it again if it already holds --size documents")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    terms("预热 warm up")  # load jieba's dictionary before any timing
    print(f"search bench: {args.size} posts, seed {args.seed}, {args.queries} queries per cell, "
          f"{os.cpu_count()} CPUs", flush=True)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(args.keep) if args.keep
          else tempfile.TemporaryDirectory(prefix="tastemaker-bench-search-")) as workdir:
        reuse = bool((args.keep or args.pg_database) and args.reuse)
        makers = {"whoosh": lambda: WhooshRun(Path(workdir)), "fts5": lambda: Fts5Run(Path(workdir)),
                  "postgres": lambda: PostgresRun(args.postgres_url, args.pg_database)}
        for name in args.backends.split(","):
            run = makers[name]()
            try:
                measure(run, args.size, args.seed, args.duration, args.queries, reuse=reuse)
            finally:
                run.close()


if __name__ == "__main__":
    main()
