"""`python -m recommender recommend|evaluate`: the command-line contract the offline evaluator relies on."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence

from .data import InputError, read_interactions, read_items, read_social


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recommender", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("recommend", help="train on TRAIN and write the top k new items of every user")
    rec.add_argument("--interactions", required=True, help="CSV user_id,item_id,weight,timestamp")
    rec.add_argument("--social", required=True, help="CSV follower_id,followee_id")
    rec.add_argument("--items", help="optional CSV item_id,title,tags[,text,community,author]")
    rec.add_argument("--k", type=int, default=20)
    rec.add_argument("--out", required=True, help="output CSV user_id,item_id,rank,score,reason")
    rec.add_argument("--seed", type=int, default=2026)
    rec.add_argument("--save-model", metavar="DIR", help="also save the trained model to DIR")
    ev = commands.add_parser("evaluate", help="the offline protocol: our model against tuned peers")
    ev.add_argument("--dataset", required=True, help="folder with interactions.csv, social.csv[, items.csv]")
    ev.add_argument("--k", type=int, default=20)
    ev.add_argument("--seed", type=int, default=2026)
    ev.add_argument("--json", metavar="OUT", help="write every number to this JSON file")
    return parser


def _recommend(args: argparse.Namespace) -> None:
    from .model import Recommender, Settings

    if args.k < 1:
        raise InputError(f"--k must be at least 1, got {args.k}")
    interactions = read_interactions(args.interactions)
    followers, followees = read_social(args.social)
    items = read_items(args.items) if args.items else None
    model = Recommender(Settings(seed=args.seed)).fit(interactions, followers, followees, items)
    try:
        handle = open(args.out, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot write {args.out}: {exc.strerror}") from None
    with handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "rank", "score", "reason"])
        for user, recs in model.recommend_all(args.k):
            for r in recs:
                writer.writerow([user, r.item_id, r.rank, f"{r.score:.6f}", r.reason.text()])
    if args.save_model:
        from .storage import save

        save(model, args.save_model)


def _evaluate(args: argparse.Namespace) -> None:
    from .evaluate import run_evaluation, write_json

    if args.k < 1:
        raise InputError(f"--k must be at least 1, got {args.k}")
    results = run_evaluation(args.dataset, k=args.k, seed=args.seed)
    if args.json:
        write_json(results, args.json)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input prints one line on stderr and returns 2."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "recommend":
            _recommend(args)
        else:
            _evaluate(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for this input", file=sys.stderr)
        return 2
    return 0
