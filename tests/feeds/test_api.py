"""/api/v1 feeds: pages of cards with cursors, impressions logged like the HTML feeds, no N+1."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now
from app.events.models import Event
from app.extensions import db
from app.posts.models import Collection, Like, Post, PostImage, Save, Tag, post_tags
from app.social.models import Block, Follow
from tests import factories
from tests.query_count import count_queries
from tests.social.conftest import person

PROBLEM = "application/problem+json"


def token(app, username: str) -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username)) or person(username)
        _token, secret = accounts.create_token(user, "test")
        return {"Authorization": f"Bearer {secret}"}


def user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def make_posts(app, n: int, author="ann", slug="trail", tag="trail", minutes_ago=600) -> list[int]:
    """n posts with a cover image each, oldest first, in community `slug` with tag `tag`."""
    with app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == slug)) or factories.community(slug)
        tag_row = db.session.scalar(select(Tag).where(Tag.name == tag))
        if tag_row is None:
            tag_row = Tag(name=tag, post_count=0)
            db.session.add(tag_row)
            db.session.flush()
        ids = []
        for i in range(n):
            post = factories.post(author=db.session.get(User, user_id(author)), community_=community,
                                  created_at=now() - timedelta(minutes=minutes_ago - i))
            db.session.add(PostImage(post_id=post.id, position=0, path=f"posts/{post.id}.webp",
                                     thumb_path=f"posts/thumbs/{post.id}.webp", width=360, height=450))
            db.session.execute(post_tags.insert().values(post_id=post.id, tag_id=tag_row.id))
            ids.append(post.id)
        db.session.commit()
        return ids


def follow(app, follower: str, followee: str):
    with app.app_context():
        db.session.add(Follow(follower_id=user_id(follower), followee_id=user_id(followee)))
        db.session.execute(User.__table__.update().where(User.id == user_id(follower))
                           .values(following_count=User.following_count + 1))
        db.session.commit()


def impressions(app) -> list[Event]:
    with app.app_context():
        rows = db.session.scalars(select(Event).where(Event.kind == "impression").order_by(Event.id)).all()
        db.session.expunge_all()
        return rows


def test_following_feed_pages_and_logs_impressions(client, app):
    bob = token(app, "bob")
    token(app, "ann")
    token(app, "cat")
    ann_posts = make_posts(app, 3, author="ann")
    make_posts(app, 1, author="cat")
    follow(app, "bob", "ann")
    signed_out = client.get("/api/v1/feeds/following")
    assert signed_out.status_code == 401 and signed_out.content_type == PROBLEM

    first = client.get("/api/v1/feeds/following?limit=2", headers=bob)
    assert first.status_code == 200
    assert [p["id"] for p in first.json["items"]] == ann_posts[::-1][:2]
    assert first.json["next_cursor"] and first.json["request_id"]
    card = first.json["items"][0]
    assert card["author"]["username"] == "ann" and card["community"] == "trail" and card["cover"]["thumb_url"]
    assert "body_html" not in card

    rest = client.get(f"/api/v1/feeds/following?limit=2&offset=2&cursor={first.json['next_cursor']}", headers=bob)
    assert [p["id"] for p in rest.json["items"]] == [ann_posts[0]] and rest.json["next_cursor"] is None
    logged = impressions(app)
    with app.app_context():
        bob_id = user_id("bob")
    assert [(e.post_id, e.position) for e in logged] == [(ann_posts[2], 0), (ann_posts[1], 1), (ann_posts[0], 2)]
    assert {(e.surface, e.user_id, e.anon_id) for e in logged} == {("following", bob_id, None)}
    assert [e.request_id for e in logged] == [first.json["request_id"]] * 2 + [rest.json["request_id"]]
    assert first.json["request_id"] != rest.json["request_id"]


def test_trending_signed_out_uses_the_anonymous_cookie(client, app):
    token(app, "ann")
    posts = make_posts(app, 3)
    with app.app_context():
        db.session.get(Post, posts[0]).hot_score = 1e9  # the oldest, but by far the hottest
        db.session.commit()
    client.set_cookie("tm_anon", "visitor-1")
    response = client.get("/api/v1/feeds/trending")
    assert response.status_code == 200
    assert [p["id"] for p in response.json["items"]][0] == posts[0]
    assert all(p["liked"] is False for p in response.json["items"])
    logged = impressions(app)
    assert len(logged) == 3 and {(e.surface, e.user_id, e.anon_id) for e in logged} == {("trending", None, "visitor-1")}


def test_community_feed_tabs_and_refusals(client, app):
    token(app, "ann")
    posts = make_posts(app, 3)
    with app.app_context():
        db.session.get(Post, posts[1]).like_count = 5
        db.session.commit()
    new = client.get("/api/v1/communities/trail/posts?tab=new").json
    assert [p["id"] for p in new["items"]] == posts[::-1]
    top = client.get("/api/v1/communities/trail/posts?tab=top&period=all").json
    assert top["items"][0]["id"] == posts[1] and top["items"][0]["like_count"] == 5
    assert {e.surface for e in impressions(app)} == {"community"}
    before = len(impressions(app))

    bad_tab = client.get("/api/v1/communities/trail/posts?tab=best")
    assert bad_tab.status_code == 422 and bad_tab.content_type == PROBLEM and "tab" in bad_tab.json["errors"]
    tampered = client.get("/api/v1/communities/trail/posts?cursor=abc.def")
    assert tampered.status_code == 422 and tampered.content_type == PROBLEM and "cursor" in tampered.json["errors"]
    forged = client.get("/api/v1/communities/trail/posts?limit=1").json["next_cursor"][:-3] + "xyz"
    assert client.get(f"/api/v1/communities/trail/posts?limit=1&cursor={forged}").status_code == 422
    assert client.get("/api/v1/communities/trail/posts?limit=500").status_code == 422
    assert client.get("/api/v1/communities/trail/posts?offset=-1").status_code == 422
    missing = client.get("/api/v1/communities/nowhere/posts")
    assert missing.status_code == 404 and missing.content_type == PROBLEM
    assert len(impressions(app)) == before + 1  # only the limit=1 page that made the cursor


def test_tag_feed(client, app):
    token(app, "ann")
    hiking = make_posts(app, 2, tag="hiking")
    make_posts(app, 1, tag="food")
    response = client.get("/api/v1/tags/Hiking/posts?tab=new")
    assert response.status_code == 200 and [p["id"] for p in response.json["items"]] == hiking[::-1]
    assert {e.surface for e in impressions(app)} == {"tag"}
    assert client.get("/api/v1/tags/nothing/posts").status_code == 404


def test_author_feed_hides_deleted_posts_and_blocked_readers(client, app):
    bob = token(app, "bob")
    ann = token(app, "ann")
    posts = make_posts(app, 3)
    assert client.delete(f"/api/v1/posts/{posts[0]}", headers=ann).status_code == 204
    shown = client.get("/api/v1/users/ann/posts", headers=bob).json
    assert [p["id"] for p in shown["items"]] == [posts[2], posts[1]]
    assert {e.surface for e in impressions(app)} == {"profile"}
    with app.app_context():
        db.session.add(Block(blocker_id=user_id("ann"), blocked_id=user_id("bob")))
        db.session.commit()
    assert client.get("/api/v1/users/ann/posts", headers=bob).json["items"] == []
    assert client.get("/api/v1/users/nobody/posts").status_code == 404


def test_cards_say_what_the_reader_liked_and_saved(client, app):
    bob = token(app, "bob")
    token(app, "ann")
    posts = make_posts(app, 3)
    client.put(f"/api/v1/posts/{posts[0]}/like", headers=bob)
    client.put(f"/api/v1/posts/{posts[1]}/save", headers=bob)
    items = client.get("/api/v1/communities/trail/posts?tab=new", headers=bob).json["items"]
    assert [(p["id"], p["liked"], p["saved"]) for p in items] == [
        (posts[2], False, False), (posts[1], False, True), (posts[0], True, False)]




@pytest.mark.parametrize("path", ["/api/v1/feeds/following", "/api/v1/feeds/trending",
                                  "/api/v1/communities/trail/posts?tab=new", "/api/v1/tags/trail/posts",
                                  "/api/v1/users/ann/posts"])
def test_feed_page_queries_do_not_grow_with_page_size(client, app, path):
    bob = token(app, "bob")
    token(app, "ann")
    follow(app, "bob", "ann")
    posts = make_posts(app, 5)
    with app.app_context():
        saved = Collection(owner_id=user_id("bob"), name="Saved", item_count=1)
        db.session.add(saved)
        db.session.flush()
        db.session.add_all([Like(user_id=user_id("bob"), post_id=posts[0]),
                            Save(user_id=user_id("bob"), post_id=posts[1], collection_id=saved.id)])
        db.session.commit()
    separator = "&" if "?" in path else "?"
    url = f"{path}{separator}limit=20"
    assert len(client.get(url, headers=bob).json["items"]) == 5  # warm up
    with count_queries(app) as few:
        assert len(client.get(url, headers=bob).json["items"]) == 5
    make_posts(app, 15, minutes_ago=300)
    with count_queries(app) as many:
        page = client.get(url, headers=bob).json
    assert len(page["items"]) == 20 and sum(p["liked"] or p["saved"] for p in page["items"]) == 2
    assert len(many) == len(few), "the number of queries grows with the page size (N+1)"
    inserts = [s for s in many if s.lstrip().upper().startswith("INSERT INTO EVENTS")]
    assert len(inserts) == 1, "a page's impressions go in as one insert"


def test_feeds_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/feeds/following", "/api/v1/feeds/trending", "/api/v1/communities/{slug}/posts",
                 "/api/v1/tags/{name}/posts", "/api/v1/users/{username}/posts"):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/FeedPage"}, path
    page = spec["components"]["schemas"]["FeedPage"]["properties"]
    assert {"items", "next_cursor", "request_id"} <= set(page)
