"""The demo's behaviour model: likes follow interests and favourite subjects, activity is power-law, and every
action is stamped after its note was posted (so the newest days hold a holdout)."""
from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import datetime, timedelta
from types import SimpleNamespace

from app.demo import content
from app.demo.taste import simulate_engagement, subject_of


def test_likes_follow_interests_with_power_law_activity_and_real_times():
    rng = random.Random(5)
    moment = datetime(2026, 12, 6, 12, 0)
    verticals = ["beauty", "outdoor", "food", "digital"]
    users = [SimpleNamespace(id=i) for i in range(1, 201)]
    posts, post_vertical = [], {}
    for index in range(1200):
        vertical = verticals[index % 4]
        zh, en = content.SUBJECTS[vertical][index % len(content.SUBJECTS[vertical])]
        posts.append(SimpleNamespace(id=index + 1, author_id=rng.randint(1, 200), title=f"An honest {en} review",
                                     created_at=moment - timedelta(days=rng.uniform(0, 90))))
        post_vertical[index] = vertical
    interests = {u.id: rng.sample(verticals, rng.choice([1, 2, 3])) for u in users}
    likes, saves, comments, events = simulate_engagement(users, posts, post_vertical, interests, set(), {}, moment, rng)
    vertical_of = {post.id: post_vertical[index] for index, post in enumerate(posts)}
    created = {post.id: post.created_at for post in posts}
    inside = sum(vertical_of[p] in interests[u] for u, p in likes)
    assert inside / len(likes) > 0.85
    assert all(created[p] < at <= moment for (_u, p), at in likes.items())
    assert len({at for at in likes.values()}) > len(likes) * 0.9  # not one moment for all
    per_user = Counter(u for u, _p in likes)
    counts = sorted(per_user.values())
    assert counts[-1] > 5 * statistics.median(counts)  # a few people do much more than most
    # Within a community, a person's likes gather on a few subjects.
    title = {post.id: post.title for post in posts}
    for user_id in list(per_user)[:20]:
        subjects = Counter((vertical_of[p], subject_of(title[p], vertical_of[p])) for u, p in likes if u == user_id)
        if sum(subjects.values()) >= 10:
            top = sum(n for _s, n in subjects.most_common(len(interests[user_id]) * 2))
            assert top / sum(subjects.values()) > 0.5
