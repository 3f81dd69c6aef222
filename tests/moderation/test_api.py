"""The moderation API: bad input gets a clear problem+json 4xx and changes nothing; the log hides
moderators' names from the public; the queue answers with the reported content."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import now
from app.extensions import db
from app.moderation.models import Appeal, ModAction, QueueItem, Report
from tests.moderation.conftest import token, user

PROBLEM = "application/problem+json"


def counts(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Report, QueueItem, ModAction, Appeal))


def remove_body(world, reason="Spam links"):
    return {"action": "remove_post", "target_kind": "post", "target_id": world.post_id, "reason": reason}


def test_report_queue_act_appeal_decide_over_the_api(app, client, world):
    body = {"target_kind": "post", "target_id": world.post_id, "reason": "spam", "note": "Link farm"}
    made = client.post("/api/v1/reports", json=body, headers=token(app, world.reader))
    assert made.status_code == 201
    queue = client.get("/api/v1/moderation/queue", headers=token(app, world.moderator)).json["items"]
    assert len(queue) == 1 and queue[0]["reasons"] == ["spam"]
    assert queue[0]["reports"][0]["snapshot"]["title"] == "Sunscreen that lasts"
    acted = client.post(f"/api/v1/moderation/queue/{queue[0]['id']}/actions",
                        json={"action": "remove_post", "reason": "Spam links", "version": queue[0]["version"]},
                        headers=token(app, world.moderator))
    assert acted.status_code == 201 and acted.json["moderator"] == world.moderator
    late = client.post(f"/api/v1/moderation/queue/{queue[0]['id']}/actions",
                       json={"action": "dismiss", "reason": "Looks fine", "version": queue[0]["version"]},
                       headers=token(app, world.moderator2))
    assert late.status_code == 409 and late.json["code"] == "already-handled"
    appeal = client.post(f"/api/v1/moderation/actions/{acted.json['id']}/appeal",
                         json={"reason": "It is a genuine review"}, headers=token(app, world.author))
    assert appeal.status_code == 201
    pending = client.get("/api/v1/moderation/appeals", headers=token(app, world.moderator2)).json["items"]
    assert [a["id"] for a in pending] == [appeal.json["id"]]
    assert client.get("/api/v1/moderation/appeals", headers=token(app, world.moderator)).json["items"] == []
    decided = client.post(f"/api/v1/moderation/appeals/{appeal.json['id']}/decision",
                          json={"grant": True, "reason": "Genuine"}, headers=token(app, world.moderator2))
    assert decided.status_code == 201 and decided.json["kind"] == "restore_post"
    log = client.get(f"/api/v1/communities/{world.slug}/modlog").json["items"]
    assert [e["kind"] for e in log] == ["restore_post", "remove_post"]
    assert {e["moderator"] for e in log} == {"a moderator"}  # the public does not see names
    named = client.get(f"/api/v1/communities/{world.slug}/modlog", headers=token(app, world.owner)).json["items"]
    assert {e["moderator"] for e in named} == {world.moderator, world.moderator2}


@pytest.mark.parametrize(("who", "path", "body", "status", "code"), [
    ("reader", "/api/v1/reports", {"target_kind": "post", "target_id": 0, "reason": "spam"}, 422, None),
    ("reader", "/api/v1/reports", {"target_kind": "post", "target_id": "abc", "reason": "spam"}, 422, None),
    ("reader", "/api/v1/reports", {"target_kind": "planet", "target_id": 1, "reason": "spam"}, 422, None),
    ("reader", "/api/v1/reports", {"target_kind": "post", "target_id": "POST", "reason": "rude"}, 422, None),
    ("author", "/api/v1/reports", {"target_kind": "post", "target_id": "POST", "reason": "spam"}, 422, "own-content"),
    ("moderator", "/api/v1/moderation/actions", "REMOVE:", 422, "reason-required"),
    ("moderator", "/api/v1/moderation/actions", "REMOVE:" + "x" * 10_000, 422, "reason-too-long"),
    ("moderator", "/api/v1/moderation/actions", "REMOVE:" + "x" * 10_001, 422, "validation-error"),
    ("moderator", "/api/v1/moderation/actions", "REMOVE:" + "x" * 1_001, 422, "reason-too-long"),
    ("other_moderator", "/api/v1/moderation/actions", "REMOVE:Not mine", 403, "not-a-moderator"),
    ("moderator", "/api/v1/moderation/actions", "BAN_OWNER", 403, "ban-owner"),
    ("moderator", "/api/v1/moderation/actions", "BAN_SELF", 422, "ban-self"),
    ("moderator", "/api/v1/moderation/actions", "BAN_PAST", 422, "expiry-in-past"),
    ("owner", "/api/v1/communities/SLUG/step-down", {"reason": "Tired of it"}, 409, "last-owner"),
])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(app, client, world, who, path, body, status, code):
    with app.app_context():
        ids = {"POST": world.post_id, "OWNER": user(world.owner).id, "SELF": user(world.moderator).id}
    if isinstance(body, dict):
        body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    elif body.startswith("REMOVE:"):
        body = remove_body(world, body.removeprefix("REMOVE:"))
    else:
        target = {"BAN_OWNER": "OWNER", "BAN_SELF": "SELF", "BAN_PAST": "SELF"}[body]
        body = {"action": "ban_user", "target_kind": "user", "target_id": ids[target], "reason": "Bad apple",
                "community": world.slug}
        if target == "SELF" and path and body and who == "moderator" and status == 422 and code == "expiry-in-past":
            with app.app_context():
                body["target_id"] = user(world.member).id
            body["expires_at"] = (now() - timedelta(days=1)).isoformat() + "Z"
    before = counts(app)
    response = client.post(path.replace("SLUG", world.slug), json=body, headers=token(app, getattr(world, who)))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    if code:
        assert response.json["code"] == code
    assert counts(app) == before


def test_reporting_twice_and_appealing_twice_or_late_are_refused(app, client, world):
    body = {"target_kind": "comment", "target_id": world.comment_id, "reason": "spam"}
    assert client.post("/api/v1/reports", json=body, headers=token(app, world.reader)).status_code == 201
    twice = client.post("/api/v1/reports", json=body, headers=token(app, world.reader))
    assert twice.status_code == 409 and twice.json["code"] == "already-reported"
    removal = client.post("/api/v1/moderation/actions", json=remove_body(world), headers=token(app, world.moderator))
    url = f"/api/v1/moderation/actions/{removal.json['id']}/appeal"
    assert client.post(url, json={"reason": "ok"}, headers=token(app, world.author)).json["code"] == "reason-required"
    assert client.post(url, json={"reason": "Please look again"}, headers=token(app, world.author)).status_code == 201
    again = client.post(url, json={"reason": "Please look again"}, headers=token(app, world.author))
    assert again.status_code == 409 and again.json["code"] == "already-appealed"
    with app.app_context():
        appeal = db.session.scalar(select(Appeal))
        decide = f"/api/v1/moderation/appeals/{appeal.id}/decision"
    own = client.post(decide, json={"grant": False, "reason": "I stand by it"}, headers=token(app, world.moderator))
    assert own.status_code == 403 and own.json["code"] == "own-appeal"
    with app.app_context():
        action = db.session.get(ModAction, removal.json["id"])
        action.created_at = now() - timedelta(days=20)
        db.session.delete(db.session.scalar(select(Appeal)))
        db.session.commit()
    late = client.post(url, json={"reason": "Sorry, I was away"}, headers=token(app, world.author))
    assert late.status_code == 409 and late.json["code"] == "appeal-window-closed"
