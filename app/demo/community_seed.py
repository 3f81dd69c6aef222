"""Demo communities, a power-law follower graph with interest clusters, notes/reviews with generated
covers, and the likes, saves, comments and event log that follow those interests.

Rows are written in bulk (this is demo data, not user input), but every counter is computed from the
rows it counts, so the demo obeys the same invariants as real use.
"""
from __future__ import annotations

import io
import os
import random
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, select, update

from app.accounts.models import User
from app.communities.models import ROLE_MEMBER, ROLE_MODERATOR, ROLE_OWNER, Community, Membership
from app.core.clock import now
from app.core.uow import transactional
from app.demo import progress
from app.demo.content import COMMUNITIES, comment_text, note_text
from app.demo.covers import make_cover
from app.demo.taste import READER_ACTIVITY, simulate_engagement
from app.events.models import Event
from app.extensions import db
from app.posts.models import KIND_NOTE, KIND_REVIEW, Collection, Comment, Like, Post, PostImage, Save, Tag, post_tags
from app.social.models import Follow

DISPLAY_SIZE, THUMB_SIZE = (540, 720), (360, 480)


def _render_cover(job: tuple[str, str, int, str, list[tuple[str, str]]]) -> int:
    """Worker: draw one cover and write its display and thumbnail WebP files for every post that has this
    title (the first gets the files, the others hard links to them: their own paths, no second drawing)."""
    title, vertical, seed, media_root, paths = job
    image = make_cover(title, vertical, seed, DISPLAY_SIZE)
    for index, size in ((0, DISPLAY_SIZE), (1, THUMB_SIZE)):
        buffer = io.BytesIO()
        (image if size == DISPLAY_SIZE else image.resize(size)).save(buffer, "WEBP", quality=80, method=2)
        first = Path(media_root) / paths[0][index]
        first.parent.mkdir(parents=True, exist_ok=True)
        first.write_bytes(buffer.getvalue())
        for pair in paths[1:]:
            target = Path(media_root) / pair[index]
            try:
                os.link(first, target)
            except OSError:  # a file system without hard links
                target.write_bytes(buffer.getvalue())
    return len(paths)


def _render_covers(jobs: list[tuple]) -> int:
    """Worker: a chunk of _render_cover jobs; returns how many notes got their files."""
    return sum(_render_cover(job) for job in jobs)


class CoverDrawing:
    """The covers of a batch of notes, drawn once per distinct title and vertical in worker processes while the
    seed goes on with its other stages (they need the database, not the files): `wait()` before the seed ends.

    Jobs are (title, vertical, seed, media root, display path, thumbnail path), one per note."""

    CHUNK = 8

    def __init__(self, jobs: list[tuple[str, str, int, str, str, str]]):
        grouped: dict[tuple[str, str], list] = {}
        for title, vertical, seed, media_root, display, thumb in jobs:
            entry = grouped.setdefault((title, vertical), [title, vertical, seed, media_root, []])
            entry[4].append((display, thumb))
        work = [tuple(entry) for entry in grouped.values()]
        self.notes, self.drawn = len(jobs), len(work)
        chunks = [work[start:start + self.CHUNK] for start in range(0, len(work), self.CHUNK)]
        self._pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2) if len(chunks) > 1 else None
        self._futures = [self._pool.submit(_render_covers, chunk) for chunk in chunks] if self._pool else []
        self._inline = chunks if self._pool is None else []

    def wait(self) -> int:
        """Wait for every cover (showing progress); returns how many were drawn."""
        with progress.stage("note covers", self.notes) as step:
            for chunk in self._inline:
                step.advance(_render_covers(chunk))
            self._inline = []
            try:
                for future in as_completed(self._futures):
                    step.advance(future.result())
            finally:
                if self._pool is not None:
                    self._pool.shutdown(cancel_futures=True)
                    self._pool = None
                self._futures = []
        return self.drawn


_drawing: list[CoverDrawing] = []  # started by seed_social_content, waited for by finish_covers


def render_covers(jobs: list[tuple[str, str, int, str, str, str]]) -> int:
    """Draw these notes' covers now; returns how many were drawn."""
    return CoverDrawing(jobs).wait()


def finish_covers() -> int:
    """Wait for the covers seed_social_content started drawing; returns how many were drawn."""
    drawn = 0
    while _drawing:
        drawn += _drawing.pop().wait()
    return drawn


