"""Posts, likes, saves, collections and comments through the services: rules, counters and bad input."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.core.clock import frozen_at, now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.posts import comments, engagement, services
from app.posts.models import Collection, Comment, Like, Post, PostImage, PostRevision, Save, Tag
from app.social import services as social
from app.social.models import Notification
from tests import factories
from tests.posts.conftest import image_bytes, publish


def html_elements(html: str) -> list[tuple[str, list]]:
    """Every real element (tag, attributes) in `html`; escaped text does not count."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Post, PostImage, Tag, Like, Save, Comment, Notification)}


def test_create_post_renders_tags_mentions_and_stores_clean_images(app, community, author, reader):
    post = publish(author, community, body="Hello #Hiking and #徒步 with @reader1 and @nobody",
                   tags="Outdoor, gear", images=[image_bytes(exif=True), image_bytes((400, 300))])
    assert post.status == "published" and post.kind == "note"
    assert [t.name for t in post.tags] == ["gear", "hiking", "outdoor", "徒步"]
    assert '<a class="mention" href="/u/reader1"' in post.body_html
    assert "/u/nobody" not in post.body_html  # only people who exist are linked
    assert '<a class="hashtag" href="/t/徒步"' in post.body_html
    assert len(post.images) == 2 and post.images[0].position == 0
    media = Path(app.config["MEDIA_ROOT"])
    with Image.open(media / post.images[0].path) as stored:
        assert stored.format == "WEBP" and stored.width <= services.DISPLAY_WIDTH
        assert not stored.getexif()  # camera metadata is gone
    with Image.open(media / post.images[0].thumb_path) as thumb:
        assert thumb.width == services.THUMB_WIDTH
    assert community.post_count == 1
    assert db.session.scalar(select(Notification.kind).where(Notification.recipient_id == reader.id)) == "mention"


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=//evil.example></iframe>",
])
def test_body_html_never_carries_script(community, author, body):
    post = publish(author, community, body=body)
    elements = html_elements(post.body_html)
    assert not {tag for tag, _attrs in elements} & {"script", "iframe", "img"}
    for _tag, attrs in elements:
        assert not [name for name, _value in attrs if name.startswith("on")]
        assert not [value for name, value in attrs if name == "href" and "javascript" in (value or "").lower()]


def test_bad_posts_are_refused_and_change_nothing(community, author):
    before = counts()
    cases = [
        ({"title": ""}, "title"), ({"title": "x" * 500}, "title"), ({"title": "   "}, "title"),
        ({"images": [image_bytes()] * 10}, "images"), ({"images": []}, "images"),
        ({"images": [b"<html><body>not an image</body></html>"]}, "images"),
        ({"body": "a" * 1_000_000}, "body"),  # a 1 MB line
        ({"kind": "review", "rating": None}, "rating"), ({"kind": "review", "rating": "9"}, "rating"),
        ({"kind": "poem"}, "kind"), ({"tags": " ".join(f"t{i}" for i in range(11))}, "tags"),
        ({"tags": "<b>bad</b>"}, "tags"),
    ]
    for overrides, field in cases:
        fields = {"title": "Fine title", "body": "Fine", "images": [image_bytes()], **overrides}
        with pytest.raises(Invalid) as refused:
            services.create_post(author, community_slug=community.slug, **fields)
        assert field in refused.value.errors, (overrides, refused.value.errors)
    with pytest.raises(Invalid) as refused:
        services.create_post(author, community_slug="no-such-place", title="t", images=[image_bytes()])
    assert "community" in refused.value.errors
    db.session.rollback()
    assert counts() == before


def test_notes_drop_a_rating_and_reviews_must_rate_a_tagged_product(community, author):
    """A review that rates a tagged product is tested with the shop, in tests/shop/test_tags.py."""
    note = publish(author, community, rating="5")
    assert note.rating is None
    with pytest.raises(Invalid) as refused:
        publish(author, community, kind="review", rating="4")
    assert "reviewed_product_id" in refused.value.errors


def test_edit_keeps_history_and_moves_tag_counts(community, author):
    post = publish(author, community, body="First #alpha", tags="beta")
    services.edit_post(author, post, title="Second", body="Now #gamma", tags="beta")
    assert post.title == "Second" and post.edited_at is not None
    assert [t.name for t in post.tags] == ["beta", "gamma"]
    tags = {t.name: t.post_count for t in db.session.scalars(select(Tag))}
    assert tags == {"alpha": 0, "beta": 1, "gamma": 1}
    revision = db.session.scalar(select(PostRevision))
    assert (revision.title, revision.body_md) == ("Sunrise on the ridge", "First #alpha")


