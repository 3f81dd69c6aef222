"""For you: precomputed candidates re-scored online with fresh signals, filtered, diversified, explained.

Serving reads only tables every worker shares (recommendations written by app.feeds.training) plus live
rows, so any host answers the same. Per request:

  1. candidates: the active model's top CANDIDATES_PER_USER for the reader, plus fresh ones the model has
     not seen — posts followees liked or saved since it was trained, and followees' new posts;
  2. online score (hand-set, documented weights):
        score = (model_score - lowest) / (highest - lowest)   over the reader's candidates (1 when all equal:
                                                               a ranker's scores may be any real numbers)
              + 0.6 · min(1, fresh followee likes/saves / 3) + 0.4 · [new post by a followee]
              + 0.15 · [in a community the reader joined]
        × 0.25 when the reader asked for fewer from that author, × 0.5 for fewer from that community;
  3. drop the reader's own posts, posts they already liked/saved/opened, "not interested" posts, removed
     posts and anyone blocked either way;
  4. diversity: at most 2 per author and 4 per community in every page of 20 (recommender.rerank).

A page's cursor carries the moment its first page was read: later pages read fresh signals and the
reader's own likes, saves and opens as of then, so the order they continue is the one the first page began
(feedback applies at once; new activity waits for a fresh first page).

While no model serves (none trained yet, or none has beaten popularity on the newest days, see
app.feeds.training), and for readers the model has no candidates for, For you is the social-popularity blend:
hot posts from the reader's communities, then trending (scored 0.25–1 by rank), plus 0.6 · min(1, n / 3) for n
followees who liked or saved a note in the last BLEND_SOCIAL_DAYS, each card with the matching reason.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, literal, or_, select, union_all
from sqlalchemy.orm import defer

from app.accounts.models import User, suspended_now_clause
from app.communities.models import Membership
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Invalid, NotFound
from app.core.pagination import decode_cursor, encode_cursor
from app.core.uow import transactional
from app.events.log import new_request_id, record_impressions
from app.events.models import Event
from app.extensions import db
from app.feeds.models import (
    FEEDBACK_KINDS,
    FeedFeedback,
    FollowSuggestion,
    Recommendation,
    RecommenderModel,
    SimilarPost,
)
from app.feeds.reasons import describe
from app.posts.cards import card_load_options
from app.posts.models import STATUS_PUBLISHED, Like, Post, Save
from app.social.blocks import hidden_user_ids
from app.social.models import Block, Follow
from recommender.rerank import diversify

PAGE_SIZE = 20
CANDIDATES = 300
FRESH_LIMIT = 200
FRESH_WINDOW_HOURS = 48  # "fresh" reaches back at most two days
FRESH_FOLLOWEES = 1_000
BLEND_SOCIAL_DAYS = 14  # without a model, followees' likes and saves this far back count
COLD_COMMUNITIES = 10
FOLLOWEE_ENGAGED_WEIGHT, FOLLOWEE_POST_WEIGHT, JOINED_WEIGHT = 0.6, 0.4, 0.15
FEWER_AUTHOR, FEWER_COMMUNITY = 0.25, 0.5
MAX_PAGES = 15
_EPOCH, _MS = datetime(1970, 1, 1), timedelta(milliseconds=1)  # a cursor's moment: milliseconds since the epoch
CLOCK_SKEW = timedelta(minutes=5)
REMOVED_SLACK = 10  # notes past a page's end it may read in place of removed ones


@dataclass
class Card:
    post: Post | None  # None when the page was read without posts (with_posts=False): see app.feeds.cards
    reason: dict  # {"code": …, "params": {…}}; rendered by app.feeds.reasons
    post_id: int = 0
    like_count: int = 0
    edited_at: datetime | None = None


@dataclass
class ForYouPage:
    cards: list[Card]
    next_cursor: str | None
    model_version: str | None
    cold_start: bool = False
    items: list[Post] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # blocked either way, for the rest of the page to reuse


def active_version() -> RecommenderModel | None:
    return db.session.scalar(select(RecommenderModel).where(RecommenderModel.is_active.is_(True)))


def record_shown(post_ids: list[int], surface: str, viewer: User | None, anon_id: str | None) -> int:
    """Log the notes a recommendation surface showed (similar notes, notes featuring a product), with the
    serving model's version, so the next training sees what was offered and what followed."""
    model = active_version()
    return record_impressions(post_ids, surface=surface, request_id=new_request_id(),
                              user_id=viewer.id if viewer else None, anon_id=anon_id,
                              model_version=model.version if model else None)


