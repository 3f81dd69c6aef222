"""The moderation pages: report, queue, act with a reason, see the reason and appeal, the log; in English and
Chinese; refusals come back as a message on the page and change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.moderation import actions, curation, reports
from app.moderation.models import ModAction, QueueItem, Report
from app.posts.models import Post
from tests.moderation.conftest import log_in_as, user


def text(response) -> str:
    return response.get_data(as_text=True)


def test_report_act_appeal_and_restore_through_the_pages(app, client, world):
    log_in_as(client, world.reader)
    form = client.get(f"/report/post/{world.post_id}?next=/p/{world.post_id}")
    assert form.status_code == 200 and "Sunscreen that lasts" in text(form)
    sent = client.post_form(f"/report/post/{world.post_id}", {"reason": "spam", "note": "Link farm",
                                                              "next": f"/p/{world.post_id}"})
    assert sent.status_code == 303
    again = client.post_form(f"/report/post/{world.post_id}", {"reason": "spam"})
    assert again.status_code == 409 and "already reported" in text(again)
    client.post_form("/logout")

    log_in_as(client, world.moderator)
    queue = client.get("/mod/queue")
    assert queue.status_code == 200 and "Sunscreen that lasts" in text(queue) and "Link farm" in text(queue)
    with app.app_context():
        item = db.session.scalar(select(QueueItem))
        item_id, version = item.id, item.version
    empty = client.post_form(f"/mod/queue/{item_id}/act", {"action": "remove_post", "version": version,
                                                          "reason": "", "next": "/mod/queue"})
    assert empty.status_code == 303
    with app.app_context():
        assert db.session.get(Post, world.post_id).status == "published"
    done = client.post_form(f"/mod/queue/{item_id}/act", {"action": "remove_post", "version": version,
                                                         "reason": "Spam or self-promotion", "next": "/mod/queue"})
    assert done.status_code == 303
    stale = client.post_form(f"/mod/queue/{item_id}/act", {"action": "dismiss", "version": version,
                                                          "reason": "Fine", "next": "/mod/queue"})
    assert stale.status_code == 303
    assert "Another moderator has already handled this item" in text(client.get("/mod/queue"))
    client.post_form("/logout")

    log_in_as(client, world.author)
    page = text(client.get(f"/p/{world.post_id}"))
    assert "Reason: Spam or self-promotion" in page and "See the decision and appeal" in page
    with app.app_context():
        removal = db.session.scalar(select(ModAction))
    action_page = text(client.get(f"/mod/actions/{removal.id}"))
    assert "Appeal this decision" in action_page and "a moderator" in action_page
    assert world.moderator not in action_page
    client.post_form(f"/mod/actions/{removal.id}/appeal", {"reason": "It is a genuine review"})
    assert "Waiting for another moderator" in text(client.get(f"/mod/actions/{removal.id}"))
    client.post_form("/logout")

    log_in_as(client, world.moderator2)
    assert "It is a genuine review" in text(client.get("/mod/queue"))
    with app.app_context():
        from app.moderation.models import Appeal

        appeal_id = db.session.scalar(select(Appeal.id))
    client.post_form(f"/mod/appeals/{appeal_id}/decide", {"decision": "grant", "reason_text": "Reads as genuine"})
    with app.app_context():
        assert db.session.get(Post, world.post_id).status == "published"
    log = text(client.get(f"/c/{world.slug}/modlog"))
    assert "Restored a note" in log and "Removed a note" in log and world.moderator in log


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_every_moderation_page_renders_in_both_languages(app, client, world, lang):
    with app.app_context():
        reports.report(user(world.reader), "post", world.post_id, "spam")
        reports.report(user(world.reader), "comment", world.comment_id, "harassment")
        reports.report(user(world.reader), "user", user(world.member).id, "spam")
        collection = curation.create_collection(user(world.moderator), db.session.get(Post, world.post_id).community,
                                                "Sun care")
        curation.add_note(user(world.moderator), collection, world.post_id)
        actions.take_action(user(world.moderator), "feature_post", target_kind="post", target_id=world.post_id,
                            reason="Great")
        row = actions.take_action(user(world.moderator), "ban_user", target_kind="user",
                                  target_id=user(world.member).id, reason="Spam", community_id=world.community_id)
        collection_id, action_id = collection.id, row.id
    log_in_as(client, world.admin)
    headers = {"Accept-Language": "zh-CN"} if lang == "zh_Hans" else {}
    client.get(f"/?lang={lang}")
    pages = ["/mod/queue", f"/c/{world.slug}/mod", f"/c/{world.slug}/modlog", "/mod/log",
             f"/mod/actions/{action_id}", f"/c/{world.slug}/collections/{collection_id}", f"/c/{world.slug}",
             f"/p/{world.post_id}", f"/mod/users/{world.member}?community={world.slug}",
             f"/report/user/{user_id(app, world.member)}"]
    for page in pages:
        response = client.get(page, headers=headers)
        assert response.status_code == 200, (page, response.status_code)
        body = text(response)
        if lang == "zh_Hans":
            assert "审核" in body or "举报" in body, page
    community = text(client.get(f"/c/{world.slug}", headers=headers))
    assert "Sun care" in community


def user_id(app, name) -> int:
    with app.app_context():
        return user(name).id


def test_html_refusals_change_nothing(app, client, world):
    log_in_as(client, world.moderator)
    response = client.post_form("/mod/act", {"action": "ban_user", "target_kind": "user",
                                             "target_id": user_id(app, world.owner), "community": world.slug,
                                             "reason": "Coup"})
    assert response.status_code == 403
    response = client.post_form("/mod/act", {"action": "remove_post", "target_kind": "post",
                                             "target_id": world.other_post_id, "reason": "Not mine"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModAction)) == 0
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0
