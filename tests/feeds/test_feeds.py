"""Feeds: following, community hot/new/top, tag and trending; blocks; cursors; event log; query counts."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import now
from app.core.errors import Invalid
from app.events.models import Event
from app.extensions import db
from app.feeds import services
from app.posts.models import STATUS_DELETED, Tag, post_tags
from app.social.models import Block, Follow
from tests import factories
from tests.query_count import count_queries


def follow(a, b):
    db.session.add(Follow(follower_id=a.id, followee_id=b.id))
    db.session.commit()


def test_following_feed_newest_first_only_followees(ctx):
    reader, ann, bob, stranger = (factories.user(n) for n in ("reader1", "ann", "bob", "stranger"))
    follow(reader, ann)
    follow(reader, bob)
    base = now() - timedelta(hours=10)
    made = [factories.post(author=[ann, bob][i % 2], created_at=base + timedelta(minutes=i)) for i in range(5)]
    factories.post(author=stranger)
    page = services.following_feed(reader)
    assert [p.id for p in page.items] == [p.id for p in reversed(made)]


def test_following_feed_paginates_with_cursor_without_gaps_or_repeats(ctx):
    reader, ann = factories.user("reader1"), factories.user("ann")
    follow(reader, ann)
    same_time = now() - timedelta(hours=1)
    made = [factories.post(author=ann, created_at=same_time) for _ in range(7)]  # ties broken by id
    seen, cursor = [], None
    while True:
        page = services.following_feed(reader, cursor, limit=3)
        seen += [p.id for p in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted((p.id for p in made), reverse=True)


def test_tampered_cursor_is_invalid(ctx):
    reader = factories.user("reader1")
    with pytest.raises(Invalid):
        services.following_feed(reader, "not-a-cursor")


def test_blocked_authors_are_hidden_both_ways(ctx):
    reader, ann, bob = factories.user("reader1"), factories.user("ann"), factories.user("bob")
    community = factories.community()
    mine_ann = factories.post(author=ann, community_=community)
    factories.post(author=bob, community_=community)
    db.session.add(Block(blocker_id=ann.id, blocked_id=reader.id))  # ann blocked the reader
    db.session.commit()
    shown = {p.author_id for p in services.community_feed(community, "new", viewer=reader).items}
    assert ann.id not in shown and bob.id in shown
    assert mine_ann.id in {p.id for p in services.community_feed(community, "new").items}  # signed out sees it
    assert services.author_feed(ann, viewer=reader).items == []


def test_deleted_posts_are_not_in_feeds(ctx):
    community = factories.community()
    gone = factories.post(community_=community, status=STATUS_DELETED)
    kept = factories.post(community_=community)
    assert [p.id for p in services.community_feed(community, "new").items] == [kept.id]
    assert gone.id not in {p.id for p in services.trending_feed().items}


def test_community_tabs(ctx):
    community = factories.community()
    old_popular = factories.post(community_=community, created_at=now() - timedelta(days=20), like_count=50,
                                 hot_score=1.0)
    fresh = factories.post(community_=community, created_at=now() - timedelta(hours=1), like_count=2, hot_score=2.0)
    week = factories.post(community_=community, created_at=now() - timedelta(days=3), like_count=10, hot_score=1.5)
    assert [p.id for p in services.community_feed(community, "new").items] == [fresh.id, week.id, old_popular.id]
    assert [p.id for p in services.community_feed(community, "hot").items] == [fresh.id, week.id, old_popular.id]
    assert [p.id for p in services.community_feed(community, "top", "week").items] == [week.id, fresh.id]
    assert [p.id for p in services.community_feed(community, "top", "all").items][0] == old_popular.id
    with pytest.raises(Invalid):
        services.community_feed(community, "sideways")
    with pytest.raises(Invalid):
        services.community_feed(community, "top", "decade")


def test_hot_tab_paginates_by_score(ctx):
    community = factories.community()
    made = [factories.post(community_=community, hot_score=float(i % 3)) for i in range(8)]
    first = services.community_feed(community, "hot", limit=5)
    second = services.community_feed(community, "hot", cursor=first.next_cursor, limit=5)
    ids = [p.id for p in first.items + second.items]
    assert sorted(ids) == sorted(p.id for p in made) and len(set(ids)) == 8
    scores = [p.hot_score for p in first.items + second.items]
    assert scores == sorted(scores, reverse=True)


def test_tag_feed(ctx):
    tagged, untagged = factories.post(), factories.post()
    tag = Tag(name="hiking", post_count=1)
    db.session.add(tag)
    db.session.flush()
    db.session.execute(post_tags.insert().values(post_id=tagged.id, tag_id=tag.id))
    db.session.commit()
    assert [p.id for p in services.tag_feed(services.get_tag("#Hiking"), "new").items] == [tagged.id]
    assert untagged.id != tagged.id




def _make_posts(app, community_slug, n):
    with app.app_context():
        community = db.session.scalar(select(factories.Community).where(factories.Community.slug == community_slug))
        for _ in range(n):
            factories.post(community_=community)


@pytest.mark.parametrize("path", ["/", "/c/trail", "/t/trail"])
def test_feed_pages_use_a_fixed_number_of_queries(app, client, path):
    with app.app_context():
        factories.community("trail")
        tag = Tag(name="trail", post_count=0)
        db.session.add(tag)
        db.session.commit()
    _make_posts(app, "trail", 3)
    with app.app_context():
        for post_id in db.session.scalars(select(factories.Post.id)):
            db.session.execute(post_tags.insert().values(post_id=post_id, tag_id=1))
        db.session.commit()
    client.get(path)  # warm up (anonymous cookie, first-request work)
    with count_queries(app) as few:
        assert client.get(path).status_code == 200
    _make_posts(app, "trail", 15)
    with app.app_context():
        for post_id in db.session.scalars(select(factories.Post.id).where(factories.Post.id > 3)):
            db.session.execute(post_tags.insert().values(post_id=post_id, tag_id=1))
        db.session.commit()
    with count_queries(app) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), "the number of queries grows with the number of posts (N+1)"


def test_feed_page_logs_impressions_in_one_insert_with_anon_cookie(app, client):
    with app.app_context():
        community = factories.community("trail")
        for _ in range(4):
            factories.post(community_=community)
    with count_queries(app) as statements:
        response = client.get("/c/trail?tab=new")
    assert response.status_code == 200
    assert sum(1 for s in statements if s.lstrip().upper().startswith("INSERT INTO EVENTS")) == 1
    assert "tm_anon=" in response.headers.get("Set-Cookie", "")
    with app.app_context():
        rows = db.session.scalars(select(Event).order_by(Event.position)).all()
        assert [r.position for r in rows] == [0, 1, 2, 3]
        assert {r.kind for r in rows} == {"impression"} and len({r.request_id for r in rows}) == 1
        assert rows[0].anon_id and rows[0].user_id is None and rows[0].surface == "community"


def test_tampered_cursor_on_a_page_is_a_clear_error(app, client):
    with app.app_context():
        factories.community("trail")
    response = client.get("/c/trail?cursor=abc.def")
    assert response.status_code == 422 and "cursor" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(select(func.count(Event.id))) == 0


def test_unknown_community_and_tag_are_404(client):
    assert client.get("/c/nowhere").status_code == 404
    assert client.get("/t/nothing").status_code == 404