@transactional
def seed_communities(named: dict[str, User]) -> list[Community]:
    """The eight demo communities (skipping any that exist), owned and moderated by the named accounts."""
    existing = {c.slug: c for c in db.session.scalars(select(Community))}
    made = []
    for slug, vertical, name, description, rules in COMMUNITIES:
        if slug in existing:
            made.append(existing[slug])
            continue
        owner = named["moderator"] if vertical == "outdoor" else named["creator"] if vertical in (
            "beauty", "digital") else named["admin"]
        community = Community(slug=slug, vertical=vertical, name=name, description=description, rules_md=rules,
                              owner=owner)
        db.session.add(community)
        db.session.flush()
        db.session.add(Membership(user_id=owner.id, community_id=community.id, role=ROLE_OWNER))
        if owner.id != named["moderator"].id:
            db.session.add(Membership(user_id=named["moderator"].id, community_id=community.id, role=ROLE_MODERATOR))
        made.append(community)
    return made


@transactional
def seed_social_content(named: dict[str, User], posts_wanted: int, seed: int) -> dict[str, int]:
    """Follows, memberships, posts, engagement and events; does nothing when posts already exist."""
    from app.posts.services import hot_score
    from app.posts.text import render_body

    if db.session.scalar(select(func.count(Post.id))):
        return {}
    rng = random.Random(seed)
    step = progress.start("communities, follows")
    communities = seed_communities(named)
    users = list(db.session.scalars(select(User).order_by(User.id)))
    verticals = [c.vertical for c in communities]
    by_vertical = {c.vertical: c for c in communities}
    # Interest clusters: each person cares about one to three verticals.
    interests = {u.id: rng.sample(verticals, rng.choice([1, 1, 2, 2, 3])) for u in users}
    interests[named["reader"].id] = ["outdoor", "beauty", "food"]
    interests[named["creator"].id] = ["beauty", "outdoor"]
    chinese = {u.id: (u.locale == "zh_Hans") for u in users}
    # Creators: a power law of activity; the named creator writes a lot.
    activity = {u.id: 1.0 / (rank + 1) ** 0.8 for rank, u in enumerate(rng.sample(users, len(users)))}
    activity[named["creator"].id] = max(activity.values()) * 1.5

    memberships = {(m.user_id, m.community_id) for m in db.session.scalars(select(Membership))}
    member_rows = []
    for user in users:
        for vertical in interests[user.id]:
            key = (user.id, by_vertical[vertical].id)
            if key not in memberships:
                memberships.add(key)
                member_rows.append({"user_id": key[0], "community_id": key[1], "role": ROLE_MEMBER,
                                    "joined_at": now() - timedelta(days=rng.randint(30, 400))})
    if member_rows:
        db.session.execute(insert(Membership), member_rows)

    # Follows: popular people attract most followers (preferential), mostly within shared interests.
    popularity = sorted(users, key=lambda u: -activity[u.id])
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(popularity))]
    follow_pairs: set[tuple[int, int]] = set()
    for user in users:
        wanted = min(len(users) - 1, int(rng.lognormvariate(2.4, 0.9)) + 2)
        chosen: set[int] = set()
        for candidate in rng.choices(popularity, weights=weights, k=wanted * 3):
            if len(chosen) >= wanted:
                break
            shared = set(interests[user.id]) & set(interests[candidate.id])
            if candidate.id != user.id and (shared or rng.random() < 0.15):
                chosen.add(candidate.id)
        follow_pairs |= {(user.id, followee) for followee in chosen}
    reader_follows = [u for u in popularity[:40] if set(interests[u.id]) & {"outdoor", "beauty", "food"}][:12]
    follow_pairs |= {(named["reader"].id, u.id) for u in reader_follows if u.id != named["reader"].id}
    follow_pairs |= {(named["reader"].id, named["creator"].id)}
    db.session.execute(insert(Follow), [{"follower_id": a, "followee_id": b,
                                         "created_at": now() - timedelta(days=rng.randint(1, 300))}
                                        for a, b in sorted(follow_pairs)])

    step.finish(len(follow_pairs))
    # Posts with covers rendered in parallel worker processes.
    authors = rng.choices(users, weights=[activity[u.id] for u in users], k=posts_wanted)
    media_root = str(Path(current_app.config["MEDIA_ROOT"]))
    post_rows, cover_jobs, tag_names, post_vertical = [], [], {}, {}
    moment = now()
    for index, author in enumerate(authors):
        vertical = rng.choice(interests[author.id])
        title, body, explicit = note_text(vertical, chinese[author.id], rng)
        kind = KIND_REVIEW if rng.random() < 0.25 else KIND_NOTE
        created = moment - timedelta(minutes=rng.randint(5, 60 * 24 * 120))
        post_rows.append({"community_id": by_vertical[vertical].id, "author_id": author.id, "kind": kind,
                          "title": title, "body_md": body, "body_html": render_body(body),
                          "rating": rng.choice([3, 4, 4, 5, 5]) if kind == KIND_REVIEW else None,
                          "status": "published", "created_at": created})
        stem = uuid.UUID(int=rng.getrandbits(128)).hex
        cover_jobs.append((title, vertical, seed * 100_000 + index, media_root, f"posts/{stem}.webp",
                           f"posts/thumbs/{stem}.webp"))
        tag_names[index] = sorted({t.lower() for t in explicit} | {
            word[1:].lower() for word in body.split() if word.startswith("#")})
        post_vertical[index] = vertical
    _drawing.append(CoverDrawing(cover_jobs))  # finish_covers() waits for them at the end of the seed
    step = progress.start("notes", len(post_rows))
    db.session.execute(insert(Post), post_rows)
    posts = list(db.session.scalars(select(Post).order_by(Post.id)))
    db.session.execute(insert(PostImage), [
        {"post_id": post.id, "position": 0, "path": job[4], "thumb_path": job[5], "width": DISPLAY_SIZE[0],
         "height": DISPLAY_SIZE[1]} for post, job in zip(posts, cover_jobs, strict=True)])

    all_tags = sorted({name for names in tag_names.values() for name in names})
    db.session.execute(insert(Tag), [{"name": name[:40], "post_count": 0} for name in all_tags])
    tag_ids = {t.name: t.id for t in db.session.scalars(select(Tag))}
    tag_rows = [{"post_id": post.id, "tag_id": tag_ids[name[:40]]} for index, post in enumerate(posts)
                for name in tag_names[index]]
    db.session.execute(insert(post_tags), tag_rows)

    step.finish(len(posts))
    step = progress.start("likes, saves, events")
    likes, saves, comments, events = simulate_engagement(users, posts, post_vertical, interests, follow_pairs,
                                                          {named["reader"].id: READER_ACTIVITY}, moment, rng)
    db.session.execute(insert(Like), [{"user_id": u, "post_id": p, "created_at": at}
                                      for (u, p), at in sorted(likes.items())])
    savers = sorted({u for u, _p in saves})
    db.session.execute(insert(Collection), [{"owner_id": u, "name": "我的收藏" if chinese[u] else "Favourites",
                                             "is_public": rng.random() < 0.3, "item_count": 0} for u in savers])
    collections = {c.owner_id: c.id for c in db.session.scalars(select(Collection))}
    db.session.execute(insert(Save), [{"user_id": u, "post_id": p, "collection_id": collections[u], "created_at": at}
                                      for (u, p), at in sorted(saves.items())])
    comment_rows = [{"post_id": post.id, "author_id": user.id, "depth": 0, "body": text, "body_html": render_body(text),
                     "status": "published", "created_at": at}
                    for user, post, at in comments for text in [comment_text(chinese[user.id], rng)]]
    if comment_rows:
        db.session.execute(insert(Comment), comment_rows)
    events.sort(key=lambda e: e["created_at"])
    for start in range(0, len(events), 5_000):
        db.session.execute(insert(Event), events[start:start + 5_000])
    _recount(hot_score)
    step.finish(len(events))
    return {"communities": len(communities), "follows": len(follow_pairs), "posts": len(posts),
            "likes": len(likes), "saves": len(saves), "comments": len(comment_rows), "events": len(events)}


