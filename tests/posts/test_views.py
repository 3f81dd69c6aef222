"""Post pages as a browser uses them: the editor, the post page, buttons (plain and htmx), comments, collections."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.events.models import Event
from app.extensions import db
from app.posts.models import Collection, Comment, Like, Post, Save
from tests import factories
from tests.posts.conftest import image_bytes, publish
from tests.social.conftest import sign_in

HTMX = {"HX-Request": "true"}


def setup(app, author_name="author"):
    with app.app_context():
        author = factories.user(author_name)
        community = factories.community("trail-runners")
        post = publish(author, community)
        return post.id, community.slug


def count(app, model, *where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return db.session.scalar(query)


def new_post_form(client, **overrides):
    data = {"community": "trail-runners", "kind": "note", "title": "Misty morning", "body": "Clouds below #sunrise",
            "tags": "hiking", "rating": "", "csrf_token": client.csrf_token()}
    data.update(overrides)
    if "images" not in data:
        data["images"] = [(io.BytesIO(image_bytes()), "cover.png")]
    return client.post("/p/new", data=data, content_type="multipart/form-data")


def test_publish_a_note_from_the_editor(app, client):
    setup(app)
    with app.app_context():
        factories.user("writer")
    sign_in(client, "writer")
    page = client.get("/p/new?community=trail-runners").get_data(as_text=True)
    assert 'name="images"' in page and "Trail-Runners" in page
    response = new_post_form(client)
    assert response.status_code == 302
    post_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Misty morning" in post_page and 'href="/t/sunrise"' in post_page and "/media/posts/" in post_page


def test_editor_shows_what_is_wrong_and_changes_nothing(app, client):
    setup(app)
    with app.app_context():
        factories.user("writer")
    sign_in(client, "writer")
    before = count(app, Post)
    cases = [
        ({"title": ""}, "Give your note a title."),
        ({"title": "x" * 500}, "Keep the title to 100 characters."),
        ({"images": [(io.BytesIO(image_bytes()), f"{i}.png") for i in range(10)]}, "at most 9 images"),
        ({"images": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "evil.png")]}, "not an image"),
        ({"community": "no-such-place"}, "Not a valid choice"),
        ({"kind": "review", "rating": ""}, "rating from 1 to 5"),
    ]
    for overrides, message in cases:
        response = new_post_form(client, **overrides)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), overrides
    assert count(app, Post) == before


def test_post_page_shows_the_note_and_logs_an_open(app, client):
    post_id, _slug = setup(app)
    page = client.get(f"/p/{post_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sunrise on the ridge" in html and 'href="/t/hiking"' in html
    assert "Log in to comment." in html
    assert count(app, Event, Event.kind == "open", Event.post_id == post_id) == 1
    assert client.get("/p/999999").status_code == 404


def test_like_and_save_work_as_plain_posts_and_with_htmx(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        factories.user("fan")
    sign_in(client, "fan")
    response = client.post_form(f"/p/{post_id}/like")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/p/{post_id}")
    token = client.csrf_token()
    partial = client.post(f"/p/{post_id}/unlike", data={"csrf_token": token}, headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.get_data(as_text=True)
    partial = client.post(f"/p/{post_id}/like", data={"csrf_token": token}, headers=HTMX)
    assert 'aria-pressed="true"' in partial.get_data(as_text=True) and "data-like-count>1<" in \
        partial.get_data(as_text=True).replace(" ", "")
    saved = client.post(f"/p/{post_id}/save", data={"csrf_token": token, "new_collection": "Hikes"}, headers=HTMX)
    assert "Hikes" in saved.get_data(as_text=True)
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert (post.like_count, post.save_count) == (1, 1)
        assert db.session.scalar(select(Collection.item_count).where(Collection.name == "Hikes")) == 1


def test_signed_out_like_asks_to_log_in_and_changes_nothing(app, client):
    post_id, _slug = setup(app)
    response = client.post_form(f"/p/{post_id}/like")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = client.post(f"/p/{post_id}/like", data={"csrf_token": client.csrf_token()}, headers=HTMX)
    assert "/login" in htmx.headers["HX-Redirect"]
    assert count(app, Like) == 0


def test_buttons_without_csrf_are_refused(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        factories.user("fan")
    sign_in(client, "fan")
    assert client.post(f"/p/{post_id}/like").status_code == 400
    assert client.post(f"/p/{post_id}/comments", data={"body": "hi"}).status_code == 400
    assert count(app, Like) == 0 and count(app, Comment) == 0


def test_liking_a_deleted_post_shows_an_error_page(app, client):
    post_id, _slug = setup(app)
    sign_in(client, "author")
    client.post_form(f"/p/{post_id}/delete")
    assert "deleted by its author" in client.get(f"/p/{post_id}").get_data(as_text=True)
    response = client.post_form(f"/p/{post_id}/like")
    assert response.status_code == 409 and "no longer be liked" in response.get_data(as_text=True)
    assert count(app, Like) == 0


def test_comment_and_reply_with_htmx_and_plain_posts(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        factories.user("fan")
    sign_in(client, "fan")
    response = client.post_form(f"/p/{post_id}/comments", {"body": "Where is this? @author"})
    assert response.status_code == 302 and "#comment-" in response.headers["Location"]
    with app.app_context():
        parent_id = db.session.scalar(select(Comment.id))
    token = client.csrf_token()
    partial = client.post(f"/p/{post_id}/comments", data={"csrf_token": token, "body": "Me too",
                                                           "parent_id": str(parent_id)}, headers=HTMX)
    assert partial.status_code == 200 and "Me too" in partial.get_data(as_text=True)
    empty = client.post(f"/p/{post_id}/comments", data={"csrf_token": token, "body": "  "}, headers=HTMX)
    assert empty.status_code == 422 and "Write something first." in empty.get_data(as_text=True)
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "Where is this?" in page and 'href="/u/author"' in page and "2 comments" in page


def test_replying_to_a_comment_of_another_post_changes_nothing(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        author = db.session.get(Post, post_id).author
        other = publish(author, db.session.get(Post, post_id).community, title="Other")
        other_id = other.id
    sign_in(client, "author")
    client.post_form(f"/p/{other_id}/comments", {"body": "On the other post"})
    with app.app_context():
        foreign = db.session.scalar(select(Comment.id))
    for parent in (str(foreign), "abc", "-1"):
        response = client.post_form(f"/p/{post_id}/comments", {"body": "Sneaky", "parent_id": parent})
        assert response.status_code in (302, 422), parent
    assert count(app, Comment) == 1


def test_edit_page_is_for_the_author_only(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        factories.user("stranger")
    sign_in(client, "stranger")
    assert client.get(f"/p/{post_id}/edit").status_code == 403
    assert client.post_form(f"/p/{post_id}/delete").status_code == 403
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    sign_in(client, "author")
    form = client.get(f"/p/{post_id}/edit").get_data(as_text=True)
    assert "Sunrise on the ridge" in form
    response = client.post(f"/p/{post_id}/edit", data={"csrf_token": client.csrf_token(), "title": "Sunset",
                                                        "body": "Evening now", "tags": "dusk"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "edited" in client.get(f"/p/{post_id}").get_data(as_text=True)


def test_collections_pages_respect_privacy(app, client):
    post_id, _slug = setup(app)
    with app.app_context():
        factories.user("fan")
    sign_in(client, "fan")
    response = client.post_form("/collections", {"name": "Secret spots"})
    assert response.status_code == 302
    collection_url = response.headers["Location"]
    with app.app_context():
        collection_id = db.session.scalar(select(Collection.id))
    client.post_form(f"/p/{post_id}/save", {"collection_id": str(collection_id)})
    assert "Sunrise on the ridge" in client.get(collection_url).get_data(as_text=True)
    assert client.post_form("/collections", {"name": ""}).status_code == 422
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert client.get(collection_url).status_code == 404
    sign_in(client, "fan")
    client.post_form(f"/collections/{collection_id}/edit", {"name": "Secret spots", "is_public": "y"})
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert "Sunrise on the ridge" in client.get(collection_url).get_data(as_text=True)
    assert "Secret spots" in client.get("/u/fan").get_data(as_text=True)
    assert count(app, Save) == 1


def test_post_page_in_chinese(app, client):
    post_id, _slug = setup(app)
    html = client.get(f"/p/{post_id}?lang=zh_Hans").get_data(as_text=True)
    assert "登录后评论" in html and "分享" in html


def test_deleting_a_comment_with_htmx_updates_the_count(app, client):
    post_id, _slug = setup(app)
    sign_in(client, "author")
    client.post_form(f"/p/{post_id}/comments", {"body": "First"})
    client.post_form(f"/p/{post_id}/comments", {"body": "Second"})
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id).order_by(Comment.id))
    partial = client.post(f"/comments/{comment_id}/delete", data={"csrf_token": client.csrf_token()}, headers=HTMX)
    html = partial.get_data(as_text=True)
    assert "This comment was deleted." in html and 'hx-swap-oob="true">1 comment<' in html.replace("\n", "")
