"""The follower graph through its services: follow, unfollow, block, lists, counters."""
import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import Forbidden, Invalid
from app.extensions import db
from app.social import services
from app.social.blocks import hidden_user_ids, is_blocked_between
from app.social.models import Block, Follow, Notification
from tests.social.conftest import fresh, person


def follow_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Follow))


def test_follow_is_idempotent_and_counts_once(ctx):
    ann, bob = person("ann"), person("bob")
    assert services.follow(ann, bob) is True
    assert services.follow(ann, bob) is False
    assert follow_rows() == 1
    assert fresh(User, bob.id).follower_count == 1 and fresh(User, ann.id).following_count == 1
    assert fresh(User, ann.id).follower_count == 0
    kinds = db.session.scalars(select(Notification.kind).where(Notification.recipient_id == bob.id)).all()
    assert kinds == ["follow"]


def test_unfollow_is_idempotent_and_never_goes_negative(ctx):
    ann, bob = person("ann"), person("bob")
    services.follow(ann, bob)
    assert services.unfollow(ann, bob) is True
    assert services.unfollow(ann, bob) is False
    assert follow_rows() == 0
    assert fresh(User, bob.id).follower_count == 0 and fresh(User, ann.id).following_count == 0


def test_refollow_does_not_stack_unread_notifications(ctx):
    ann, bob = person("ann"), person("bob")
    for _ in range(3):
        services.follow(ann, bob)
        services.unfollow(ann, bob)
    services.follow(ann, bob)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_following_yourself_is_refused_and_changes_nothing(ctx):
    ann = person("ann")
    with pytest.raises(Invalid):
        services.follow(ann, ann)
    assert follow_rows() == 0 and fresh(User, ann.id).follower_count == 0


def test_blocked_either_way_cannot_follow(ctx):
    ann, bob, cat = person("ann"), person("bob"), person("cat")
    services.block(bob, ann)  # bob blocked ann: ann cannot follow bob, bob cannot follow ann
    services.block(cat, bob)
    for follower, followee in ((ann, bob), (bob, ann), (bob, cat), (cat, bob)):
        with pytest.raises(Forbidden):
            services.follow(follower, followee)
    assert follow_rows() == 0
    assert fresh(User, bob.id).follower_count == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_block_removes_follows_both_ways_and_fixes_counters(ctx):
    ann, bob, cat = person("ann"), person("bob"), person("cat")
    services.follow(ann, bob)
    services.follow(bob, ann)
    services.follow(cat, bob)
    assert services.block(bob, ann) is True
    assert services.block(bob, ann) is False  # idempotent
    assert follow_rows() == 1  # only cat → bob is left
    ann_, bob_ = fresh(User, ann.id), fresh(User, bob.id)
    assert (ann_.follower_count, ann_.following_count) == (0, 0)
    assert (bob_.follower_count, bob_.following_count) == (1, 0)
    assert is_blocked_between(ann.id, bob.id) and is_blocked_between(bob.id, ann.id)
    assert hidden_user_ids(ann.id) == {bob.id} and hidden_user_ids(bob.id) == {ann.id}


def test_unblock_lets_them_follow_again(ctx):
    ann, bob = person("ann"), person("bob")
    services.block(bob, ann)
    assert services.unblock(bob, ann) is True
    assert services.unblock(bob, ann) is False
    assert services.follow(ann, bob) is True
    assert db.session.scalar(select(func.count()).select_from(Block)) == 0


def test_blocking_yourself_is_refused(ctx):
    ann = person("ann")
    with pytest.raises(Invalid):
        services.block(ann, ann)
    assert db.session.scalar(select(func.count()).select_from(Block)) == 0


def test_relationship_and_mutual(ctx):
    ann, bob = person("ann"), person("bob")
    assert services.relationship_between(None, bob) == services.Relationship()
    assert services.relationship_between(ann, ann).is_self
    services.follow(ann, bob)
    relation = services.relationship_between(ann, bob)
    assert relation.is_following and not relation.follows_you and not relation.is_mutual
    services.follow(bob, ann)
    assert services.relationship_between(ann, bob).is_mutual
    services.block(ann, bob)
    relation = services.relationship_between(bob, ann)
    assert relation.blocks_you and relation.is_blocked and not relation.is_following


def test_follower_lists_paginate_newest_first_without_gaps(ctx):
    star = person("star")
    fans = [person(f"fan{i}") for i in range(7)]
    for fan in fans:
        services.follow(fan, star)
    seen, cursor = [], None
    while True:
        page = services.followers_of(star, cursor=cursor, limit=3)
        seen += [user.username for user in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [fan.username for fan in reversed(fans)]
    assert [u.username for u in services.following_of(fans[0]).items] == ["star"]


def test_follower_list_hides_accounts_blocked_by_the_viewer(ctx):
    star, fan, viewer = person("star"), person("fan"), person("viewer")
    services.follow(fan, star)
    services.block(viewer, fan)
    assert services.followers_of(star, viewer).items == []
    assert [u.username for u in services.followers_of(star).items] == ["fan"]


def test_tampered_cursor_on_follower_list_is_invalid(ctx):
    star = person("star")
    for i in range(3):
        services.follow(person(f"fan{i}"), star)
    good = services.followers_of(star, limit=1).next_cursor
    # Change a character inside the signature, not its last one: that carries padding bits, so "xx" at the
    # end came out as the same signature now and then (and then the test failed).
    changed = good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:]
    for bad in ("garbage", changed, good + "x"):
        with pytest.raises(Invalid):
            services.followers_of(star, cursor=bad)


def test_follow_states_batch(ctx):
    viewer, ann, bob, cat = (person(n) for n in ("viewer", "ann", "bob", "cat"))
    services.follow(viewer, ann)
    services.follow(ann, viewer)
    services.follow(viewer, bob)
    states = services.follow_states(viewer.id, [ann.id, bob.id, cat.id])
    assert states.is_mutual(ann.id) and states.is_following(bob.id) and not states.is_mutual(bob.id)
    assert not states.is_following(cat.id)
