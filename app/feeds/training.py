"""Train the recommender from the database, judge it on the newest days, and publish its outputs.

`train_and_publish` builds interactions (likes, saves, comments, opens, shares from the event log), the
follow graph and item metadata from the database; trains a candidate on everything older than the last
HOLDOUT_DAYS and scores it on what readers did in those days (NDCG@20, Recall@20, beside a most-popular
baseline measured on the same split); then, unless the candidate is worse than the serving model, trains
on all data, saves the version under instance/models/<version>, writes its For-you candidates, similar
notes and people-to-follow into tables every web worker reads, and switches to it.

For you is never worse than popular: a candidate must score a higher NDCG@20 on the newest days than both
most-popular and the social-popularity blend (popularity plus what the reader's followees engaged with,
`blend_scores`, the same blend For you serves while no model is active). A candidate that does not is recorded
(so `flask recommender status` can say why) but not activated.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from flask import current_app
from sqlalchemy import delete, insert, select, update

from app.communities.models import Community
from app.core.clock import now
from app.core.uow import unit_of_work
from app.events.models import Event
from app.extensions import db
from app.feeds.models import FollowSuggestion, Recommendation, RecommenderModel, SimilarPost
from app.posts.models import STATUS_PUBLISHED, Comment, Like, Post, Save, Tag, post_tags
from app.shop.models import Order, OrderLine, OrderStatus, PostProduct
from app.social.models import Follow
from recommender import storage
from recommender.data import InputError, Interactions, ItemMeta
from recommender.metrics import ndcg_at_k, recall_at_k
from recommender.model import fit_from_rows

log = logging.getLogger(__name__)

# How much each kind of engagement says about taste (summed per reader and post).
WEIGHTS = {"open": 1.0, "share": 2.0, "like": 3.0, "comment": 3.0, "save": 4.0,
           "bought_from": 5.0,  # bought through this note's product card: the strongest signal we have
           "bought_featured": 1.5}  # bought a product this note features (elsewhere): a weaker hint
FEATURED_PER_PRODUCT = 20  # newest notes per bought product that get the weaker hint
HOLDOUT_DAYS = 3
CANDIDATES_PER_USER = 150
SIMILAR_PER_POST = 8
PEOPLE_PER_USER = 12
NOT_WORSE_TOLERANCE = 0.02  # a new version may score up to 2% lower on the holdout (noise) and still switch
MIN_INTERACTIONS = 50
# The social-popularity blend: popularity share + BLEND_SOCIAL · min(1, followees who engaged / 3); the same
# weight For you gives fresh followee engagement (app.feeds.foryou.FOLLOWEE_ENGAGED_WEIGHT).
BLEND_SOCIAL = 0.6
RETRAIN_COOLDOWN_HOURS = 6  # the nightly job skips when a version was trained this recently (e.g. by seed-demo)


@dataclass
class TrainingReport:
    version: str | None = None
    activated: bool = False
    reason: str = ""
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        m = self.metrics
        figures = ", ".join(f"{key}={value:.4f}" for key, value in sorted(m.items()) if isinstance(value, float))
        state = "activated" if self.activated else "not activated"
        return f"version {self.version or '-'}: {state} ({self.reason}); {figures}; {self.seconds:.1f}s"


@dataclass
class Dataset:
    users: list[str]
    items: list[str]
    weights: list[float]
    timestamps: list[float]
    followers: np.ndarray
    followees: np.ndarray
    meta: ItemMeta

    def interactions(self, mask: np.ndarray | None = None) -> Interactions:
        rows = Interactions(np.array(self.users, dtype=str), np.array(self.items, dtype=str),
                            np.array(self.weights, dtype=float), np.array(self.timestamps, dtype=float))
        return rows if mask is None else rows.subset(mask)


def add_purchases(add) -> None:
    """Purchases as taste: the note a purchase came through, and (weaker) the newest notes featuring what
    was bought. Only orders that were paid count; a refund does not undo the taste it showed."""
    paid = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED,
            OrderStatus.REFUNDED)
    bought = db.session.execute(select(Order.buyer_id, OrderLine.product_id, OrderLine.source_post_id, Order.paid_at)
                                .join(Order, Order.id == OrderLine.order_id)
                                .where(Order.status.in_(paid), Order.paid_at.is_not(None))).all()
    add(((row.buyer_id, row.source_post_id, row.paid_at) for row in bought if row.source_post_id), "bought_from")
    products = {row.product_id for row in bought}
    featured: dict[int, list[int]] = defaultdict(list)
    if products:
        for product_id, post_id in db.session.execute(
                select(PostProduct.product_id, PostProduct.post_id).where(PostProduct.product_id.in_(products))
                .order_by(PostProduct.product_id, PostProduct.post_id.desc())):
            if len(featured[product_id]) < FEATURED_PER_PRODUCT:
                featured[product_id].append(post_id)
    add(((row.buyer_id, post_id, row.paid_at) for row in bought for post_id in featured[row.product_id]
         if post_id != row.source_post_id), "bought_featured")


def build_dataset() -> Dataset:
    """Everything the recommender learns from, read from the database in a handful of queries."""
    pairs: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])

    def add(rows, kind):
        for user_id, post_id, at in rows:
            entry = pairs[(user_id, post_id)]
            entry[0] += WEIGHTS[kind]
            entry[1] = max(entry[1], at.timestamp())

    add(db.session.execute(select(Like.user_id, Like.post_id, Like.created_at)), "like")
    add(db.session.execute(select(Save.user_id, Save.post_id, Save.created_at)), "save")
    add(db.session.execute(select(Comment.author_id, Comment.post_id, Comment.created_at)
                           .where(Comment.status == STATUS_PUBLISHED)), "comment")
    for kind in ("open", "share"):
        add(db.session.execute(select(Event.user_id, Event.post_id, Event.created_at)
                               .where(Event.kind == kind, Event.user_id.is_not(None), Event.post_id.is_not(None))),
            kind)
    add_purchases(add)

    posts = db.session.execute(select(Post.id, Post.title, Post.body_md, Post.author_id, Post.created_at,
                                      Community.slug)
                               .join(Community, Community.id == Post.community_id)
                               .where(Post.status == STATUS_PUBLISHED).order_by(Post.id)).all()
    live = {row.id for row in posts}
    tags: dict[int, list[str]] = defaultdict(list)
    for post_id, name in db.session.execute(select(post_tags.c.post_id, Tag.name)
                                            .join(Tag, Tag.id == post_tags.c.tag_id)):
        tags[post_id].append(name)
    meta = ItemMeta(item_ids=[str(row.id) for row in posts], titles=[row.title for row in posts],
                    tags=[tags[row.id] for row in posts], texts=[(row.body_md or "")[:600] for row in posts],
                    communities=[row.slug for row in posts], authors=[str(row.author_id) for row in posts],
                    created=[row.created_at.timestamp() for row in posts])
    kept = [(user, post, value) for (user, post), value in pairs.items() if post in live and user is not None]
    kept.sort()
    follows = db.session.execute(select(Follow.follower_id, Follow.followee_id)).all()
    return Dataset(users=[str(u) for u, _p, _v in kept], items=[str(p) for _u, p, _v in kept],
                   weights=[v[0] for _u, _p, v in kept], timestamps=[v[1] for _u, _p, v in kept],
                   followers=np.array([str(a) for a, _b in follows], dtype=str),
                   followees=np.array([str(b) for _a, b in follows], dtype=str), meta=meta)


def holdout_metrics(dataset: Dataset, cutoff: float, seed: int, k: int = 20) -> dict:
    """Train on interactions before `cutoff`, score on each reader's posts after it (new to them)."""
    stamps = np.array(dataset.timestamps, dtype=float)
    train_mask = stamps < cutoff
    if train_mask.sum() < MIN_INTERACTIONS or (~train_mask).sum() == 0:
        return {}
    # The candidate may rank only what existed at the cutoff: a note published later could not be among the
    # recommendations a model trained then wrote (serving adds those through the fresh followee signals).
    existed = [item for item, created in zip(dataset.meta.item_ids, dataset.meta.created, strict=True)
               if not created >= cutoff]
    model = fit_from_rows(dataset.interactions(train_mask), dataset.followers, dataset.followees, dataset.meta, seed,
                          catalogue=existed)
    seen: dict[str, set[str]] = defaultdict(set)
    for user, item, keep in zip(dataset.users, dataset.items, train_mask, strict=True):
        if keep:
            seen[user].add(item)
    truth: dict[str, set[str]] = defaultdict(set)
    for user, item, keep in zip(dataset.users, dataset.items, train_mask, strict=True):
        if not keep and user in seen and item not in seen[user]:
            truth[user].add(item)
    if not truth:
        return {}
    popularity: dict[str, int] = defaultdict(int)
    for item, keep in zip(dataset.items, train_mask, strict=True):
        if keep:
            popularity[item] += 1
    popular = [item for item, _n in sorted(popularity.items(), key=lambda pair: (-pair[1], pair[0]))]
    followees: dict[str, set[str]] = defaultdict(set)
    for follower, followee in zip(dataset.followers, dataset.followees, strict=True):
        followees[str(follower)].add(str(followee))
    engaged_by: dict[str, set[str]] = defaultdict(set)  # item → who engaged with it before the cutoff
    for user, item, keep in zip(dataset.users, dataset.items, train_mask, strict=True):
        if keep:
            engaged_by[item].add(user)
    scores = {"": [], "popular_": [], "blend_": []}
    recalls = {"": [], "popular_": [], "blend_": []}
    ranked = dict(model.recommend_all(k=k, users=sorted(truth), diversity=False))
    for user, relevant in truth.items():
        rankings = {"": [rec.item_id for rec in ranked[user]],
                    "popular_": [item for item in popular if item not in seen[user]][:k],
                    "blend_": blend_ranking(popularity, engaged_by, followees[user], seen[user], k)}
        for prefix, ranking in rankings.items():
            scores[prefix].append(ndcg_at_k(ranking, relevant, k))
            recalls[prefix].append(recall_at_k(ranking, relevant, k))
    metrics = {"holdout_users": float(len(truth))}
    for prefix in scores:
        metrics[f"{prefix}ndcg20"] = float(np.mean(scores[prefix]))
        metrics[f"{prefix}recall20"] = float(np.mean(recalls[prefix]))
    return metrics