def test_edit_images_add_and_remove_within_limits(community, author):
    post = publish(author, community, images=[image_bytes(), image_bytes((300, 300))])
    first, second = post.images
    services.edit_post(author, post, remove_image_ids=[first.id], add_images=[image_bytes((500, 500))])
    assert [image.position for image in post.images] == [0, 1] and post.images[0].id == second.id
    with pytest.raises(Invalid):
        services.edit_post(author, post, remove_image_ids=[image.id for image in post.images])
    with pytest.raises(Invalid):
        services.edit_post(author, post, remove_image_ids=[999_999])


def test_only_the_author_edits_and_deletes(community, author, reader):
    post = publish(author, community)
    with pytest.raises(Forbidden):
        services.edit_post(reader, post, title="Mine now")
    with pytest.raises(Forbidden):
        services.delete_post(reader, post)
    assert post.title == "Sunrise on the ridge" and post.status == "published"


def test_delete_is_soft_and_counts_once(community, author):
    post = publish(author, community)
    services.delete_post(author, post)
    services.delete_post(author, post)
    assert db.session.get(Post, post.id).status == "deleted"
    assert db.session.get(type(community), community.id).post_count == 0


def test_likes_are_idempotent_and_counters_match_rows(community, author, reader):
    post = publish(author, community)
    assert engagement.like_post(reader, post) is True
    assert engagement.like_post(reader, post) is False
    assert post.like_count == 1 and db.session.get(type(author), author.id).likes_received_count == 1
    assert post.hot_score == pytest.approx(services.hot_score(1, 0, 0, post.created_at))
    assert engagement.unlike_post(reader, post) is True
    assert engagement.unlike_post(reader, post) is False
    assert post.like_count == 0
    assert db.session.get(type(author), author.id).likes_received_count == 0
    notes = list(db.session.scalars(select(Notification).where(Notification.recipient_id == author.id)))
    assert [n.kind for n in notes] == ["like"]


def test_liking_a_deleted_post_or_a_blocker_is_refused(community, author, reader):
    post = publish(author, community)
    services.delete_post(author, post)
    with pytest.raises(Conflict):
        engagement.like_post(reader, post)
    other = publish(author, community, title="Another")
    social.block(author, reader)
    with pytest.raises(Forbidden):
        engagement.like_post(reader, other)
    with pytest.raises(Forbidden):
        engagement.save_post(reader, other)
    with pytest.raises(NotFound):
        services.ensure_can_view(other, reader)
    assert db.session.scalar(select(func.count()).select_from(Like)) == 0


def test_saves_go_into_collections_and_move_between_them(community, author, reader):
    post = publish(author, community)
    save = engagement.save_post(reader, post)
    default = save.collection
    assert default.name == "Favourites" and not default.is_public and default.item_count == 1
    trips = engagement.create_collection(reader, "Trips", is_public=True)
    engagement.save_post(reader, post, trips.id)
    db.session.expire_all()
    assert db.session.get(Collection, default.id).item_count == 0
    assert db.session.get(Collection, trips.id).item_count == 1
    assert db.session.get(Post, post.id).save_count == 1
    with pytest.raises(Invalid):
        engagement.create_collection(reader, "Trips")
    stranger = factories.user("stranger")
    with pytest.raises(Invalid):
        engagement.save_post(stranger, post, trips.id)  # not their collection
    assert engagement.unsave_post(reader, post) is True
    db.session.expire_all()
    assert db.session.get(Post, post.id).save_count == 0 and db.session.get(Collection, trips.id).item_count == 0


def test_private_collections_are_not_found_by_others(community, author, reader):
    private = engagement.create_collection(reader, "Secret")
    public = engagement.create_collection(reader, "Open", is_public=True)
    assert engagement.get_collection(private.id, reader) == private
    with pytest.raises(NotFound):
        engagement.get_collection(private.id, author)
    with pytest.raises(NotFound):
        engagement.get_collection(private.id, None)
    assert engagement.get_collection(public.id, None) == public
    assert [c.name for c in engagement.collections_of(reader, author)] == ["Open"]


