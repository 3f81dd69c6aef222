"""/api/v1 social routes: same services as the pages, domain errors as problem+json."""
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import db
from app.social.models import Follow, Notification
from tests.social.conftest import person

PROBLEM = "application/problem+json"


def token(app, username: str) -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username)) or person(username)
        _token, secret = accounts.create_token(user, "test")
        return {"Authorization": f"Bearer {secret}"}


def test_follow_unfollow_block_over_the_api(client, app):
    ann = token(app, "ann")
    token(app, "bob")
    response = client.post("/api/v1/users/bob/follow", headers=ann)
    assert response.status_code == 200
    assert response.json["is_following"] is True and response.json["follower_count"] == 1
    assert client.post("/api/v1/users/bob/follow", headers=ann).json["follower_count"] == 1  # idempotent
    assert client.delete("/api/v1/users/bob/follow", headers=ann).json["is_following"] is False
    client.post("/api/v1/users/bob/follow", headers=ann)
    blocked = client.post("/api/v1/users/bob/block", headers=ann).json
    assert blocked["blocked_by_you"] is True and blocked["is_following"] is False and blocked["follower_count"] == 0
    refused = client.post("/api/v1/users/bob/follow", headers=ann)
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert client.delete("/api/v1/users/bob/block", headers=ann).json["blocked_by_you"] is False


def test_api_bad_input_is_problem_json_and_changes_nothing(client, app):
    ann = token(app, "ann")
    me = client.post("/api/v1/users/ann/follow", headers=ann)
    assert me.status_code == 422 and me.content_type == PROBLEM and "yourself" in me.json["detail"]
    missing = client.post("/api/v1/users/nobody_here/follow", headers=ann)
    assert missing.status_code == 404 and missing.content_type == PROBLEM
    assert client.post("/api/v1/users/ann/follow").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Follow)) == 0


def test_follower_lists_with_cursor(client, app):
    ann = token(app, "ann")
    for name in ("f1", "f2", "f3"):
        client.post("/api/v1/users/ann/follow", headers=token(app, name))
    first = client.get("/api/v1/users/ann/followers?limit=2", headers=ann).json
    assert [u["username"] for u in first["items"]] == ["f3", "f2"] and first["next_cursor"]
    rest = client.get(f"/api/v1/users/ann/followers?limit=2&cursor={first['next_cursor']}").json
    assert [u["username"] for u in rest["items"]] == ["f1"] and rest["next_cursor"] is None
    assert [u["username"] for u in client.get("/api/v1/users/f1/following").json["items"]] == ["ann"]
    bad = client.get("/api/v1/users/ann/followers?cursor=tampered")
    assert bad.status_code == 422 and bad.content_type == PROBLEM


def test_notifications_over_the_api(client, app):
    ann = token(app, "ann")
    for name in ("bob", "cat"):
        client.post("/api/v1/users/ann/follow", headers=token(app, name))
    assert client.get("/api/v1/notifications/unread-count", headers=ann).json == {"unread": 2}
    listing = client.get("/api/v1/notifications", headers=ann).json
    [group] = listing["items"]
    assert group["kind"] == "follow" and group["count"] == 2 and group["message"] == "cat and bob started following you"
    bob = token(app, "bob")
    assert client.post(f"/api/v1/notifications/{group['id']}/read", headers=bob).status_code == 404
    marked = client.post(f"/api/v1/notifications/{group['id']}/read", headers=ann).json
    assert marked == {"marked": 2, "unread": 0}
    assert client.post("/api/v1/notifications/read-all", headers=ann).json == {"marked": 0, "unread": 0}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.read_at.is_(None))) == 0