def blend_scores(popularity: dict, followees_engaged: dict) -> dict:
    """The social-popularity blend: each item's share of the top popularity plus BLEND_SOCIAL · min(1, n / 3)
    for n followees who engaged with it. Offline (holdout) and online (For you without a model) use this."""
    top = max(popularity.values(), default=0) or 1
    return {item: popularity.get(item, 0) / top + BLEND_SOCIAL * min(1.0, followees_engaged.get(item, 0) / 3)
            for item in set(popularity) | set(followees_engaged)}


def blend_ranking(popularity: dict[str, int], engaged_by: dict[str, set[str]], followees: set[str],
                  seen: set[str], k: int) -> list[str]:
    """The blend's top k for one reader, without what they already have."""
    social = {}
    if followees:
        for item, who in engaged_by.items():
            overlap = len(who & followees)
            if overlap:
                social[item] = overlap
    # Items beyond the most popular few hundred can only enter through the social part.
    head = dict(sorted(popularity.items(), key=lambda pair: -pair[1])[: k * 20 + len(seen)])
    scored = blend_scores(head | {item: popularity.get(item, 0) for item in social}, social)
    ranked = sorted((item for item in scored if item not in seen), key=lambda item: (-scored[item], item))
    return ranked[:k]


def verdict(metrics: dict, current: RecommenderModel | None) -> tuple[bool, str]:
    """Whether a candidate with these holdout metrics may serve, and why (in words for the status command)."""
    ours = metrics["ndcg20"]
    for prefix, name in (("popular_", "most-popular"), ("blend_", "the social-popularity blend")):
        theirs = metrics.get(f"{prefix}ndcg20")
        if theirs is not None and ours <= theirs:
            return False, f"holdout NDCG@20 {ours:.4f} does not beat {name} ({theirs:.4f})"
    if current is not None and (current.metrics or {}).get("ndcg20"):
        floor = current.metrics["ndcg20"] * (1 - NOT_WORSE_TOLERANCE)
        if ours < floor:
            return False, f"holdout NDCG@20 {ours:.4f} is below the current {floor:.4f}"
    return True, (f"holdout NDCG@20 {ours:.4f} beats most-popular ({metrics.get('popular_ndcg20', 0):.4f}) and the "
                  f"social-popularity blend ({metrics.get('blend_ndcg20', 0):.4f})")