def test_deleting_a_collection_unsaves_its_posts(community, author, reader):
    post = publish(author, community)
    trips = engagement.create_collection(reader, "Trips")
    engagement.save_post(reader, post, trips.id)
    engagement.delete_collection(reader, trips)
    db.session.expire_all()
    assert db.session.get(Post, post.id).save_count == 0
    assert db.session.scalar(select(func.count()).select_from(Save)) == 0


def test_comments_nest_two_levels_and_notify(community, author, reader):
    post = publish(author, community)
    third = factories.user("third")
    top = comments.add_comment(reader, post, "Where is this?")
    reply = comments.add_comment(author, post, "Mount Tai @third", top.id)
    deeper = comments.add_comment(third, post, "Lovely", reply.id)
    deepest = comments.add_comment(reader, post, "Agreed", deeper.id)
    assert (top.depth, reply.depth, deeper.depth, deepest.depth) == (0, 1, 2, 2)
    assert deepest.parent_id == reply.id  # a reply to a third-level reply stays third-level
    assert db.session.get(Post, post.id).comment_count == 4
    kinds = {(n.recipient_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (author.id, "comment") in kinds and (reader.id, "reply") in kinds and (third.id, "mention") in kinds
    tree = comments.comment_tree(post, reader)
    assert [n.comment.id for n in tree] == [top.id]
    assert [n.comment.id for n in tree[0].replies[0].replies] == [deeper.id, deepest.id]


def test_replying_to_a_comment_of_another_post_is_refused(community, author, reader):
    post, other = publish(author, community), publish(author, community, title="Other")
    foreign = comments.add_comment(reader, other, "Hi")
    before = counts()
    with pytest.raises(Invalid) as refused:
        comments.add_comment(reader, post, "Sneaky", foreign.id)
    assert "parent_id" in refused.value.errors
    with pytest.raises(Invalid):
        comments.add_comment(reader, post, "   ")
    with pytest.raises(Invalid):
        comments.add_comment(reader, post, "x" * 5000)
    db.session.rollback()
    assert counts() == before


def test_blocked_people_cannot_comment_or_mention(community, author, reader):
    post = publish(author, community)
    social.block(author, reader)
    with pytest.raises(Forbidden):
        comments.add_comment(reader, post, "Let me in")
    third = factories.user("third")
    comments.add_comment(third, post, "Hi @reader1")  # third may mention reader
    own = publish(reader, community, title="Reader's note")
    comments.add_comment(reader, own, "Hey @author")  # author blocked reader: no mention notification
    mentioned = {n.recipient_id for n in db.session.scalars(select(Notification).where(Notification.kind == "mention"))}
    assert mentioned == {reader.id}


def test_comment_edit_window_and_soft_delete(community, author, reader):
    post = publish(author, community)
    comment = comments.add_comment(reader, post, "Frist")
    comments.edit_comment(reader, comment, "First")
    assert comment.body == "First" and comment.edited_at is not None
    with pytest.raises(Forbidden):
        comments.edit_comment(author, comment, "Hijack")
    with frozen_at(now() + timedelta(minutes=16)), pytest.raises(Forbidden):
        comments.edit_comment(reader, comment, "Too late")
    with pytest.raises(Forbidden):
        comments.delete_comment(author, comment)  # only its author (or an admin)
    reply = comments.add_comment(author, post, "Thanks", comment.id)
    comments.delete_comment(reader, comment)
    comments.delete_comment(reader, comment)
    assert db.session.get(Post, post.id).comment_count == 1
    tree = comments.comment_tree(post, author)
    assert tree[0].comment.status == "deleted" and tree[0].replies[0].comment.id == reply.id


def test_hot_score_rises_with_engagement_and_decays_with_age():
    moment = now()
    assert services.hot_score(10, 0, 0, moment) > services.hot_score(1, 0, 0, moment)
    # Ten times the engagement is worth 12.5 hours of freshness.
    older = services.hot_score(10, 0, 0, moment - timedelta(seconds=services.HOT_DECAY_SECONDS))
    assert older == pytest.approx(services.hot_score(1, 0, 0, moment))


def test_collections_and_revisions_follow_blocks_and_ownership(community, author, reader):
    engagement.create_collection(reader, "Open", is_public=True)
    social.block(reader, author)
    assert engagement.collections_of(reader, author) == []  # blocked either way: nothing to show
    post = publish(author, community)
    services.edit_post(author, post, title="Second")
    assert [r.title for r in services.revisions_of(post, author)] == ["Sunrise on the ridge"]
    with pytest.raises(Forbidden):
        services.revisions_of(post, reader)