def _recount(hot_score) -> None:
    """Set every counter from the rows it counts (the same numbers the services keep incrementally)."""
    def counts(column, *where):
        query = select(column, func.count()).group_by(column)
        for clause in where:
            query = query.where(clause)
        return dict(db.session.execute(query).all())

    likes, saves_ = counts(Like.post_id), counts(Save.post_id)
    comments = counts(Comment.post_id, Comment.status == "published")
    for post in db.session.scalars(select(Post)):
        post.like_count, post.save_count = likes.get(post.id, 0), saves_.get(post.id, 0)
        post.comment_count = comments.get(post.id, 0)
        post.hot_score = hot_score(post.like_count, post.save_count, post.comment_count, post.created_at)
    followers, following = counts(Follow.followee_id), counts(Follow.follower_id)
    received = dict(db.session.execute(select(Post.author_id, func.count()).join(Like, Like.post_id == Post.id)
                                       .group_by(Post.author_id)).all())
    for user in db.session.scalars(select(User)):
        user.follower_count, user.following_count = followers.get(user.id, 0), following.get(user.id, 0)
        user.likes_received_count = received.get(user.id, 0)
    members, post_counts = counts(Membership.community_id), counts(Post.community_id)
    for community in db.session.scalars(select(Community)):
        community.member_count, community.post_count = members.get(community.id, 0), post_counts.get(community.id, 0)
    tag_counts = counts(post_tags.c.tag_id)
    for tag in db.session.scalars(select(Tag)):
        tag.post_count = tag_counts.get(tag.id, 0)
    items = counts(Save.collection_id)
    db.session.flush()
    for collection_id, count in items.items():
        db.session.execute(update(Collection).where(Collection.id == collection_id).values(item_count=count))