def active_model() -> RecommenderModel | None:
    return db.session.scalar(select(RecommenderModel).where(RecommenderModel.is_active.is_(True)))


def models_root() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "models"


def _publish(model, version: str) -> None:
    """Replace the precomputed outputs with this version's, in one transaction."""
    user_ids = {int(u) for u in model.data.user_ids[: model.data.n_active]}
    users = sorted(user_ids | set(db.session.scalars(select(Follow.follower_id).distinct())))
    rows = []
    for user, recs in model.recommend_all(k=CANDIDATES_PER_USER, users=[str(u) for u in users], diversity=False):
        rows.extend({"user_id": int(user), "post_id": int(rec.item_id), "score": float(rec.score),
                     "reason": {"code": rec.reason.code, "params": rec.reason.params}, "model_version": version}
                    for rec in recs)
    # Serving filters and diversifies on author and community: copy them in, so it need not read the posts.
    post_ids = sorted({row["post_id"] for row in rows})
    placed = {}
    for start in range(0, len(post_ids), 5_000):
        placed.update((post_id, (author_id, community_id)) for post_id, author_id, community_id in db.session.execute(
            select(Post.id, Post.author_id, Post.community_id).where(Post.id.in_(post_ids[start:start + 5_000]))))
    for row in rows:
        row["author_id"], row["community_id"] = placed.get(row["post_id"], (None, None))
    similar = [{"post_id": int(item), "similar_id": int(rec.item_id), "score": float(rec.score),
                "model_version": version}
               for item, recs in model.similar_all(k=SIMILAR_PER_POST) for rec in recs]
    people = []
    for user in users:
        for suggested, score, reason in model.people_to_follow(str(user), k=PEOPLE_PER_USER):
            people.append({"user_id": user, "suggested_id": int(suggested), "score": float(score),
                           "reason": {"code": reason.code, "params": reason.params}, "model_version": version})
    db.session.execute(delete(Recommendation))
    db.session.execute(delete(SimilarPost))
    db.session.execute(delete(FollowSuggestion))
    for table, batch in ((Recommendation, rows), (SimilarPost, similar), (FollowSuggestion, people)):
        for start in range(0, len(batch), 5_000):
            db.session.execute(insert(table), batch[start:start + 5_000])
    db.session.execute(update(RecommenderModel).values(is_active=False))
    db.session.execute(update(RecommenderModel).where(RecommenderModel.version == version).values(is_active=True))


