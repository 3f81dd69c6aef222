"""For you: training from the database, precomputed candidates, online signals, filters, diversity, reasons,
feedback, cold start, similar notes, people to follow, the CLI and the nightly schedule."""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from app.core.clock import frozen_at, now
from app.events.models import Event
from app.extensions import db
from app.feeds import foryou, training
from app.feeds.models import FeedFeedback, Recommendation, RecommenderModel
from app.feeds.reasons import describe
from app.jobs import runner
from app.jobs.models import JobRun
from app.posts import engagement
from app.posts.models import Like, Post
from app.social.models import Block, Follow
from tests import factories
from tests.social.conftest import person


def world(seed: int = 7):
    """Two taste groups in two communities, each group liking its own community's posts; readers follow
    within their group. Returns (readers, posts by community slug)."""
    rng = random.Random(seed)
    hikers = factories.community("hikers", vertical="outdoor")
    cooks = factories.community("cooks", vertical="food")
    authors = [person(f"author{i}") for i in range(6)]
    posts = {"hikers": [], "cooks": []}
    start = now() - timedelta(days=20)
    for index in range(40):
        community = hikers if index % 2 == 0 else cooks
        author = authors[index % 3 + (0 if community is hikers else 3)]
        posts[community.slug].append(factories.post(author=author, community_=community,
                                                    title=f"{community.slug} {index}",
                                                    created_at=start + timedelta(hours=11 * index)))
    readers = []
    for index in range(16):
        reader = person(f"reader{index}", onboarded_at=now())
        group = "hikers" if index % 2 == 0 else "cooks"
        for post in rng.sample(posts[group], 8):
            db.session.add(Like(user_id=reader.id, post_id=post.id, created_at=post.created_at + timedelta(days=1)))
            post.like_count += 1
        readers.append(reader)
    for index, reader in enumerate(readers):
        for other in readers[index % 2::2][:4]:
            if other.id != reader.id:
                db.session.add(Follow(follower_id=reader.id, followee_id=other.id))
                reader.following_count += 1
    db.session.commit()
    return readers, posts


@pytest.fixture
def trained(ctx):
    readers, posts = world()
    report = training.train_and_publish()
    assert report.activated, report.reason
    return readers, posts, report


def test_training_saves_a_version_and_precomputes_candidates(ctx, trained):
    readers, _posts, report = trained
    model = db.session.get(RecommenderModel, report.version)
    assert model.is_active and model.n_items == 40 and model.n_interactions == 16 * 8
    assert set(report.metrics) >= {"ndcg20", "recall20", "popular_ndcg20", "popular_recall20"}
    assert 0 <= report.metrics["ndcg20"] <= 1 and report.metrics["holdout_users"] > 0
    assert (ctx.config["INSTANCE_DIR"] / "models" / report.version / "metadata.json").exists() or \
        (training.models_root() / report.version).exists()
    count = db.session.scalar(select(func.count()).select_from(Recommendation)
                              .where(Recommendation.user_id == readers[0].id))
    assert count > 0


def test_for_you_follows_the_readers_tastes_with_reasons(ctx, trained):
    readers, posts, _report = trained
    hiker = readers[0]
    page = foryou.for_you_feed(hiker)
    assert page.cards and page.model_version
    communities = [card.post.community.slug for card in page.cards[:6]]
    assert communities.count("hikers") >= 4, communities  # their group's community comes first
    liked = set(db.session.scalars(select(Like.post_id).where(Like.user_id == hiker.id)))
    assert not liked & {card.post.id for card in page.cards}  # never what they already liked
    texts = describe([card.reason for card in page.cards])
    assert all(texts) and len(texts) == len(page.cards)


def test_for_you_page_holds_the_diversity_caps(ctx, trained):
    readers, _posts, _report = trained
    page = foryou.for_you_feed(readers[1], limit=20)
    # 40 posts by 6 authors: the caps bind early; the head of the page keeps at most 2 per author.
    head = page.cards[:6]
    assert max(sum(1 for c in head if c.post.author_id == a) for a in {c.post.author_id for c in head}) <= 2


def test_filters_blocked_removed_own_and_not_interested(ctx, trained):
    readers, _posts, _report = trained
    reader = readers[0]
    first = foryou.for_you_feed(reader).cards
    blocked_author = first[0].post.author_id
    db.session.add(Block(blocker_id=reader.id, blocked_id=blocked_author))
    removed = next(card.post for card in first if card.post.author_id != blocked_author)
    removed.status = "removed"
    db.session.commit()
    skip = next(card.post for card in first if card.post.author_id != blocked_author and card.post.id != removed.id)
    foryou.give_feedback(reader, "not_interested", skip.id)
    foryou.give_feedback(reader, "not_interested", skip.id)  # twice is harmless
    shown = {card.post.id: card.post for card in foryou.for_you_feed(reader, limit=40).cards}
    assert removed.id not in shown and skip.id not in shown
    assert not [p for p in shown.values() if p.author_id in (blocked_author, reader.id)]
    assert db.session.scalar(select(func.count()).select_from(FeedFeedback)) == 1