def _position(cursor: str | None) -> tuple[int, datetime]:
    """Positions already consumed and the moment the feed is read as of (the first page's, so the order the
    next pages continue is the one the first page began: later likes and posts wait for a fresh first page)."""
    moment = now()
    if not cursor:  # rounded up to the millisecond the cursor carries, so nothing made by now is left out
        return 0, _EPOCH + _MS * -((_EPOCH - moment) // _MS)
    raw = decode_cursor(cursor)
    valid = (len(raw) in (1, 2) and all(isinstance(value, int) and not isinstance(value, bool) for value in raw)
             and 0 <= raw[0] <= PAGE_SIZE * MAX_PAGES)
    as_of = moment  # cursors written before they carried the moment read as of now
    if valid and len(raw) == 2:
        try:
            as_of = _EPOCH + _MS * raw[1]
        except OverflowError:
            valid = False
        valid = valid and as_of <= moment + CLOCK_SKEW  # another host's clock may run a little ahead
    if not valid:
        raise Invalid(_("This page link is not valid."), {"cursor": [_("This page link is not valid.")]})
    return raw[0], as_of


def _cursor(consumed: int, as_of: datetime) -> str:
    return encode_cursor([consumed, (as_of - _EPOCH) // _MS])


def _reader_state(user_id: int, as_of: datetime) -> tuple[set[int], dict[str, set[int]], set[int], set[int]]:
    """In one statement: who is blocked either way or suspended (the rule of app.social.blocks.hidden_user_ids), the
    reader's feedback by kind, the notes they liked, saved or opened by `as_of`, and the communities they joined."""
    rows = union_all(
        select(literal("block"), case((Block.blocker_id == user_id, Block.blocked_id), else_=Block.blocker_id))
        .where(or_(Block.blocker_id == user_id, Block.blocked_id == user_id)),
        select(literal("block"), User.id).where(suspended_now_clause()),  # nobody sees a suspended account
        select(FeedFeedback.kind, FeedFeedback.target_id).where(FeedFeedback.user_id == user_id),
        select(literal("engaged"), Like.post_id).where(Like.user_id == user_id, Like.created_at <= as_of),
        select(literal("engaged"), Save.post_id).where(Save.user_id == user_id, Save.created_at <= as_of),
        select(literal("engaged"), Event.post_id).where(Event.user_id == user_id, Event.kind == "open",
                                                        Event.created_at <= as_of),
        select(literal("joined"), Membership.community_id).where(Membership.user_id == user_id),
    )
    chosen: dict[str, set[int]] = defaultdict(set)
    for kind, target in db.session.execute(rows):
        if target is not None:
            chosen[kind].add(target)
    hidden, engaged, joined = chosen.pop("block", set()), chosen.pop("engaged", set()), chosen.pop("joined", set())
    return hidden, chosen, engaged, joined


def _fresh(user_id: int, since: datetime, until: datetime) -> tuple[dict[int, list[int]], set[int],
                                                                    dict[int, tuple[int, int]]]:
    """Posts followees liked or saved between `since` and `until` (with who), followees' posts created
    then, and the author and community of each of those posts (published ones only).

    Looks at the reader's FRESH_FOLLOWEES most recent followees only, so a reader following thousands
    costs the same as one following a few hundred (ix_likes_user_created / ix_saves_user_created).
    """
    followees = (select(Follow.followee_id).where(Follow.follower_id == user_id)
                 .order_by(Follow.created_at.desc()).limit(FRESH_FOLLOWEES)).scalar_subquery()
    engaged: dict[int, list[int]] = defaultdict(list)
    placed: dict[int, tuple[int, int]] = {}
    rows = union_all(
        select(Like.post_id, Like.user_id, Like.created_at)
        .where(Like.user_id.in_(followees), Like.created_at >= since, Like.created_at <= until),
        select(Save.post_id, Save.user_id, Save.created_at)
        .where(Save.user_id.in_(followees), Save.created_at >= since, Save.created_at <= until),
    ).subquery()
    # The newest engagements first, then their posts: the join reads at most the rows the limit keeps.
    newest = (select(rows.c.post_id, rows.c.user_id, rows.c.created_at)
              .order_by(rows.c.created_at.desc()).limit(FRESH_LIMIT * 3)).subquery()
    for post_id, who, author_id, community_id in db.session.execute(
            select(newest.c.post_id, newest.c.user_id, Post.author_id, Post.community_id)
            .join(Post, Post.id == newest.c.post_id).where(Post.status == STATUS_PUBLISHED)
            .order_by(newest.c.created_at.desc())):
        placed[post_id] = (author_id, community_id)
        if who not in engaged[post_id]:
            engaged[post_id].append(who)
    new_posts = set()
    for post_id, author_id, community_id in db.session.execute(
            select(Post.id, Post.author_id, Post.community_id)
            .where(Post.author_id.in_(followees), Post.created_at >= since, Post.created_at <= until,
                   Post.status == STATUS_PUBLISHED)
            .order_by(Post.created_at.desc()).limit(FRESH_LIMIT)):
        new_posts.add(post_id)
        placed[post_id] = (author_id, community_id)
    return engaged, new_posts, placed


def _cold_start(viewer: User, excluded: set[int], hidden: set[int]) -> list[tuple[int, float, dict]]:
    """Hot posts from the reader's communities first, then trending everywhere.

    One short index walk per joined community (ix_posts_community_hot, at most COLD_COMMUNITIES of them)
    instead of one sort over every post of all of them.
    """
    joined = list(db.session.scalars(select(Membership.community_id).where(Membership.user_id == viewer.id)
                                     .order_by(Membership.joined_at.desc()).limit(COLD_COMMUNITIES)))
    base = select(Post.id).where(Post.status == STATUS_PUBLISHED, Post.author_id != viewer.id)
    if hidden:
        base = base.where(Post.author_id.not_in(hidden))
    per_community = max(10, CANDIDATES // max(1, len(joined)))
    hot: list[tuple[float, int, int]] = []
    for community_id in joined:
        rows = db.session.execute(base.add_columns(Post.hot_score).where(Post.community_id == community_id)
                                  .order_by(Post.hot_score.desc()).limit(per_community))
        hot += [(score, post_id, community_id) for post_id, score in rows]
    hot.sort(key=lambda entry: (-entry[0], -entry[1]))
    ranked: list[tuple[int, float, dict]] = []
    for _score, post_id, community_id in hot:
        if post_id not in excluded:
            ranked.append((post_id, 2.0 - len(ranked) / CANDIDATES,
                           {"code": "popular_in_community", "params": {"community_id": community_id}}))
    seen = {post_id for post_id, _s, _r in ranked}
    for post_id in db.session.scalars(base.order_by(Post.hot_score.desc()).limit(CANDIDATES)):
        if post_id not in excluded and post_id not in seen:
            ranked.append((post_id, 1.0 - len(ranked) / (2 * CANDIDATES), {"code": "trending", "params": {}}))
    return ranked


def for_you_feed(viewer: User, cursor: str | None = None, limit: int = PAGE_SIZE,
                 with_posts: bool = True) -> ForYouPage:
    """One page of the reader's For-you feed, each card with the reason it is there.

    `with_posts=False` reads only what a cached card's key needs (id, status, likes, edit time) instead of the
    posts with their authors, communities and images: the home page renders cards from app.feeds.cards."""
    offset, as_of = _position(cursor)
    model = active_version()
    # live: "not interested" and "fewer" change what comes next
    hidden, feedback, engaged_already, joined = _reader_state(viewer.id, as_of)
    excluded = engaged_already | feedback["not_interested"]

    candidates: dict[int, list] = {}  # post id → [score, reason]
    placed: dict[int, tuple[int, int]] = {}  # post id → (author id, community id)
    rows = db.session.execute(select(Recommendation.post_id, Recommendation.score, Recommendation.reason,
                                     Recommendation.author_id, Recommendation.community_id)
                              .where(Recommendation.user_id == viewer.id)
                              .order_by(Recommendation.score.desc()).limit(CANDIDATES)).all()
    top = max((row.score for row in rows), default=0.0)
    low = min((row.score for row in rows), default=0.0)
    for post_id, score, reason, author_id, community_id in rows:
        candidates[post_id] = [(score - low) / (top - low) if top > low else 1.0, dict(reason or {})]
        if author_id is not None:
            placed[post_id] = (author_id, community_id)

    # Fresh means since the model was trained, but never more than two days back (if training stalls). With no
    # model serving, For you is the social-popularity blend: popular notes plus what followees engaged with
    # over a longer window (app.feeds.training.blend_scores, which a model must beat before it serves).
    window_start = as_of - (timedelta(hours=FRESH_WINDOW_HOURS) if model else timedelta(days=BLEND_SOCIAL_DAYS))
    since = max(model.created_at, window_start) if model else window_start
    engaged, new_posts, fresh_placed = _fresh(viewer.id, since, as_of)
    placed.update(fresh_placed)
    for post_id, who in engaged.items():
        entry = candidates.setdefault(post_id, [0.0, {}])
        entry[0] += FOLLOWEE_ENGAGED_WEIGHT * min(1.0, len(who) / 3)
        entry[1] = {"code": "followees_engaged", "params": {"user_ids": [str(w) for w in who[:2]],
                                                             "others": max(0, len(who) - 1)}}
    for post_id in new_posts:
        entry = candidates.setdefault(post_id, [0.0, {}])
        entry[0] += FOLLOWEE_POST_WEIGHT
        if not entry[1]:
            entry[1] = {"code": "new_from_followee", "params": {}}

    cold = not candidates
    if cold or not rows:  # no model (or none for this reader): the popular part of the blend
        for post_id, score, reason in _cold_start(viewer, excluded, hidden):
            entry = candidates.setdefault(post_id, [0.0, reason])
            entry[0] += score / 2  # popular in a joined community (0.5–1), else trending (0.25–0.5)
    missing = [post_id for post_id in candidates if post_id not in placed]
    if missing:  # cold start, and rows published before recommendations carried author and community
        placed.update((row.id, (row.author_id, row.community_id)) for row in db.session.execute(
            select(Post.id, Post.author_id, Post.community_id).where(Post.id.in_(missing))))

    ranked = []
    for post_id, (score, reason) in candidates.items():
        author_id, community_id = placed.get(post_id, (None, None))
        if author_id is None or post_id in excluded or author_id == viewer.id or author_id in hidden:
            continue
        if community_id in joined:
            score += JOINED_WEIGHT
        if author_id in feedback["fewer_author"]:
            score *= FEWER_AUTHOR
        if community_id in feedback["fewer_community"]:
            score *= FEWER_COMMUNITY
        ranked.append((score, post_id, reason))
    ranked.sort(key=lambda entry: (-entry[0], -entry[1]))
    # Only as far down the order as this page can reach (with room for removed notes, and one more to know
    # whether another page follows).
    reach = min(len(ranked), offset + limit + REMOVED_SLACK + 1)
    order = diversify(list(range(len(ranked))), reach,
                      authors=[str(placed[p][0]) for _s, p, _r in ranked],
                      communities=[str(placed[p][1]) for _s, p, _r in ranked],
                      max_per_author=2, max_per_community=4, page_size=PAGE_SIZE)
    # Status is checked here, on the notes about to be shown: a removed or deleted one is passed over and
    # the page takes the next, so the cursor moves past every position this page consumed.
    slice_ = [ranked[index] for index in order[offset: offset + limit + REMOVED_SLACK]]
    wanted = [p for _s, p, _r in slice_]
    if with_posts:
        posts = {post.id: post for post in db.session.scalars(
            select(Post).where(Post.id.in_(wanted))
            .options(*card_load_options(), defer(Post.body_md), defer(Post.body_html)))}  # cards show no body
    else:
        posts = {row.id: row for row in db.session.execute(
            select(Post.id, Post.status, Post.like_count, Post.edited_at).where(Post.id.in_(wanted)))}
    cards, consumed = [], offset
    for _score, post_id, reason in slice_:
        if len(cards) >= limit:
            break
        consumed += 1
        post = posts.get(post_id)
        if post is not None and post.status == STATUS_PUBLISHED:
            cards.append(Card(post if with_posts else None, reason or {"code": "popular", "params": {}},
                              post_id, post.like_count, post.edited_at))
    has_more = len(order) > consumed and consumed < PAGE_SIZE * MAX_PAGES
    return ForYouPage(cards=cards, next_cursor=_cursor(consumed, as_of) if has_more else None,
                      model_version=model.version if model else None, cold_start=cold,
                      items=[card.post for card in cards if card.post is not None], hidden=hidden)


@transactional
def give_feedback(user: User, kind: str, post_id: int) -> FeedFeedback:
    """Remember "not interested" (this post), "fewer from this author" or "fewer from this community"."""
    if kind not in FEEDBACK_KINDS:
        message = _("Choose not interested, fewer from this author or fewer from this community.")
        raise Invalid(message, {"kind": [message]})
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound(_("This note does not exist."))
    target = {"not_interested": post.id, "fewer_author": post.author_id, "fewer_community": post.community_id}[kind]
    insert_if_absent(FeedFeedback, user_id=user.id, kind=kind, target_id=target, created_at=now())
    return db.session.scalar(select(FeedFeedback).where(FeedFeedback.user_id == user.id, FeedFeedback.kind == kind,
                                                        FeedFeedback.target_id == target))


@transactional
def undo_feedback(user: User, feedback_id: int) -> None:
    row = db.session.get(FeedFeedback, feedback_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("This choice does not exist."))
    db.session.delete(row)


def people_to_follow(viewer: User, limit: int = 6) -> list[tuple[User, str]]:
    """Suggested people, each with the sentence that says why (see suggest_people)."""
    picks = suggest_people(viewer, limit)
    return list(zip([user for user, _r in picks], describe([reason for _u, reason in picks]), strict=True))


def suggest_people(viewer: User, limit: int = 6, hidden: set[int] | None = None) -> list[tuple[User, dict]]:
    """Suggested people with a reason code: the model's picks (friends of friends, shared taste), else active
    authors in the reader's communities. Never the reader, someone they follow, or anyone blocked (`hidden`,
    when the caller already looked the blocks up)."""
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer.id)
    hidden = (hidden_user_ids(viewer.id) if hidden is None else hidden) | {viewer.id}
    rows = db.session.execute(select(FollowSuggestion.suggested_id, FollowSuggestion.reason)
                              .where(FollowSuggestion.user_id == viewer.id,
                                     FollowSuggestion.suggested_id.not_in(followed))
                              .order_by(FollowSuggestion.score.desc()).limit(limit + len(hidden))).all()
    picks = [(user_id, dict(reason or {})) for user_id, reason in rows if user_id not in hidden][:limit]
    if len(picks) < limit:
        # Active authors of the reader's communities: one short walk of ix_posts_community_hot per community
        # (as the cold-start feed does), never one sort over every post of all of them.
        joined = list(db.session.scalars(select(Membership.community_id).where(Membership.user_id == viewer.id)
                                         .order_by(Membership.joined_at.desc()).limit(COLD_COMMUNITIES)))
        taken = {user_id for user_id, _r in picks} | hidden
        hot: list[tuple[float, int, int]] = []
        for community_id in joined:
            hot += [(score, author_id, community_id) for author_id, score in db.session.execute(
                select(Post.author_id, Post.hot_score).where(Post.community_id == community_id,
                                                             Post.status == STATUS_PUBLISHED,
                                                             Post.author_id.not_in(followed))
                .order_by(Post.hot_score.desc()).limit(limit * 8))]
        for _score, user_id, community_id in sorted(hot, key=lambda entry: -entry[0]):
            if user_id not in taken:
                taken.add(user_id)
                picks.append((user_id, {"code": "active_in_community", "params": {"community_id": community_id}}))
            if len(picks) >= limit:
                break
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_([p for p, _r in picks])))}
    return [(users[user_id], reason) for user_id, reason in picks if user_id in users]


