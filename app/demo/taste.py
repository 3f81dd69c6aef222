"""How demo people behave: taste structure the recommender can learn, with believable power-law activity.

Each person has one to three interest communities (chosen by the caller) and, inside each, one or two favourite
subjects (sunscreen, tents, hotpot…, read from the note's title). What they see is drawn from their
communities, weighted by the note's appeal (log-normal: a few notes are much liked by everyone), by whether
the subject is a favourite and by whether they follow the author; a few picks come from elsewhere. What they do
with a note they see depends on the same things, so likes, saves and comments cluster by subject and
community, and popularity alone explains only part of them. How much each person does follows a power law:
most browse a little, a few a lot. Every action is stamped at a moment after the note was posted (mostly in its
first days), so the newest days hold a realistic holdout for the recommender's "never worse than popular" check.
"""
from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from app.demo import content

READER_ACTIVITY = 140  # notes the named reader has seen: an engaged reader, so their feed has taste to learn
ACTIVITY_SCALE, ACTIVITY_ALPHA, ACTIVITY_RANGE = 10, 1.3, (6, 400)  # seen ≈ 10·Pareto(1.3): median ~17, mean ~40
OUTSIDE_SHARE = 0.06  # picks from communities outside a person's interests
FAVOURITE, FOLLOWED = 5.0, 3.0  # how much more likely a favourite subject / a followee's note is to be seen
MEAN_DELAY_DAYS = 4.0  # most engagement comes in a note's first days


def subject_of(title: str, vertical: str) -> int:
    """The index of the demo subject a title is about (-1 when none matches)."""
    lowered = title.lower()
    for index, (zh, en) in enumerate(getattr(content, "SUBJECTS", {}).get(vertical, [])):
        if zh in title or en.lower() in lowered:
            return index
    return -1


def _activity(rng: random.Random) -> int:
    low, high = ACTIVITY_RANGE
    return max(low, min(high, int(ACTIVITY_SCALE * rng.paretovariate(ACTIVITY_ALPHA))))


def _moment_after(created: datetime, moment: datetime, rng: random.Random) -> datetime:
    age = (moment - created).total_seconds()
    delay = rng.expovariate(1 / (MEAN_DELAY_DAYS * 86_400))
    if delay >= age:  # an old note still found now and then, at any time since it was posted
        delay = rng.uniform(0, age)
    return created + timedelta(seconds=max(60.0, min(delay, age - 60)))


def _weighted_sample(pool: list, weights: list[float], k: int, rng: random.Random) -> list:
    """Up to k distinct items, each drawn in proportion to its weight (Efraimidis–Spirakis keys)."""
    keyed = sorted(((rng.random() ** (1.0 / w), index) for index, w in enumerate(weights) if w > 0), reverse=True)
    return [pool[index] for _key, index in keyed[:k]]


def simulate_engagement(users, posts, post_vertical: dict[int, str], interests: dict[int, list[str]],
                        follow_pairs: set[tuple[int, int]], activity_of: dict[int, int], moment: datetime,
                        rng: random.Random):
    """Likes {(user, post): at}, saves {(user, post): at}, comments [(user, post, at)] and event rows
    (impressions, opens, likes, saves, comments) for `posts` (post_vertical: index in `posts` → vertical)."""
    followees: dict[int, set[int]] = defaultdict(set)
    for follower, followee in follow_pairs:
        followees[follower].add(followee)
    appeal = {post.id: rng.lognormvariate(0.0, 0.9) for post in posts}
    subject = {post.id: subject_of(post.title, post_vertical[index]) for index, post in enumerate(posts)}
    vertical_of = {post.id: post_vertical[index] for index, post in enumerate(posts)}
    by_vertical: dict[str, list] = defaultdict(list)
    for post in posts:
        by_vertical[vertical_of[post.id]].append(post)
    verticals = sorted(by_vertical)
    likes: dict[tuple[int, int], datetime] = {}
    saves: dict[tuple[int, int], datetime] = {}
    comments, events = [], []
    for user in users:
        mine = [v for v in interests.get(user.id, []) if v in by_vertical]
        if not mine:
            continue
        favourites = {(v, s) for v in mine
                      for s in rng.sample(range(len(getattr(content, "SUBJECTS", {}).get(v, [None]))),
                                          k=min(rng.choice([1, 2, 2]),
                                                len(getattr(content, "SUBJECTS", {}).get(v, [None]))))}
        follows = followees[user.id]
        wanted = activity_of.get(user.id) or _activity(rng)
        pool = [p for v in mine for p in by_vertical[v] if p.author_id != user.id]
        weights = [appeal[p.id] * (FAVOURITE if (vertical_of[p.id], subject[p.id]) in favourites else 1.0)
                   * (FOLLOWED if p.author_id in follows else 1.0) * (1.0 if vertical_of[p.id] == mine[0] else 0.7)
                   for p in pool]
        seen = _weighted_sample(pool, weights, wanted, rng)
        others = [v for v in verticals if v not in mine]
        outside = int(round(wanted * OUTSIDE_SHARE))
        if others and outside:
            elsewhere = [p for v in others for p in by_vertical[v] if p.author_id != user.id]
            seen += _weighted_sample(elsewhere, [appeal[p.id] for p in elsewhere], outside, rng)
        request_id = uuid.uuid4().hex
        for position, post in enumerate(seen):
            at = _moment_after(post.created_at, moment, rng)
            favourite = (vertical_of[post.id], subject[post.id]) in favourites
            followed = post.author_id in follows
            quality = min(1.0, appeal[post.id] / 3)
            events.append({"user_id": user.id, "kind": "impression", "post_id": post.id,
                           "surface": "following" if followed else "community", "position": position % 20,
                           "request_id": request_id, "created_at": at})
            if rng.random() >= 0.3 + 0.3 * favourite + 0.15 * followed + 0.15 * quality:
                continue
            events.append({"user_id": user.id, "kind": "open", "post_id": post.id, "created_at": at})
            if rng.random() < 0.3 + 0.4 * favourite + 0.2 * quality:
                likes[(user.id, post.id)] = at
                events.append({"user_id": user.id, "kind": "like", "post_id": post.id, "created_at": at})
            if rng.random() < 0.08 + 0.25 * favourite:
                saves[(user.id, post.id)] = at
                events.append({"user_id": user.id, "kind": "save", "post_id": post.id, "created_at": at})
            if rng.random() < 0.05 + 0.08 * favourite:
                comments.append((user, post, at))
                events.append({"user_id": user.id, "kind": "comment", "post_id": post.id, "created_at": at})
    return likes, saves, comments, events