def test_published_candidates_carry_their_posts_author_and_community(ctx, trained):
    readers, _posts, _report = trained
    rows = db.session.execute(select(Recommendation.post_id, Recommendation.author_id, Recommendation.community_id,
                                     Post.author_id, Post.community_id)
                              .join(Post, Post.id == Recommendation.post_id)).all()
    assert rows and all(row[1:3] == row[3:5] for row in rows)


def test_a_note_removed_inside_a_page_is_passed_over_and_the_next_page_goes_on(ctx, trained):
    readers, _posts, _report = trained
    reader = readers[0]
    before = [card.post.id for card in foryou.for_you_feed(reader, limit=8).cards]
    removed = db.session.get(Post, before[3])
    removed.status = "removed"
    db.session.commit()
    first = foryou.for_you_feed(reader, limit=4)
    second = foryou.for_you_feed(reader, first.next_cursor, limit=4)
    first_ids, second_ids = [c.post.id for c in first.cards], [c.post.id for c in second.cards]
    assert first_ids == before[:3] + [before[4]]  # the fourth place goes to the next note
    assert second_ids[:3] == before[5:8] and removed.id not in second_ids
    assert not set(first_ids) & set(second_ids)


def test_candidates_published_before_they_carried_author_and_community_still_serve(ctx, trained):
    from sqlalchemy import update

    readers, _posts, _report = trained
    reader = readers[0]
    expected = [card.post.id for card in foryou.for_you_feed(reader, limit=10).cards]
    db.session.execute(update(Recommendation).values(author_id=None, community_id=None))
    db.session.commit()
    assert [card.post.id for card in foryou.for_you_feed(reader, limit=10).cards] == expected


def test_fewer_from_author_demotes_and_is_remembered(ctx, trained):
    readers, _posts, _report = trained
    reader = readers[0]
    before = foryou.for_you_feed(reader, limit=40).cards
    author = before[0].post.author_id
    rank_before = [c.post.author_id for c in before].index(author)
    foryou.give_feedback(reader, "fewer_author", before[0].post.id)
    after = [c.post.author_id for c in foryou.for_you_feed(reader, limit=40).cards]
    assert author not in after[: rank_before + 1] or after.index(author) > rank_before


def test_fresh_likes_by_followees_show_up_with_their_reason(ctx, trained):
    readers, posts, _report = trained
    reader = readers[0]
    followee = db.session.get(type(reader), db.session.scalar(
        select(Follow.followee_id).where(Follow.follower_id == reader.id)))
    fresh = factories.post(author=factories.user("newcomer"), community_=posts["cooks"][0].community,
                           title="Brand new dumplings")
    with frozen_at(now() + timedelta(minutes=5)):
        engagement.like_post(followee, fresh)
        page = foryou.for_you_feed(reader, limit=40)
    cards = {card.post.id: card for card in page.cards}
    assert fresh.id in cards
    assert describe([cards[fresh.id].reason]) == [f"Liked by {followee.name}, whom you follow"]


def test_cursor_pages_do_not_repeat_and_tampering_is_refused(ctx, trained):
    from app.core.errors import Invalid

    readers, _posts, _report = trained
    first = foryou.for_you_feed(readers[0], limit=5)
    second = foryou.for_you_feed(readers[0], first.next_cursor, limit=5)
    assert not {c.post.id for c in first.cards} & {c.post.id for c in second.cards}
    with pytest.raises(Invalid):
        foryou.for_you_feed(readers[0], "tampered")
    from app.core.pagination import encode_cursor

    far_future = (now() - datetime(1970, 1, 1)) // timedelta(milliseconds=1) + 3_600_000
    for raw in ([5, far_future], [5, 10 ** 30], [5, "x"], [5, True], [5, 1, 2], [-1], [10_000]):
        with pytest.raises(Invalid):
            foryou.for_you_feed(readers[0], encode_cursor(raw))
    old_style = foryou.for_you_feed(readers[0], encode_cursor([5]), limit=5)  # before cursors carried a moment
    assert [c.post.id for c in old_style.cards] == [c.post.id for c in second.cards]


