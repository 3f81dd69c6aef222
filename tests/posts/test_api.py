"""/api/v1 post routes: notes, likes, saves, comments and collections over the same services as the pages."""
import io
import os
import re

from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import User
from app.communities.models import Community
from app.events.models import Event
from app.extensions import db
from app.posts.models import Collection, Comment, Like, Post, PostImage, PostRevision, Save
from app.social.models import Block
from tests import factories
from tests.posts.conftest import image_bytes, publish
from tests.social.conftest import person

PROBLEM = "application/problem+json"


def token(app, username: str, **fields) -> dict:
    """A bearer header for `username` (made on first use)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username)) or person(username, **fields)
        _token, secret = accounts.create_token(user, "test")
        return {"Authorization": f"Bearer {secret}"}


def make_community(app, slug="trail-runners") -> str:
    with app.app_context():
        return factories.community(slug).slug


def make_post(app, username: str, slug="trail-runners", **fields) -> int:
    with app.app_context():
        author = db.session.scalar(select(User).where(User.username == username))
        community = db.session.scalar(select(Community).where(Community.slug == slug))
        return publish(author, community, **fields).id


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def files(*images):
    return [(io.BytesIO(data), name) for data, name in images]


def create(client, headers, **fields):
    data = {"community": "trail-runners", "title": "Sunrise on the ridge", "body": "Fresh air #hiking",
            "images": files((image_bytes(), "a.png")), **fields}
    return client.post("/api/v1/posts", data=data, headers=headers, content_type="multipart/form-data")


def stored_media(app) -> list[str]:
    root = app.config["MEDIA_ROOT"]
    return [os.path.join(d, f) for d, _dirs, names in os.walk(root) for f in names]


# --- posts ------------------------------------------------------------------------------------------------

def test_create_and_read_a_post(client, app):
    ann = token(app, "ann")
    make_community(app)
    response = create(client, ann, tags="Trail, food", images=files((image_bytes(), "a.png"),
                                                                     (image_bytes(fmt="JPEG"), "b.jpg")))
    assert response.status_code == 201, response.json
    created = response.json
    assert created["title"] == "Sunrise on the ridge" and created["author"]["username"] == "ann"
    assert created["community"] == "trail-runners" and created["kind"] == "note" and created["status"] == "published"
    assert created["tags"] == ["food", "hiking", "trail"]
    assert [image["position"] for image in created["images"]] == [0, 1]
    assert created["cover"]["id"] == created["images"][0]["id"]
    assert created["liked"] is False and created["saved"] is False and created["can_edit"] is True
    thumb = created["images"][0]["thumb_url"].split("localhost", 1)[1]
    assert client.get(thumb).status_code == 200

    public = client.get(f"/api/v1/posts/{created['id']}")
    assert public.status_code == 200
    assert public.json["body_md"] == "Fresh air #hiking" and 'href="/t/hiking"' in public.json["body_html"]
    assert public.json["can_edit"] is False and public.json["like_count"] == 0
    with app.app_context():
        post = db.session.get(Post, created["id"])
        assert len(post.images) == 2 and db.session.get(Community, post.community_id).post_count == 1
        opened = db.session.scalars(select(Event).where(Event.kind == "open")).all()
        assert [(e.post_id, e.surface) for e in opened] == [(post.id, "post")]


def test_create_a_review_needs_a_rating_of_a_tagged_product(client, app):
    """Reviews that do rate a tagged product are in tests/shop/test_tags.py (they need a shop)."""
    ann = token(app, "ann")
    make_community(app)
    refused = create(client, ann, kind="review")
    assert refused.status_code == 422 and "rating" in refused.json["errors"]
    no_product = create(client, ann, kind="review", rating="4")
    assert no_product.status_code == 422 and "reviewed_product_id" in no_product.json["errors"]
    assert count(app, Post) == 0


def test_body_with_script_is_accepted_but_sanitized(client, app):
    ann = token(app, "ann")
    make_community(app)
    body = "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    response = create(client, ann, body=body)
    assert response.status_code == 201
    html = response.json["body_html"]
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert response.json["body_md"] == body


def test_bad_posts_are_problems_and_change_nothing(client, app):
    ann = token(app, "ann")
    make_community(app)
    cases = {
        "community": create(client, ann, community="nowhere"),
        "empty title": create(client, ann, title=""),
        "long title": create(client, ann, title="x" * 500),
        "ten images": create(client, ann, images=files(*[(image_bytes((40, 40)), f"{i}.png") for i in range(10)])),
        "html image": create(client, ann, images=files((b"<html><body>hi</body></html>", "evil.png"))),
        "no image": create(client, ann, images=[]),
        "bad kind": create(client, ann, kind="poem"),
        "bad rating": create(client, ann, kind="review", rating="eleven"),
    }
    expected_field = {"community": "community", "empty title": "title", "long title": "title",
                      "ten images": "images", "html image": "images", "no image": "images", "bad kind": "kind",
                      "bad rating": "rating"}
    for case, response in cases.items():
        assert response.status_code == 422, case
        assert response.content_type == PROBLEM, case
        assert expected_field[case] in response.json["errors"], (case, response.json)
    signed_out = client.post("/api/v1/posts", data={"community": "trail-runners", "title": "t"},
                             content_type="multipart/form-data")
    assert signed_out.status_code == 401 and signed_out.content_type == PROBLEM
    assert count(app, Post) == 0 and count(app, PostImage) == 0
    assert stored_media(app) == []
    with app.app_context():
        assert db.session.scalar(select(Community.post_count)) == 0
    assert create(client, ann).status_code == 201
    assert stored_media(app)  # the check above would have seen stored files


def test_edit_post_keeps_a_revision(client, app):
    ann, bob = token(app, "ann"), token(app, "bob")
    make_community(app)
    post_id = make_post(app, "ann", images=[image_bytes(), image_bytes(colour=(0, 0, 0))])
    first_image = client.get(f"/api/v1/posts/{post_id}").json["images"][0]["id"]
    response = client.patch(f"/api/v1/posts/{post_id}", headers=ann,
                            json={"title": "Sunset instead", "tags": ["dusk"], "remove_image_ids": [first_image]})
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Sunset instead" and response.json["edited_at"]
    assert response.json["tags"] == ["dusk", "hiking"] and len(response.json["images"]) == 1
    revisions = client.get(f"/api/v1/posts/{post_id}/revisions", headers=ann)
    assert revisions.status_code == 200
    assert [(r["title"], r["editor"]) for r in revisions.json["items"]] == [("Sunrise on the ridge", "ann")]
    assert client.get(f"/api/v1/posts/{post_id}/revisions", headers=bob).status_code == 403

    added = client.post(f"/api/v1/posts/{post_id}/images", headers=ann, content_type="multipart/form-data",
                        data={"images": files((image_bytes(), "c.png"))})
    assert added.status_code == 200 and [i["position"] for i in added.json["images"]] == [0, 1]
    assert count(app, PostImage) == 2 and count(app, PostRevision) == 2


def test_edit_refusals_are_problems_and_change_nothing(client, app):
    ann, bob = token(app, "ann"), token(app, "bob")
    make_community(app)
    post_id = make_post(app, "ann")
    image_id = client.get(f"/api/v1/posts/{post_id}").json["images"][0]["id"]
    someone_else = client.patch(f"/api/v1/posts/{post_id}", json={"title": "Mine now"}, headers=bob)
    assert someone_else.status_code == 403 and someone_else.content_type == PROBLEM
    malformed = client.patch(f"/api/v1/posts/{post_id}", data="{not json", content_type="application/json",
                             headers=ann)
    assert malformed.status_code == 400 and malformed.content_type == PROBLEM
    unknown = client.patch("/api/v1/posts/9999", json={"title": "x"}, headers=ann)
    assert unknown.status_code == 404 and unknown.content_type == PROBLEM
    no_title = client.patch(f"/api/v1/posts/{post_id}", json={"title": "  "}, headers=ann)
    assert no_title.status_code == 422 and "title" in no_title.json["errors"]
    no_images = client.patch(f"/api/v1/posts/{post_id}", json={"remove_image_ids": [image_id]}, headers=ann)
    assert no_images.status_code == 422 and "images" in no_images.json["errors"]
    wrong_type = client.patch(f"/api/v1/posts/{post_id}", json={"tags": "not-a-list", "bogus": 1}, headers=ann)
    assert wrong_type.status_code == 422 and set(wrong_type.json["errors"]) == {"tags", "bogus"}
    no_token = client.patch(f"/api/v1/posts/{post_id}", json={"title": "x"})
    assert no_token.status_code == 401 and no_token.content_type == PROBLEM
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.title == "Sunrise on the ridge" and post.edited_at is None and len(post.images) == 1
    assert count(app, PostRevision) == 0


def test_delete_post_then_it_shows_only_its_status(client, app):
    ann, bob = token(app, "ann"), token(app, "bob")
    make_community(app)
    post_id = make_post(app, "ann")
    refused = client.delete(f"/api/v1/posts/{post_id}", headers=bob)
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert client.delete(f"/api/v1/posts/{post_id}", headers=ann).status_code == 204
    shown = client.get(f"/api/v1/posts/{post_id}")
    assert shown.status_code == 200 and shown.json["status"] == "deleted"
    assert set(shown.json) == {"id", "status", "url"}
    assert client.get("/api/v1/posts/9999").status_code == 404
    with app.app_context():
        assert db.session.get(Post, post_id).status == "deleted"
        assert db.session.scalar(select(Community.post_count)) == 0
    assert client.get(f"/api/v1/posts/{post_id}/comments").json == {"items": [], "comment_count": 0}


def test_removed_post_shows_the_reason_only(client, app):
    make_community(app)
    token(app, "ann")
    post_id = make_post(app, "ann")
    with app.app_context():
        post = db.session.get(Post, post_id)
        post.status, post.removed_reason = "removed", "Spam"
        db.session.commit()
    shown = client.get(f"/api/v1/posts/{post_id}").json
    assert shown["status"] == "removed" and shown["removed_reason"] == "Spam" and "body_html" not in shown


def test_blocked_reader_does_not_find_the_post(client, app):
    make_community(app)
    token(app, "ann")
    bob = token(app, "bob")
    post_id = make_post(app, "ann")
    with app.app_context():
        ann_id, bob_id = (db.session.scalar(select(User.id).where(User.username == n)) for n in ("ann", "bob"))
        db.session.add(Block(blocker_id=ann_id, blocked_id=bob_id))
        db.session.commit()
    response = client.get(f"/api/v1/posts/{post_id}", headers=bob)
    assert response.status_code == 404 and response.content_type == PROBLEM


def test_opening_a_post_from_a_feed_logs_its_request_id(client, app):
    make_community(app)
    bob = token(app, "bob")
    token(app, "ann")
    post_id = make_post(app, "ann")
    too_long = client.get(f"/api/v1/posts/{post_id}?request_id={'x' * 80}", headers=bob)
    assert too_long.status_code == 422 and "request_id" in too_long.json["errors"]
    assert client.get(f"/api/v1/posts/{post_id}?surface=trending&request_id=abc123", headers=bob).status_code == 200
    with app.app_context():
        [opened] = db.session.scalars(select(Event).where(Event.kind == "open")).all()
        assert (opened.surface, opened.request_id, opened.post_id) == ("trending", "abc123", post_id)
        assert opened.user_id == db.session.scalar(select(User.id).where(User.username == "bob"))


# --- likes and saves --------------------------------------------------------------------------------------

def test_like_and_unlike(client, app):
    make_community(app)
    token(app, "ann")
    bob = token(app, "bob")
    post_id = make_post(app, "ann")
    liked = client.put(f"/api/v1/posts/{post_id}/like", headers=bob, json={"surface": "trending"})
    assert liked.status_code == 200
    assert liked.json == {"post_id": post_id, "liked": True, "saved": False, "collection_id": None,
                          "like_count": 1, "save_count": 0, "comment_count": 0}
    assert client.put(f"/api/v1/posts/{post_id}/like", headers=bob).json["like_count"] == 1  # idempotent
    assert client.get(f"/api/v1/posts/{post_id}", headers=bob).json["liked"] is True
    assert count(app, Like) == 1
    assert count(app, Event, Event.kind == "like", Event.surface == "trending") == 1
    unliked = client.delete(f"/api/v1/posts/{post_id}/like", headers=bob).json
    assert unliked["liked"] is False and unliked["like_count"] == 0
    assert count(app, Like) == 0
    assert client.put(f"/api/v1/posts/{post_id}/like").status_code == 401


def test_liking_or_saving_a_deleted_post_is_a_conflict(client, app):
    make_community(app)
    ann, bob = token(app, "ann"), token(app, "bob")
    post_id = make_post(app, "ann")
    client.delete(f"/api/v1/posts/{post_id}", headers=ann)
    like = client.put(f"/api/v1/posts/{post_id}/like", headers=bob)
    assert like.status_code == 409 and like.content_type == PROBLEM
    save = client.put(f"/api/v1/posts/{post_id}/save", headers=bob)
    assert save.status_code == 409 and save.content_type == PROBLEM
    assert client.put("/api/v1/posts/9999/like", headers=bob).status_code == 404
    assert count(app, Like) == 0 and count(app, Save) == 0 and count(app, Collection) == 0
    with app.app_context():
        assert db.session.get(Post, post_id).like_count == 0


def test_save_into_collections(client, app):
    make_community(app)
    token(app, "ann")
    bob = token(app, "bob")
    post_id = make_post(app, "ann")
    saved = client.put(f"/api/v1/posts/{post_id}/save", headers=bob)
    assert saved.status_code == 200 and saved.json["saved"] is True and saved.json["save_count"] == 1
    default_id = saved.json["collection_id"]
    ideas = client.post("/api/v1/me/collections", json={"name": "Ideas"}, headers=bob).json
    moved = client.put(f"/api/v1/posts/{post_id}/save", json={"collection_id": ideas["id"]}, headers=bob).json
    assert moved["collection_id"] == ideas["id"] and moved["save_count"] == 1
    with app.app_context():
        assert db.session.get(Collection, default_id).item_count == 0
        assert db.session.get(Collection, ideas["id"]).item_count == 1
    ann_collection = client.post("/api/v1/me/collections", json={"name": "Mine"}, headers=token(app, "ann")).json
    not_mine = client.put(f"/api/v1/posts/{post_id}/save", json={"collection_id": ann_collection["id"]}, headers=bob)
    assert not_mine.status_code == 422 and "collection_id" in not_mine.json["errors"]
    unsaved = client.delete(f"/api/v1/posts/{post_id}/save", headers=bob).json
    assert unsaved["saved"] is False and unsaved["collection_id"] is None and unsaved["save_count"] == 0
    assert count(app, Save) == 0


# --- comments ---------------------------------------------------------------------------------------------

def test_comment_thread(client, app):
    make_community(app)
    ann, bob = token(app, "ann"), token(app, "bob")
    post_id = make_post(app, "ann")
    top = client.post(f"/api/v1/posts/{post_id}/comments", json={"body": "Where is this?"}, headers=bob)
    assert top.status_code == 201 and top.json["depth"] == 0 and top.json["author"]["username"] == "bob"
    reply = client.post(f"/api/v1/posts/{post_id}/comments", json={"body": "The **Alps**", "parent_id": top.json["id"]},
                        headers=ann)
    assert reply.status_code == 201 and reply.json["depth"] == 1 and reply.json["parent_id"] == top.json["id"]
    edited = client.patch(f"/api/v1/comments/{reply.json['id']}", json={"body": "The Dolomites"}, headers=ann)
    assert edited.status_code == 200 and edited.json["body"] == "The Dolomites" and edited.json["edited_at"]
    not_yours = client.patch(f"/api/v1/comments/{reply.json['id']}", json={"body": "Hacked"}, headers=bob)
    assert not_yours.status_code == 403 and not_yours.content_type == PROBLEM

    assert client.delete(f"/api/v1/comments/{top.json['id']}", headers=bob).status_code == 204
    tree = client.get(f"/api/v1/posts/{post_id}/comments").json
    assert tree["comment_count"] == 1
    [root] = tree["items"]
    assert root["status"] == "deleted" and "body" not in root and "author" not in root
    assert [(r["body"], r["author"]["username"]) for r in root["replies"]] == [("The Dolomites", "ann")]
    with app.app_context():
        assert db.session.get(Comment, reply.json["id"]).body == "The Dolomites"


def test_comment_refusals_are_problems_and_change_nothing(client, app):
    make_community(app)
    ann, bob = token(app, "ann"), token(app, "bob")
    post_id, other_id = make_post(app, "ann"), make_post(app, "ann", title="Another")
    elsewhere = client.post(f"/api/v1/posts/{other_id}/comments", json={"body": "Hi"}, headers=bob).json
    wrong_post = client.post(f"/api/v1/posts/{post_id}/comments", json={"body": "Re", "parent_id": elsewhere["id"]},
                             headers=bob)
    assert wrong_post.status_code == 422 and wrong_post.content_type == PROBLEM
    assert "parent_id" in wrong_post.json["errors"]
    empty = client.post(f"/api/v1/posts/{post_id}/comments", json={"body": "   "}, headers=bob)
    assert empty.status_code == 422 and "body" in empty.json["errors"]
    missing = client.post(f"/api/v1/posts/{post_id}/comments", json={}, headers=bob)
    assert missing.status_code == 422 and "body" in missing.json["errors"]
    malformed = client.post(f"/api/v1/posts/{post_id}/comments", data="{", content_type="application/json",
                            headers=bob)
    assert malformed.status_code == 400 and malformed.content_type == PROBLEM
    assert client.post(f"/api/v1/posts/{post_id}/comments", json={"body": "Hi"}).status_code == 401
    assert client.post("/api/v1/posts/9999/comments", json={"body": "Hi"}, headers=bob).status_code == 404
    assert client.delete(f"/api/v1/comments/{elsewhere['id']}", headers=ann).status_code == 403
    assert count(app, Comment) == 1
    with app.app_context():
        assert db.session.get(Post, post_id).comment_count == 0


# --- collections ------------------------------------------------------------------------------------------

def test_collections_public_and_private(client, app):
    make_community(app)
    token(app, "ann")
    bob, cat = token(app, "bob"), token(app, "cat")
    post_id = make_post(app, "ann")
    made = client.post("/api/v1/me/collections", json={"name": "  Trips  "}, headers=bob)
    assert made.status_code == 201 and made.json["name"] == "Trips" and made.json["is_public"] is False
    collection_id = made.json["id"]
    client.put(f"/api/v1/posts/{post_id}/save", json={"collection_id": collection_id}, headers=bob)
    client.put(f"/api/v1/posts/{post_id}/like", headers=bob)
    assert [c["name"] for c in client.get("/api/v1/users/bob/collections", headers=bob).json["items"]] == ["Trips"]
    assert client.get("/api/v1/users/bob/collections").json == {"items": []}
    assert client.get(f"/api/v1/collections/{collection_id}").status_code == 404

    posts = client.get(f"/api/v1/collections/{collection_id}/posts", headers=bob).json
    assert [(p["id"], p["liked"], p["saved"]) for p in posts["items"]] == [(post_id, True, True)]
    assert posts["next_cursor"] is None

    not_yours = client.patch(f"/api/v1/collections/{collection_id}", json={"is_public": True}, headers=cat)
    assert not_yours.status_code == 404  # private: not even found
    shared = client.patch(f"/api/v1/collections/{collection_id}", json={"is_public": True}, headers=bob)
    assert shared.status_code == 200 and shared.json["is_public"] is True
    assert client.get(f"/api/v1/collections/{collection_id}").json["item_count"] == 1
    assert client.patch(f"/api/v1/collections/{collection_id}", json={"name": "x"}, headers=cat).status_code == 403
    assert client.delete(f"/api/v1/collections/{collection_id}", headers=cat).status_code == 403
    assert [c["name"] for c in client.get("/api/v1/users/bob/collections").json["items"]] == ["Trips"]

    assert client.delete(f"/api/v1/collections/{collection_id}", headers=bob).status_code == 204
    assert count(app, Collection) == 0 and count(app, Save) == 0
    with app.app_context():
        assert db.session.get(Post, post_id).save_count == 0


def test_collection_refusals_change_nothing(client, app):
    bob = token(app, "bob")
    assert client.post("/api/v1/me/collections", json={"name": "Trips"}, headers=bob).status_code == 201
    duplicate = client.post("/api/v1/me/collections", json={"name": "Trips"}, headers=bob)
    assert duplicate.status_code == 422 and "name" in duplicate.json["errors"]
    too_long = client.post("/api/v1/me/collections", json={"name": "x" * 61}, headers=bob)
    assert too_long.status_code == 422 and "name" in too_long.json["errors"]
    assert client.post("/api/v1/me/collections", json={"name": "Mine"}).status_code == 401
    bad_cursor = client.get("/api/v1/collections/1/posts?cursor=tampered", headers=bob)
    assert bad_cursor.status_code == 422 and bad_cursor.content_type == PROBLEM
    assert client.get("/api/v1/users/nobody/collections").status_code == 404
    assert count(app, Collection) == 1


def test_routes_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method in [("/api/v1/posts", "post"), ("/api/v1/posts/{post_id}", "get"),
                         ("/api/v1/posts/{post_id}", "patch"), ("/api/v1/posts/{post_id}", "delete"),
                         ("/api/v1/posts/{post_id}/like", "put"), ("/api/v1/posts/{post_id}/save", "delete"),
                         ("/api/v1/posts/{post_id}/comments", "get"), ("/api/v1/comments/{comment_id}", "patch"),
                         ("/api/v1/users/{username}/collections", "get"), ("/api/v1/me/collections", "post"),
                         ("/api/v1/collections/{collection_id}/posts", "get")]:
        assert method in spec["paths"][path], (path, method)
    body = spec["paths"]["/api/v1/posts"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["$ref"] == "#/components/schemas/PostCreate"
    create_schema = spec["components"]["schemas"]["PostCreate"]["properties"]
    assert create_schema["images"]["items"] == {"type": "string", "format": "binary"}
    assert {"liked", "saved", "images", "body_html"} <= set(spec["components"]["schemas"]["Post"]["properties"])


def test_session_cookie_writes_need_the_csrf_token(user_client, app, user):
    make_community(app)
    token(app, "bob")
    post_id = make_post(app, "bob")
    refused = user_client.put(f"/api/v1/posts/{post_id}/like")
    assert refused.status_code == 400 and refused.content_type == PROBLEM
    assert count(app, Like) == 0
    page = user_client.get("/collections").get_data(as_text=True)  # any page carries the token
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    allowed = user_client.put(f"/api/v1/posts/{post_id}/like", headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 200 and allowed.json["liked"] is True
    with app.app_context():
        assert db.session.scalar(select(Like.user_id)) == user.id
