"""The index follows the database: services queue changes by name, jobs run after commit, nothing a viewer
may not see is returned, and `flask search reindex` rebuilds everything. Runs on Whoosh (SQLite and
PostgreSQL) and on the PostgreSQL backend."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.services import register_user, update_profile
from app.communities.services import create_community, update_community
from app.core.clock import now
from app.extensions import db
from app.posts.engagement import like_post, save_post, unlike_post
from app.posts.models import STATUS_REMOVED
from app.posts.services import create_post, delete_post, edit_post
from app.search import get_backend, services
from app.search.indexing import flush_count_refreshes, index_documents, queue_post, rebuild_index
from app.social.models import Block
from tests import factories
from tests.conftest import DEFAULT_PASSWORD
from tests.search.conftest import POSTGRES, WHOOSH, WHOOSH_ON_POSTGRES
from tests.search.helpers import note, tiny_png


@pytest.fixture(params=[WHOOSH, WHOOSH_ON_POSTGRES, POSTGRES])
def search_combo(request):
    return request.param


def found(q: str, viewer=None, **kwargs) -> list[str]:
    page = services.search(viewer, q, sort="relevant", **kwargs)
    return [r.obj.title if r.doc_type == "post" else getattr(r.obj, "username", None) or r.obj.name
            for r in page.results]


def test_post_services_keep_the_index_current(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = create_post(author, community_slug="camp", title="Titanium spork", body="Light #gear",
                       images=[tiny_png()])
    assert found("spork") == ["Titanium spork"]
    edit_post(author, post, title="Bamboo chopsticks")
    assert found("spork") == [] and found("chopsticks") == ["Bamboo chopsticks"]
    delete_post(author, post)
    assert found("chopsticks") == []
    assert get_backend().count() == 1  # the author (registered through the service); the post is gone
    assert place.id


def test_account_and_community_services_keep_the_index_current(ctx):
    admin = factories.user("boss", is_admin=True)
    user = register_user("zhangwei", "zw@example.com", DEFAULT_PASSWORD)
    assert found("zhangwei", type="users") == ["zhangwei"]
    update_profile(user, display_name="张伟 Climber")
    assert found("climber", type="users") == ["zhangwei"]
    community = create_community(admin, slug="climbing", name="Rock climbing 攀岩", vertical="outdoor",
                                 owner_username="zhangwei")
    assert found("攀岩", type="communities") == ["Rock climbing 攀岩"]
    update_community(admin, community, name="Bouldering", description="Short hard climbs")
    assert found("bouldering", type="communities") == ["Bouldering"]
    assert found("攀岩", type="communities") == []


def test_a_rolled_back_change_is_not_indexed(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = note(author, place, "Quiet stove")
    queue_post(post.id)
    post.title = "Loud stove"
    db.session.rollback()
    db.session.commit()  # a later commit in the same session must not carry the dropped ids
    assert found("stove") == []


def test_removed_and_deleted_posts_are_never_returned(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = note(author, place, "Canvas tent")
    rebuild_index()
    post.status = STATUS_REMOVED  # e.g. by a moderator, before the index hears of it
    db.session.commit()
    assert found("tent") == []
    index_documents("post", [post.id])
    assert get_backend().search(services.SearchQuery(services.parse_query("tent"))).total == 0
    index_documents("post", [post.id])  # the job is idempotent
    assert rebuild_index() == 2


def test_blocked_authors_are_filtered_for_the_viewer(ctx):
    ann, bob, reader = factories.user("ann"), factories.user("bob"), factories.user("reader")
    place = factories.community("camp", owner=ann)
    note(ann, place, "Tent by ann")
    note(bob, place, "Tent by bob")
    rebuild_index()
    db.session.add(Block(blocker_id=bob.id, blocked_id=reader.id))  # bob blocked the reader
    db.session.commit()
    assert found("tent", reader) == ["Tent by ann"]
    assert services.search(reader, "tent", sort="relevant").total == 1
    assert sorted(found("tent")) == ["Tent by ann", "Tent by bob"]
    assert found("bob", reader, type="users") == []
    assert "Tent by bob" not in [str(s.label) for s in services.suggest(reader, "ten")]


def test_likes_and_saves_reach_the_index(ctx):
    author, fan, friend = factories.user("writer"), factories.user("fan"), factories.user("friend")
    place = factories.community("camp", owner=author)
    old = note(author, place, "Tent old", created_at=now() - timedelta(days=2))
    new = note(author, place, "Tent new")
    rebuild_index()

    def top() -> list[str]:
        return [r.obj.title for r in services.search(None, "tent", sort="top").results]

    assert top() == ["Tent new", "Tent old"]
    like_post(fan, old)
    flush_count_refreshes()  # what the one-minute schedule does with a batch that is not due yet
    assert top() == ["Tent old", "Tent new"]
    save_post(fan, new)  # a save weighs two likes
    unlike_post(fan, old)
    like_post(friend, new)
    flush_count_refreshes()
    assert top() == ["Tent new", "Tent old"]
    assert flush_count_refreshes() == {"indexed": 0, "deleted": 0}  # nothing left waiting
