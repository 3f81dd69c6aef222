"""For you is never worse than popular (the activation rule, the blend it serves meanwhile, `recommender status`),
the nightly job's pause after a fresh training, and cards rendered once and reused across readers."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, func, select

from app.core.clock import frozen_at, now
from app.extensions import db
from app.feeds import foryou, training
from app.feeds.cards import render_cards
from app.feeds.models import Recommendation, RecommenderModel
from app.posts import engagement
from app.posts.models import Like, Post
from tests.feeds.test_foryou import world
from tests.social.conftest import sign_in


def losing(metrics: dict):
    """A holdout_metrics stand-in where the candidate scores `metrics` against the baselines."""
    figures = {"ndcg20": 0.1, "recall20": 0.1, "popular_ndcg20": 0.2, "popular_recall20": 0.2,
               "blend_ndcg20": 0.15, "blend_recall20": 0.15, "holdout_users": 5.0, **metrics}
    return lambda *args, **kwargs: figures


def test_the_verdict_needs_a_win_over_popular_and_the_blend():
    assert training.verdict({"ndcg20": 0.3, "popular_ndcg20": 0.2, "blend_ndcg20": 0.25}, None)[0]
    allowed, why = training.verdict({"ndcg20": 0.2, "popular_ndcg20": 0.23, "blend_ndcg20": 0.1}, None)
    assert not allowed and "most-popular" in why
    allowed, why = training.verdict({"ndcg20": 0.2, "popular_ndcg20": 0.1, "blend_ndcg20": 0.2}, None)
    assert not allowed and "blend" in why  # a tie is not a win


def test_a_candidate_that_loses_to_popular_is_recorded_not_activated_and_the_blend_serves(ctx, monkeypatch):
    readers, posts = world()
    monkeypatch.setattr(training, "holdout_metrics", losing({"ndcg20": 0.1}))
    report = training.train_and_publish()
    assert not report.activated and "does not beat most-popular" in report.reason
    row = db.session.get(RecommenderModel, report.version)
    assert row is not None and not row.is_active and "most-popular" in row.metrics["verdict"]
    assert db.session.scalar(select(func.count()).select_from(Recommendation)) == 0
    # Without a model: popular notes plus what followees liked lately, every card with its reason.
    reader = readers[0]
    followee_likes = set(db.session.scalars(
        select(Like.post_id).where(Like.user_id.in_([r.id for r in readers[0::2][1:5]]))))
    page = foryou.for_you_feed(reader, limit=20)
    assert page.model_version is None and page.cards and not page.cold_start
    codes = {card.reason["code"] for card in page.cards}
    assert "followees_engaged" in codes and codes & {"popular_in_community", "trending"}
    engaged = [card.post.id for card in page.cards if card.reason["code"] == "followees_engaged"]
    assert set(engaged) <= followee_likes


def test_status_says_which_ranking_is_live_and_why(app, monkeypatch):
    runner = app.test_cli_runner()
    assert "social-popularity blend" in runner.invoke(args=["recommender", "status"]).output
    with app.app_context():
        world()
        monkeypatch.setattr(training, "holdout_metrics", losing({"ndcg20": 0.12}))
        refused = training.train_and_publish()
    output = runner.invoke(args=["recommender", "status"]).output
    assert "Live: the social-popularity blend" in output and refused.version in output
    assert "does not beat most-popular (0.2000)" in output
    monkeypatch.setattr(training, "holdout_metrics", losing({"ndcg20": 0.3}))
    with app.app_context(), frozen_at(now() + timedelta(seconds=2)):
        won = training.train_and_publish()
    assert won.activated
    output = runner.invoke(args=["recommender", "status"]).output
    assert f"Live: model {won.version}" in output and "beats most-popular (0.2000)" in output


def test_an_unjudged_candidate_never_replaces_a_judged_model(ctx, monkeypatch):
    world()
    monkeypatch.setattr(training, "holdout_metrics", losing({"ndcg20": 0.3}))
    first = training.train_and_publish()
    assert first.activated
    with frozen_at(now() + timedelta(seconds=2)):
        second = training.train_and_publish(evaluate=False)
    assert not second.activated and db.session.get(RecommenderModel, first.version).is_active


def test_the_real_holdout_measures_both_baselines(ctx):
    world()
    dataset = training.build_dataset()
    metrics = training.holdout_metrics(dataset, max(dataset.timestamps) - 3 * 86_400, 2026)
    assert {"ndcg20", "popular_ndcg20", "blend_ndcg20", "blend_recall20"} <= set(metrics)
    # Two taste groups that each like their own community: the model learns it, popularity cannot.
    assert metrics["ndcg20"] > max(metrics["popular_ndcg20"], metrics["blend_ndcg20"])


def test_the_blend_ranks_followee_engagement_above_plain_popularity():
    popularity = {"a": 10, "b": 8, "c": 5}  # c: 0.5 + 0.6 · min(1, 3 / 3) = 1.1 beats a's 1.0
    engaged_by = {"c": {"f1", "f2", "f3"}, "a": {"x"}}
    assert training.blend_ranking(popularity, engaged_by, {"f1", "f2", "f3"}, set(), 3) == ["c", "a", "b"]
    assert training.blend_ranking(popularity, engaged_by, set(), {"a"}, 3) == ["b", "c"]


def test_the_nightly_job_waits_after_a_fresh_training(ctx, monkeypatch):
    world()
    monkeypatch.setattr(training, "holdout_metrics", losing({"ndcg20": 0.3}))
    assert training.train_and_publish().activated
    calls = []
    monkeypatch.setattr(training, "train_and_publish", lambda **kw: calls.append(1) or training.TrainingReport())
    assert training.train_nightly().startswith("skipped") and not calls
    with frozen_at(now() + timedelta(hours=training.RETRAIN_COOLDOWN_HOURS, minutes=1)):
        training.train_nightly()
    assert calls == [1]


def _cards(html: str) -> dict[int, str]:
    """Cards by post id; CSRF tokens (signed with the second they were made) read as one."""
    pattern = r'<article class="post-card" data-post-id="(\d+)".*?</article>'
    return {int(m.group(1)): re.sub(r'name="csrf_token" value="[^"]+"', "csrf", m.group(0))
            for m in re.finditer(pattern, html, re.S)}


def test_cards_are_rendered_once_and_filled_in_per_reader(app, client):
    with app.app_context():
        readers, _posts = world()
        training.train_and_publish()
        first, second = readers[0].username, readers[2].username
    one, two = client, app.test_client()
    sign_in(one, first)
    sign_in(two, second)
    uncached = app.config["FRAGMENT_CACHE_SECONDS"]
    app.config["FRAGMENT_CACHE_SECONDS"] = 0
    plain = one.get("/").get_data(as_text=True)
    app.config["FRAGMENT_CACHE_SECONDS"] = uncached
    filled = one.get("/").get_data(as_text=True)
    assert _cards(plain) == _cards(filled) and _cards(filled)  # the cache changes nothing a reader sees
    statements = []
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            again = one.get("/").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert _cards(again) == _cards(filled)
    assert not [s for s in statements if "post_images" in s or "FROM posts JOIN" in s]  # no card was rebuilt
    # Another reader sees the same cards with their own reasons and CSRF token.
    theirs = two.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', theirs).group(1)
    shared = set(_cards(theirs)) & set(_cards(filled))
    assert shared and all(token in card for card in re.findall(r'name="csrf_token" value="[^"]+"', theirs))
    assert "\x00" not in theirs and "\x00" not in filled
    # A like gives the card a new key: the count moves at once; "liked" is the reader's own.
    post_id = next(iter(_cards(filled)))
    with app.app_context():
        engagement.like_post(db.session.get(type(readers[0]), readers[2].id), db.session.get(Post, post_id))
        post = db.session.get(Post, post_id)
        stub = foryou.Card(None, {}, post.id, post.like_count, post.edited_at)
        with app.test_request_context("/"):
            mine = str(render_cards([stub], {post.id: "Because <you> liked"}, {post.id}, feedback=True))
            yours = str(render_cards([stub], {post.id: "x"}, set(), feedback=True))
    assert f"♥ {post.like_count}<" in mine and "post-card-likes is-liked" in mine
    assert "post-card-likes is-liked" not in yours and "Because &lt;you&gt; liked" in mine