def train_and_publish(force: bool = False, seed: int = 2026, evaluate: bool = True) -> TrainingReport:
    """Train, evaluate on the newest days, save a version, and switch to it unless it is worse.

    `evaluate=False` skips the holdout run (the demo seed uses it to stay quick); such a version always switches.
    """
    started = time.perf_counter()
    report = TrainingReport()
    dataset = build_dataset()
    if len(dataset.users) < MIN_INTERACTIONS:
        report.reason = f"too little data ({len(dataset.users)} interactions; need {MIN_INTERACTIONS})"
        return report
    newest = max(dataset.timestamps)
    if evaluate:
        report.metrics = holdout_metrics(dataset, newest - HOLDOUT_DAYS * 86_400, seed)
    current = active_model()
    if force:
        report.reason = "forced"
    elif not report.metrics:
        report.reason = ("not evaluated" if not evaluate else "no holdout to judge it on (nothing new in the last "
                         f"{HOLDOUT_DAYS} days)")
        if current is not None:  # an unjudged candidate never replaces a judged one
            report.reason += "; kept the current model"
            return _refused(report, started)
    else:
        allowed, report.reason = verdict(report.metrics, current)
        if not allowed:
            return _refused(report, started)
    try:
        model = fit_from_rows(dataset.interactions(), dataset.followers, dataset.followees, dataset.meta, seed,
                              catalogue=dataset.meta.item_ids)
    except InputError as exc:
        report.reason = f"cannot train: {exc}"
        return report
    version = _new_version()
    directory = models_root() / version
    if directory.exists():
        shutil.rmtree(directory)
    seconds = time.perf_counter() - started
    storage.save(model, directory, metrics={**report.metrics, "train_seconds": seconds})
    with unit_of_work():
        db.session.add(RecommenderModel(version=version, path=str(directory), n_users=int(model.data.n_users),
                                        n_items=int(model.data.n_items), n_interactions=len(dataset.users),
                                        train_seconds=seconds, metrics={**report.metrics, "verdict": report.reason},
                                        is_active=False))
        db.session.flush()
        _publish(model, version)
    report.version, report.activated = version, True
    report.seconds = time.perf_counter() - started
    log.info("recommender %s", report.summary())
    return report


def _new_version() -> str:
    version = now().strftime("%Y%m%d-%H%M%S")
    if db.session.get(RecommenderModel, version) is not None:  # two runs in one second (tests, a retry)
        version += f"-{int(time.time() * 1000) % 1000:03d}"
    return version


def _refused(report: TrainingReport, started: float) -> TrainingReport:
    """Record a candidate that may not serve, with why, so `flask recommender status` can tell."""
    report.version = _new_version()
    report.seconds = time.perf_counter() - started
    with unit_of_work():
        db.session.add(RecommenderModel(version=report.version, path="", n_interactions=0,
                                        train_seconds=report.seconds,
                                        metrics={**report.metrics, "verdict": report.reason}, is_active=False))
    log.info("recommender %s", report.summary())
    return report


def train_nightly() -> str:
    """The nightly schedule's job (safe to run twice: the second run simply trains another version). Skips when
    a version was trained in the last RETRAIN_COOLDOWN_HOURS: a fresh seed has just trained one, and a first
    `make run` should serve, not retrain."""
    newest = db.session.scalar(select(RecommenderModel.created_at).order_by(RecommenderModel.created_at.desc())
                               .limit(1))
    if newest is not None and now() - newest < timedelta(hours=RETRAIN_COOLDOWN_HOURS):
        return f"skipped: a version was trained at {newest:%Y-%m-%d %H:%M} (less than {RETRAIN_COOLDOWN_HOURS} h ago)"
    return train_and_publish().summary()