def similar_posts(post: Post, viewer: User | None, limit: int = 6) -> list[tuple[Post, str]]:
    """'Similar notes' from the active model (people who liked this also liked), else hot in its community."""
    hidden = hidden_user_ids(viewer.id if viewer else None)
    ids = list(db.session.scalars(select(SimilarPost.similar_id).where(SimilarPost.post_id == post.id)
                                  .order_by(SimilarPost.score.desc()).limit(limit * 2)))
    reason = {"code": "also_liked", "params": {"item_id": str(post.id)}}
    if len(ids) < limit:
        extra = db.session.scalars(select(Post.id).where(Post.community_id == post.community_id, Post.id != post.id,
                                                         Post.status == STATUS_PUBLISHED)
                                   .order_by(Post.hot_score.desc()).limit(limit * 2))
        ids += [i for i in extra if i not in ids]
    posts = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(ids)).options(*card_load_options()))}
    chosen = [posts[i] for i in ids if i in posts and posts[i].status == STATUS_PUBLISHED
              and posts[i].author_id not in hidden and posts[i].id != post.id][:limit]
    similar_ids = set(ids[: limit * 2]) & set(db.session.scalars(
        select(SimilarPost.similar_id).where(SimilarPost.post_id == post.id)))
    fallback = {"code": "popular_in_community", "params": {"community_id": post.community_id}}
    texts = describe([reason if p.id in similar_ids else fallback for p in chosen])
    return list(zip(chosen, texts, strict=True))
