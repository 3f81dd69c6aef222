"""The moderation rules through the services: reports, actions, bans, suspensions, appeals, roles, curation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.communities import services as communities
from app.communities.models import Community
from app.core.clock import now
from app.core.errors import Conflict, Forbidden, Invalid, RateLimited
from app.extensions import db
from app.moderation import actions, curation, reports, roles
from app.moderation.models import Appeal, ModAction, QueueItem, Report
from app.posts import comments as comment_services
from app.posts import services as post_services
from app.posts.models import Comment, Post
from app.social.models import Notification
from tests.moderation.conftest import user


def log_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ModAction))


def remove(world, who=None, reason="Spam: links to a pill shop"):
    return actions.take_action(user(who or world.moderator), "remove_post", target_kind="post",
                               target_id=world.post_id, reason=reason)


# --- reports and the queue ------------------------------------------------------------------------------------

def test_reports_of_one_target_merge_into_one_item_with_count_and_reasons(ctx, world):
    reports.report(user(world.reader), "post", world.post_id, "spam", "Link farm")
    reports.report(user(world.member), "post", world.post_id, "misinformation")
    items = db.session.scalars(select(QueueItem)).all()
    assert len(items) == 1
    assert items[0].report_count == 2 and items[0].reason_list == ["spam", "misinformation"]
    assert items[0].community_id == world.community_id


def test_the_report_keeps_a_snapshot_the_edit_cannot_erase(ctx, world):
    made = reports.report(user(world.reader), "post", world.post_id, "spam")
    post = db.session.get(Post, world.post_id)
    post.title, post.body_md = "Innocent now", "Nothing to see"  # the author edits it afterwards
    db.session.commit()
    assert "It lasts all day at the beach." in db.session.get(Report, made.id).snapshot
    assert "Sunscreen that lasts" in db.session.get(Report, made.id).snapshot


def test_reporting_twice_or_your_own_note_is_refused_and_changes_nothing(ctx, world):
    reports.report(user(world.reader), "post", world.post_id, "spam")
    with pytest.raises(Conflict) as twice:
        reports.report(user(world.reader), "post", world.post_id, "harassment")
    assert twice.value.code == "already-reported"
    with pytest.raises(Invalid) as own:
        reports.report(user(world.author), "post", world.post_id, "spam")
    assert own.value.code == "own-content"
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    assert db.session.scalar(select(QueueItem.report_count)) == 1


def test_a_muted_reporter_is_heard_no_more(ctx, world):
    actions.take_action(user(world.moderator), "mute_reports", target_kind="user", target_id=user(world.reader).id,
                        reason="Reports everything", community_id=world.community_id)
    reports.report(user(world.reader), "post", world.post_id, "spam")
    item = db.session.scalar(select(QueueItem))
    assert item.report_count == 0


def test_reporters_are_told_when_their_report_was_acted_on(ctx, world):
    reports.report(user(world.reader), "post", world.post_id, "spam")
    item = db.session.scalar(select(QueueItem))
    actions.take_action(user(world.moderator), "remove_post", target_kind="post", target_id=world.post_id,
                        reason="Spam", queue_item_id=item.id, seen_version=item.version)
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.recipient_id == user(world.reader).id)))
    assert "mod_report_acted" in kinds
    assert db.session.scalar(select(Report.acted_at)) is not None


def test_queue_is_per_community_for_moderators_and_everything_for_admins(ctx, world):
    reports.report(user(world.reader), "post", world.post_id, "spam")
    reports.report(user(world.reader), "post", world.other_post_id, "off_topic")
    reports.report(user(world.reader), "user", user(world.member).id, "harassment")
    assert {i.target_id for i in reports.queue(user(world.moderator)).items} == {world.post_id}
    assert {i.target_id for i in reports.queue(user(world.other_moderator)).items} == {world.other_post_id}
    assert len(reports.queue(user(world.admin)).items) == 3
    assert [i.target_kind for i in reports.queue(user(world.admin), kind="user").items] == ["user"]
    assert len(reports.queue(user(world.admin), reason="off_topic").items) == 1
    assert len(reports.queue(user(world.admin), age="older").items) == 0
    with pytest.raises(Forbidden):
        reports.queue(user(world.member))


def test_report_rate_limit_scales_with_account_age(ctx, world, app):
    from tests.social.conftest import person

    app.config["WRITE_PACE_LIMITS"] = True
    newcomer = person("newbie")  # created now: a new account
    db.session.commit()
    targets = [world.post_id, world.comment_id]
    reports.report(newcomer, "post", targets[0], "spam")
    for i in range(reports.REPORTS_PER_HOUR[True] - 1):
        db.session.add(Report(item_id=db.session.scalar(select(QueueItem.id)), reporter_id=newcomer.id,
                              target_kind="user", target_id=1000 + i, reason="spam", created_at=now()))
    db.session.commit()
    with pytest.raises(RateLimited):
        reports.report(newcomer, "comment", world.comment_id, "spam")


# --- actions and the log ----------------------------------------------------------------------------------

def test_every_action_writes_exactly_one_log_row(ctx, world):
    mod, member = user(world.moderator), user(world.member)
    admin = user(world.admin)
    steps = [
        (mod, "lock_comments", "post", world.post_id, {}),
        (mod, "unlock_comments", "post", world.post_id, {}),
        (mod, "pin_post", "post", world.post_id, {}),
        (mod, "unpin_post", "post", world.post_id, {}),
        (mod, "feature_post", "post", world.post_id, {}),
        (mod, "unfeature_post", "post", world.post_id, {}),
        (mod, "remove_comment", "comment", world.comment_id, {}),
        (mod, "restore_comment", "comment", world.comment_id, {}),
        (mod, "warn_user", "user", member.id, {"community_id": world.community_id}),
        (mod, "mute_reports", "user", member.id, {"community_id": world.community_id}),
        (mod, "unmute_reports", "user", member.id, {"community_id": world.community_id}),
        (mod, "ban_user", "user", member.id, {"community_id": world.community_id,
                                              "expires_at": now() + timedelta(days=3)}),
        (mod, "unban_user", "user", member.id, {"community_id": world.community_id}),
        (mod, "remove_post", "post", world.post_id, {}),
        (mod, "restore_post", "post", world.post_id, {}),
        (admin, "suspend_user", "user", member.id, {"expires_at": now() + timedelta(days=1)}),
        (admin, "unsuspend_user", "user", member.id, {}),
    ]
    for actor, action, kind, target_id, extra in steps:
        before = log_rows()
        actions.take_action(actor, action, target_kind=kind, target_id=target_id, reason=f"Because {action}",
                            **extra)
        assert log_rows() == before + 1, action
    reversal = db.session.scalar(select(ModAction).where(ModAction.kind == "restore_post"))
    assert reversal.reverses_id == db.session.scalar(select(ModAction.id).where(ModAction.kind == "remove_post"))


def test_removal_shows_the_reason_to_the_author_and_notifies_them(ctx, world):
    remove(world)
    post = db.session.get(Post, world.post_id)
    assert post.status == "removed" and post.removed_reason == "Spam: links to a pill shop"
    assert db.session.get(Community, world.community_id).post_count == 0
    assert db.session.scalar(select(Notification.kind).where(
        Notification.recipient_id == post.author_id)) == "mod_removed_post"
    actions.take_action(user(world.moderator2), "restore_post", target_kind="post", target_id=world.post_id,
                        reason="Was fine after all")
    post = db.session.get(Post, world.post_id)
    assert post.status == "published" and post.removed_reason is None
    assert db.session.get(Community, world.community_id).post_count == 1


@pytest.mark.parametrize("reason", ["", "ab", "x" * 10_000])
def test_a_reason_of_0_or_10000_characters_is_refused_and_nothing_changes(ctx, world, reason):
    with pytest.raises(Invalid) as refused:
        remove(world, reason=reason)
    assert "reason" in refused.value.errors
    assert db.session.get(Post, world.post_id).status == "published" and log_rows() == 0


def test_acting_on_another_communitys_content_is_forbidden(ctx, world):
    with pytest.raises(Forbidden):
        actions.take_action(user(world.other_moderator), "remove_post", target_kind="post", target_id=world.post_id,
                            reason="Not yours")
    with pytest.raises(Forbidden):
        actions.take_action(user(world.moderator), "remove_post", target_kind="post", target_id=world.post_id,
                            reason="Wrong community named", community_id=world.other_id)
    assert db.session.get(Post, world.post_id).status == "published" and log_rows() == 0


def test_banning_an_owner_or_yourself_is_refused(ctx, world):
    mod = user(world.moderator)
    with pytest.raises(Forbidden) as owner:
        actions.take_action(mod, "ban_user", target_kind="user", target_id=user(world.owner).id,
                            reason="Coup", community_id=world.community_id)
    assert owner.value.code == "ban-owner"
    with pytest.raises(Invalid) as self_ban:
        actions.take_action(mod, "ban_user", target_kind="user", target_id=mod.id, reason="Oops",
                            community_id=world.community_id)
    assert self_ban.value.code == "ban-self"
    with pytest.raises(Forbidden) as moderator:
        actions.take_action(mod, "ban_user", target_kind="user", target_id=user(world.moderator2).id,
                            reason="Rival", community_id=world.community_id)
    assert moderator.value.code == "ban-moderator"
    assert log_rows() == 0


def test_a_ban_with_an_expiry_in_the_past_is_refused(ctx, world):
    with pytest.raises(Invalid) as past:
        actions.take_action(user(world.moderator), "ban_user", target_kind="user", target_id=user(world.member).id,
                            reason="Spam", community_id=world.community_id, expires_at=now() - timedelta(minutes=1))
    assert past.value.code == "expiry-in-past"
    assert communities.active_ban(user(world.member).id, world.community_id) is None


def test_a_banned_member_cannot_post_comment_or_join_but_can_read(ctx, world):
    member = user(world.member)
    actions.take_action(user(world.moderator), "ban_user", target_kind="user", target_id=member.id,
                        reason="Spam links", community_id=world.community_id, expires_at=now() + timedelta(days=7))
    post = db.session.get(Post, world.post_id)
    community = db.session.get(Community, world.community_id)
    with pytest.raises(Forbidden) as posting:
        post_services.create_post(member, community_slug=world.slug, title="Hi", body="x", images=[b"x"])
    assert posting.value.code == "banned-from-community" and "Spam links" in posting.value.message
    with pytest.raises(Forbidden):
        comment_services.add_comment(member, post, "hello")
    communities.leave_community(member, community)
    with pytest.raises(Forbidden):
        communities.join_community(member, community)
    post_services.ensure_can_view(post, member)  # still reads
    # …and the ban lifts itself when it expires
    from app.communities.models import CommunityBan

    db.session.scalar(select(CommunityBan)).expires_at = now() - timedelta(seconds=1)
    db.session.commit()
    assert communities.join_community(member, community)


def test_pins_are_limited_to_three(ctx, world):
    from tests import factories

    community = db.session.get(Community, world.community_id)
    posts = [factories.post(user(world.author), community) for _ in range(4)]
    for post in posts[:3]:
        actions.take_action(user(world.moderator), "pin_post", target_kind="post", target_id=post.id, reason="Good")
    with pytest.raises(Conflict) as fourth:
        actions.take_action(user(world.moderator), "pin_post", target_kind="post", target_id=posts[3].id,
                            reason="Good")
    assert fourth.value.code == "pin-limit"


def test_admins_alone_suspend_and_delist(ctx, world):
    with pytest.raises(Forbidden):
        actions.take_action(user(world.owner), "suspend_user", target_kind="user", target_id=user(world.member).id,
                            reason="Spammer")
    actions.take_action(user(world.admin), "suspend_user", target_kind="user", target_id=user(world.member).id,
                        reason="Spammer", expires_at=now() + timedelta(hours=2))
    member = user(world.member)
    assert member.is_suspended and not member.is_active
    with pytest.raises(Forbidden) as refused:
        communities.ensure_may_participate(member, world.community_id)
    assert refused.value.code == "account-suspended"


def test_a_suspension_lifts_itself(ctx, world):
    from app.moderation.jobs import lift_expired_suspensions

    actions.take_action(user(world.admin), "suspend_user", target_kind="user", target_id=user(world.member).id,
                        reason="Cool off", expires_at=now() + timedelta(hours=2))
    later = now() + timedelta(hours=3)
    assert lift_expired_suspensions(later) == 1
    assert user(world.member).suspended_at is None and user(world.member).is_active


# --- appeals -----------------------------------------------------------------------------------------------------

def test_appeal_once_within_14_days_decided_by_another_moderator(ctx, world):
    removal = remove(world)
    author = user(world.author)
    made = actions.appeal(author, removal.id, "It is a real review, not spam")
    with pytest.raises(Conflict) as twice:
        actions.appeal(author, removal.id, "Please")
    assert twice.value.code == "already-appealed"
    with pytest.raises(Forbidden) as own:
        actions.decide_appeal(user(world.moderator), made.id, True, "I was right")
    assert own.value.code == "own-appeal"
    before = log_rows()
    actions.decide_appeal(user(world.moderator2), made.id, True, "Reads as a genuine review")
    assert log_rows() == before + 1
    assert db.session.get(Post, world.post_id).status == "published"
    assert db.session.get(Appeal, made.id).status == "granted"
    with pytest.raises(Conflict):
        actions.decide_appeal(user(world.owner), made.id, False, "Too late")


def test_an_appeal_after_14_days_is_refused(ctx, world):
    removal = remove(world)
    removal.created_at = now() - timedelta(days=15)
    db.session.commit()
    with pytest.raises(Conflict) as late:
        actions.appeal(user(world.author), removal.id, "Sorry I was away")
    assert late.value.code == "appeal-window-closed"
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_only_the_person_acted_against_may_appeal(ctx, world):
    removal = remove(world)
    with pytest.raises(Forbidden):
        actions.appeal(user(world.reader), removal.id, "Unfair to my friend")


# --- roles ---------------------------------------------------------------------------------------------------------

def test_the_last_owner_cannot_step_down_without_naming_another(ctx, world):
    community = db.session.get(Community, world.community_id)
    with pytest.raises(Conflict) as last:
        roles.step_down(user(world.owner), community, "Tired")
    assert last.value.code == "last-owner"
    roles.step_down(user(world.owner), community, "Handing over", successor=world.moderator)
    assert communities.membership_role(user(world.moderator), community) == "owner"
    assert communities.membership_role(user(world.owner), community) == "member"
    assert db.session.get(Community, world.community_id).owner_id == user(world.moderator).id


def test_owners_appoint_and_remove_moderators_moderators_cannot(ctx, world):
    community = db.session.get(Community, world.community_id)
    with pytest.raises(Forbidden):
        roles.appoint(user(world.moderator), community, world.member, "moderator", "Helpful")
    roles.appoint(user(world.owner), community, world.member, "moderator", "Helpful")
    assert communities.membership_role(user(world.member), community) == "moderator"
    roles.dismiss(user(world.owner), community, world.member, "Inactive")
    assert communities.membership_role(user(world.member), community) == "member"


# --- approval, spam, curation -------------------------------------------------------------------------------------

def test_notes_by_new_accounts_wait_for_approval_in_the_queue(ctx, world, app):
    from tests.posts.conftest import image_bytes
    from tests.social.conftest import person

    community = db.session.get(Community, world.community_id)
    roles.update_settings(user(world.owner), community, approval_account_days=7)
    newcomer = person("fresh")
    db.session.commit()
    post = post_services.create_post(newcomer, community_slug=world.slug, title="First note", body="Hello all",
                                     images=[image_bytes((60, 60))])
    assert post.status == "pending"
    item = db.session.scalar(select(QueueItem).where(QueueItem.target_id == post.id))
    assert item.auto_flag == "approval"
    actions.take_action(user(world.moderator), "approve_post", target_kind="post", target_id=post.id,
                        reason="Looks fine", queue_item_id=item.id, seen_version=item.version)
    assert db.session.get(Post, post.id).status == "published"


def test_near_duplicates_go_to_the_queue_as_spam(ctx, world):
    from tests.posts.conftest import image_bytes

    author = user(world.author)
    text = "Amazing serum, click my link for 50% off, limited time only, best deal of the year!!!"
    for i in range(3):
        post = post_services.create_post(author, community_slug=world.slug, title=f"Deal {i}", body=text,
                                         images=[image_bytes((60, 60))])
    item = db.session.scalar(select(QueueItem).where(QueueItem.target_id == post.id))
    assert item is not None and "spam" in item.reason_list and item.auto_flag.startswith("duplicate:")


def test_collections_hold_published_notes_of_their_community_in_order(ctx, world):
    from tests import factories

    community = db.session.get(Community, world.community_id)
    collection = curation.create_collection(user(world.moderator), community, "Best sunscreen reviews 2026")
    second = factories.post(user(world.author), community, title="Second")
    curation.add_note(user(world.moderator), collection, second.id)
    curation.add_note(user(world.moderator), collection, world.post_id)
    curation.move_note(user(world.moderator), collection, world.post_id, "up")
    assert [p.id for p in curation.collection_posts(collection, None)] == [world.post_id, second.id]
    with pytest.raises(Invalid):
        curation.add_note(user(world.moderator), collection, world.other_post_id)
    with pytest.raises(Forbidden):
        curation.add_note(user(world.other_moderator), collection, second.id)
    remove(world)
    assert [p.id for p in curation.collection_posts(collection, None)] == [second.id]


def test_removed_comment_leaves_the_count_and_comes_back(ctx, world):
    actions.take_action(user(world.moderator), "remove_comment", target_kind="comment", target_id=world.comment_id,
                        reason="Spam link")
    assert db.session.get(Post, world.post_id).comment_count == 0
    post = db.session.get(Post, world.post_id)
    assert comment_services.comment_tree(post, user(world.reader)) == []
    assert len(comment_services.comment_tree(post, user(world.moderator))) == 1  # the marker, to restore
    actions.take_action(user(world.moderator), "restore_comment", target_kind="comment", target_id=world.comment_id,
                        reason="Fine")
    assert db.session.get(Comment, world.comment_id).status == "published"
    assert db.session.get(Post, world.post_id).comment_count == 1


def test_new_accounts_post_comment_and_link_less_often(ctx, world, app):
    from app.posts.pace import NOTES_PER_HOUR
    from tests.posts.conftest import image_bytes
    from tests.social.conftest import person

    app.config["WRITE_PACE_LIMITS"] = True
    from app.communities.models import Membership

    newcomer = person("fresh2")
    db.session.add(Membership(user_id=newcomer.id, community_id=world.community_id, role="member"))
    db.session.commit()
    with pytest.raises(Invalid) as links:
        post_services.create_post(newcomer, community_slug=world.slug, title="Deals", images=[image_bytes((60, 60))],
                                  body="https://a.example and https://b.example")
    assert links.value.code == "too-many-links"
    for i in range(NOTES_PER_HOUR[True]):
        post_services.create_post(newcomer, community_slug=world.slug, title=f"Hello {i}", body=f"Day {i} notes",
                                  images=[image_bytes((60, 60))])
    with pytest.raises(RateLimited):
        post_services.create_post(newcomer, community_slug=world.slug, title="One more", body="x",
                                  images=[image_bytes((60, 60))])
    veteran = user(world.author)  # older than a week: the higher limit
    post_services.create_post(veteran, community_slug=world.slug, title="Links", images=[image_bytes((60, 60))],
                              body="https://a.example and https://b.example")
    post = db.session.get(Post, world.post_id)
    with pytest.raises(Invalid):
        comment_services.add_comment(newcomer, post, "see https://a.example and https://b.example")