@pytest.mark.parametrize("change", ["followees_engage", "reader_likes"])
def test_next_pages_continue_the_order_the_first_page_began(ctx, trained, change):
    """Likes and posts after the first page (followees', the reader's own) wait for a fresh first page:
    otherwise they would shift the order under the cursor and repeat or skip notes."""
    readers, posts, _report = trained
    reader = readers[0]
    followees = [db.session.get(type(reader), user_id) for user_id in db.session.scalars(
        select(Follow.followee_id).where(Follow.follower_id == reader.id))]
    start = now().replace(microsecond=0) + timedelta(minutes=1)
    with frozen_at(start):
        baseline = [card.post.id for card in foryou.for_you_feed(reader, limit=20).cards]
        first = foryou.for_you_feed(reader, limit=10)
    assert [card.post.id for card in first.cards] == baseline[:10]
    with frozen_at(start + timedelta(minutes=1)):
        if change == "followees_engage":  # a followee's new note the reader's other followees like
            moved = factories.post(author=followees[0], community_=posts["hikers"][0].community,
                                   title="Brand new ridge walk")
            for followee in followees[1:]:
                engagement.like_post(followee, moved)
        else:
            moved = first.cards[0].post
            engagement.like_post(reader, moved)
        # Read as of now, the order has moved: the fresh note came in, or the liked one left.
        current = [card.post.id for card in foryou.for_you_feed(reader, limit=40).cards]
    assert (moved.id in current) == (change == "followees_engage")
    assert current[10:20] != baseline[10:20]  # what a cursor reading the live order would show next
    with frozen_at(start + timedelta(minutes=2)):
        second = foryou.for_you_feed(reader, first.next_cursor, limit=10)
    assert [card.post.id for card in second.cards] == baseline[10:20]


def test_a_worse_model_does_not_replace_the_current_one(ctx, trained):
    _readers, _posts, report = trained
    current = db.session.get(RecommenderModel, report.version)
    current.metrics = {**current.metrics, "ndcg20": 1.0}
    db.session.commit()
    with frozen_at(now() + timedelta(seconds=5)):
        refused = training.train_and_publish()
    if refused.metrics:  # a holdout exists on this data
        assert not refused.activated and "below the current" in refused.reason
        assert db.session.get(RecommenderModel, report.version).is_active
    with frozen_at(now() + timedelta(seconds=10)):
        forced = training.train_and_publish(force=True)
    assert forced.activated
    assert db.session.scalar(select(func.count()).select_from(RecommenderModel)
                             .where(RecommenderModel.is_active.is_(True))) == 1


def test_too_little_data_keeps_serving_without_a_model(ctx):
    reader = factories.user("lonely")
    community = factories.community("quiet")
    factories.post(community_=community)
    report = training.train_and_publish()
    assert not report.activated and "too little data" in report.reason
    page = foryou.for_you_feed(reader)
    assert page.cold_start and page.cards  # trending fallback


@contextmanager
def counted_queries():
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_for_you_page_runs_a_fixed_number_of_queries(ctx, trained):
    readers, _posts, _report = trained
    foryou.for_you_feed(readers[2], limit=3)
    with counted_queries() as small:
        foryou.for_you_feed(readers[2], limit=3)
    with counted_queries() as large:
        page = foryou.for_you_feed(readers[2], limit=20)
        describe([card.reason for card in page.cards])
        [card.post.author.name for card in page.cards]
    assert len(large) <= len(small) + 3


def test_similar_posts_and_people_to_follow(ctx, trained):
    readers, posts, _report = trained
    post = posts["hikers"][0]
    similar = foryou.similar_posts(post, readers[0])
    assert similar and post.id not in {p.id for p, _r in similar}
    assert all(reason for _p, reason in similar)
    people = foryou.people_to_follow(readers[0])
    followed = set(db.session.scalars(select(Follow.followee_id).where(Follow.follower_id == readers[0].id)))
    assert people and not {u.id for u, _r in people} & (followed | {readers[0].id})


def test_schedules_fire_once_per_period(ctx, monkeypatch):
    calls = []
    monkeypatch.setattr(runner, "SCHEDULES", {"probe": ("tests.feeds.test_foryou:probe_job", "%Y-%m-%d")})
    monkeypatch.setattr("tests.feeds.test_foryou.CALLS", calls)
    early = datetime(2026, 11, 25, 2, 30)
    assert runner.run_due_schedules(early) == []
    late = datetime(2026, 11, 25, 3, 5)
    assert runner.run_due_schedules(late) == ["probe"]
    assert runner.run_due_schedules(late + timedelta(hours=5)) == []
    assert runner.run_due_schedules(late + timedelta(days=1)) == ["probe"]
    assert len(calls) == 2 and db.session.scalar(select(func.count()).select_from(JobRun)) == 2


CALLS: list = []


def probe_job():
    CALLS.append(1)
    return "ok"


