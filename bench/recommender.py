"""Recommender training time, peak memory and per-user serving latency on generated power-law data.

Generates (seeded) 100k users, 200k items, 10M interactions and 3M follow edges with recommender.synthetic,
trains the full model (sources, tuning, learned ranker) and times `recommend` for a sample of users.

    .venv/bin/python bench/recommender.py                 # full size (the issue's budget: < 15 min, < 24 GiB)
    .venv/bin/python bench/recommender.py --scale 0.2     # a fifth of every size
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommender.model import Recommender, Settings  # noqa: E402
from recommender.synthetic import generate  # noqa: E402


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size below (default 1)")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--edges", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--latency-users", type=int, default=300, help="users timed one by one")
    args = parser.parse_args()

    sizes = {
        name: max(10, int(getattr(args, name) * args.scale))
        for name in ("users", "items", "interactions", "edges")
    }
    print(
        f"generating {sizes['users']:,} users, {sizes['items']:,} items, {sizes['interactions']:,} "
        f"interactions, {sizes['edges']:,} follow edges (seed {args.seed})",
        flush=True,
    )
    started = time.perf_counter()
    data = generate(
        n_users=sizes["users"],
        n_items=sizes["items"],
        n_interactions=sizes["interactions"],
        n_edges=sizes["edges"],
        seed=args.seed,
        clusters=max(10, sizes["items"] // 2000),
        communities=True,
    )
    print(
        f"generated in {time.perf_counter() - started:.1f} s; peak memory {peak_rss_gib():.2f} GiB",
        flush=True,
    )

    started = time.perf_counter()
    model = Recommender(Settings(seed=args.seed)).fit(
        data.interactions, data.followers, data.followees, data.items
    )
    trained = time.perf_counter() - started
    info = model.info
    print(
        f"trained in {trained:.1f} s on {info['users']:,} users, {info['items']:,} items, "
        f"{info['interactions']:,} distinct pairs, {info['follows']:,} follows; ranker {info['ranker']}; "
        f"chosen { ({k: v for k, v in model.chosen.items() if k != 'validation_ndcg20'}) }",
        flush=True,
    )
    phases = ", ".join(f"{name} {wall:.1f}" for name, (wall, _) in info["phase_seconds"].items())
    print(f"training phases (wall seconds): {phases}", flush=True)
    print(f"peak memory after training {peak_rss_gib():.2f} GiB", flush=True)

    rng = np.random.default_rng(args.seed)
    users = rng.choice(
        model.data.user_ids[: model.data.n_active], size=min(args.latency_users, info["users"]), replace=False
    )
    model.recommend(str(users[0]), k=20)  # warm-up
    latencies = []
    for user in users:
        t = time.perf_counter()
        recs = model.recommend(str(user), k=20)
        latencies.append((time.perf_counter() - t) * 1000)
        assert recs and all(r.reason for r in recs)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    print(
        f"serving one user (k=20, with reasons) over {len(latencies)} users: p50 "
        f"{statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms",
        flush=True,
    )
    print(f"peak memory {peak_rss_gib():.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