def test_for_you_logs_impressions_with_the_model_version(app, client):
    from tests.social.conftest import sign_in

    with app.app_context():
        readers, _posts = world()
        training.train_and_publish()
        name = readers[0].username
        version = db.session.scalar(select(RecommenderModel.version))
    sign_in(client, name)
    html = client.get("/").get_data(as_text=True)
    assert "For you" in html and "post-card-reason" in html and "Not interested" in html
    with app.app_context():
        logged = db.session.scalars(select(Event.model_version).where(Event.kind == "impression",
                                                                      Event.surface == "for_you")).all()
    assert logged and set(logged) == {version}


def test_a_new_reader_picks_three_communities_first(app, client):
    from tests.social.conftest import sign_in

    with app.app_context():
        world()
        factories.community("travellers", vertical="travel")
        person("newbie")
    sign_in(client, "newbie")
    assert client.get("/").headers["Location"].endswith("/welcome")
    page = client.get("/welcome").get_data(as_text=True)
    assert "hikers" in page and "cooks" in page
    refused = client.post_form("/welcome", {"community": ["hikers", "cooks"]})
    assert refused.status_code == 422 and "Pick at least 3 communities." in refused.get_data(as_text=True)
    accepted = client.post_form("/welcome", {"community": ["hikers", "cooks", "travellers"]})
    assert accepted.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "For you" in home and "Popular in" in home  # cold start: hot posts from the picked communities


def test_profiles_suggest_people_to_follow_but_never_the_profile_itself(app, client):
    from tests.social.conftest import sign_in

    with app.app_context():
        readers, _posts = world()
        training.train_and_publish()
        me = readers[0]
        suggested = foryou.people_to_follow(me, limit=5)
        assert suggested
        first = suggested[0][0]
        mine, theirs = me.username, first.username
        others = [person.name for person, _r in suggested[1:]]
    sign_in(client, mine)
    own = client.get(f"/u/{mine}").get_data(as_text=True)
    assert "People to follow" in own and first.name in own
    profile = client.get(f"/u/{theirs}")
    html = profile.get_data(as_text=True)
    section = html.split('id="people-title"', 1)[1].split("</section>", 1)[0]
    assert profile.status_code == 200 and f'href="/u/{theirs}"' not in section
    assert any(name in section for name in others)
    assert 'id="people-title"' not in app.test_client().get(f"/u/{theirs}").get_data(as_text=True)


def test_for_you_over_the_api_gives_reasons_takes_feedback_and_logs_impressions(app, client):
    from app.accounts import services as accounts

    with app.app_context():
        readers, _posts = world()
        training.train_and_publish()
        reader = db.session.get(type(readers[0]), readers[0].id)
        _token, secret = accounts.create_token(reader, "test")
        reader_id = reader.id
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/feeds/for-you").status_code == 401
    body = client.get("/api/v1/feeds/for-you?limit=5", headers=auth).get_json()
    assert len(body["items"]) == 5 and body["model_version"] and body["next_cursor"] and not body["cold_start"]
    assert all(item["reason"] and item["reason_code"] for item in body["items"])
    nxt = client.get(f"/api/v1/feeds/for-you?limit=5&offset=5&cursor={body['next_cursor']}", headers=auth).get_json()
    assert not {i["id"] for i in body["items"]} & {i["id"] for i in nxt["items"]}
    with app.app_context():
        logged = db.session.scalars(select(Event.post_id).where(Event.user_id == reader_id,
                                                                Event.kind == "impression",
                                                                Event.request_id == body["request_id"])).all()
    assert sorted(logged) == sorted(i["id"] for i in body["items"])

    skip = body["items"][0]["id"]
    bad = client.post("/api/v1/feeds/for-you/feedback", json={"post_id": skip, "kind": "meh"}, headers=auth)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json" and "kind" in bad.get_json()["errors"]
    missing = client.post("/api/v1/feeds/for-you/feedback", json={"post_id": 10**9, "kind": "not_interested"},
                          headers=auth)
    assert missing.status_code == 404
    done = client.post("/api/v1/feeds/for-you/feedback", json={"post_id": skip, "kind": "not_interested"},
                       headers=auth)
    assert done.status_code == 201 and done.get_json()["target_id"] == skip
    again = client.get("/api/v1/feeds/for-you?limit=40", headers=auth).get_json()
    assert skip not in {item["id"] for item in again["items"]}
    assert client.delete(f"/api/v1/feeds/for-you/feedback/{done.get_json()['id']}", headers=auth).status_code == 204
    back = client.get("/api/v1/feeds/for-you?limit=40", headers=auth).get_json()
    assert skip in {item["id"] for item in back["items"]}
