"""The authorization matrix: every moderation action × {visitor, member, moderator of another community,
moderator, owner, admin} → allowed or refused, generated from one table, through the HTML pages and the API.

Visitors are sent to log in (HTML 302 to /login, API 401); everyone else not allowed gets a 403 and nothing
changes (no log row)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import now
from app.extensions import db
from app.moderation import actions, curation, reports
from app.moderation.models import ModAction, QueueItem
from tests.moderation.conftest import log_in_as, token, user

ROLES = ("visitor", "member", "other_moderator", "moderator", "owner", "admin")
MODS = {"moderator", "owner", "admin"}
OWNERS = {"owner", "admin"}
ADMINS = {"admin"}


def _prepare(world, name: str) -> dict:
    """Put the world in the state the action needs; return the target."""
    mod, admin = user(world.moderator2), user(world.admin)
    member = user(world.reader)  # the user acted on: never one of the actors below
    target = {"post": ("post", world.post_id), "comment": ("comment", world.comment_id),
              "user": ("user", member.id)}

    def do(action, kind, target_id, **extra):
        actions.take_action(admin if action in actions.ACTIONS and actions.ACTIONS[action].scope == "admin" else mod,
                            action, target_kind=kind, target_id=target_id, reason="Setting the scene", **extra)

    community = {"community_id": world.community_id}
    if name == "restore_post":
        do("remove_post", "post", world.post_id)
    elif name == "unlock_comments":
        do("lock_comments", "post", world.post_id)
    elif name == "unpin_post":
        do("pin_post", "post", world.post_id)
    elif name == "unfeature_post":
        do("feature_post", "post", world.post_id)
    elif name == "restore_comment":
        do("remove_comment", "comment", world.comment_id)
    elif name == "unban_user":
        do("ban_user", "user", member.id, **community)
    elif name == "unmute_reports":
        do("mute_reports", "user", member.id, **community)
    elif name == "unsuspend_user":
        do("suspend_user", "user", member.id)
    elif name == "approve_post":
        from app.posts.models import Post

        db.session.get(Post, world.post_id).status = "pending"
        db.session.commit()
    elif name in ("delist_product", "relist_product", "delist_shop", "relist_shop"):
        from tests.search.helpers import product, shop_for

        shop = shop_for(user(world.author), admin, slug="adas-shop", name="Ada's shop")
        made = product(shop, "Sun cream")
        target["product"], target["shop"] = ("product", made.id), ("shop", shop.id)
        if name.startswith("relist"):
            kind = name.split("_")[1]
            do(f"delist_{kind}", kind, target[kind][1])
    db.session.commit()
    return target


TABLE = {  # action: who may take it
    "remove_post": MODS, "restore_post": MODS, "approve_post": MODS, "lock_comments": MODS,
    "unlock_comments": MODS, "pin_post": MODS, "unpin_post": MODS, "feature_post": MODS, "unfeature_post": MODS,
    "remove_comment": MODS, "restore_comment": MODS, "ban_user": MODS, "unban_user": MODS, "warn_user": MODS,
    "mute_reports": MODS, "unmute_reports": MODS,
    "suspend_user": ADMINS, "unsuspend_user": ADMINS, "delist_product": ADMINS, "relist_product": ADMINS,
    "delist_shop": ADMINS, "relist_shop": ADMINS,
}
# Other moderation routes, same matrix: (HTML method and path, API method and path and body)
ROUTES = {
    "view_queue": MODS, "dismiss_item": MODS, "appoint_moderator": OWNERS, "create_collection": MODS,
    "manage_page": MODS,
}
assert set(TABLE) == set(actions.TAKEABLE), "every action the service takes is in the matrix"

CASES = [(action, role) for action in [*TABLE, *ROUTES] for role in ROLES]


def _actor(world, role: str) -> str | None:
    return None if role == "visitor" else getattr(world, role)


def _expected(action: str, role: str) -> bool:
    return role in (TABLE.get(action) or ROUTES[action])


def _log_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ModAction))


@pytest.mark.parametrize("surface", ["html", "api"])
@pytest.mark.parametrize(("action", "role"), CASES)
def test_authorization_matrix(app, client, world, action, role, surface):
    with app.app_context():
        targets = _prepare(world, action)
        if action == "dismiss_item":
            reports.report(user(world.author), "comment", world.comment_id, "spam")
        item = db.session.scalar(select(QueueItem))
        item_id, version = (item.id, item.version) if item else (None, None)
        before = _log_count()
    name = _actor(world, role)
    headers = {}
    if name and surface == "html":
        log_in_as(client, name)
    elif name:
        headers = token(app, name)
    allowed = _expected(action, role)
    response = _request(client, world, action, targets, surface, headers, item_id, version)
    if role == "visitor":
        if surface == "html":
            assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
        else:
            assert response.status_code == 401
        return
    if allowed:
        assert response.status_code in (200, 201, 303), (response.status_code, response.get_data(as_text=True)[:400])
        if surface == "html" and response.status_code == 303:
            assert "error" not in _flashes(client), _flashes(client)
    else:
        assert response.status_code == 403, (response.status_code, response.get_data(as_text=True)[:400])
    with app.app_context():
        changed = _log_count() - before
        writes_log = action in TABLE or action in ("dismiss_item", "appoint_moderator")
        assert changed == (1 if allowed and writes_log else 0)


def _flashes(client) -> str:
    with client.session_transaction() as session:
        return " ".join(category for category, _message in session.get("_flashes", []))


def _request(client, world, action, targets, surface, headers, item_id, version):
    if action in TABLE:
        kind, target_id = targets[actions.ACTIONS[action].target_kind]
        needs_community = kind == "user" and actions.ACTIONS[action].scope != "admin"
        if surface == "html":
            data = {"action": action, "target_kind": kind, "target_id": target_id, "reason": "Matrix reason"}
            if needs_community:
                data["community"] = world.slug
            if action in ("ban_user", "suspend_user"):
                data["days"] = "3"
            return client.post_form("/mod/act", data)
        body = {"action": action, "target_kind": kind, "target_id": target_id, "reason": "Matrix reason"}
        if needs_community:
            body["community"] = world.slug
        if action in ("ban_user", "suspend_user"):
            body["expires_at"] = (now() + timedelta(days=3)).isoformat() + "Z"
        return client.post("/api/v1/moderation/actions", json=body, headers=headers)
    if action == "view_queue":
        if surface == "html":
            return client.get(f"/mod/queue?community={world.slug}")
        return client.get(f"/api/v1/moderation/queue?community={world.slug}", headers=headers)
    if action == "manage_page":
        if surface == "html":
            return client.get(f"/c/{world.slug}/mod")
        return _manage_api(client, world, headers)
    if action == "dismiss_item":
        if surface == "html":
            return client.post_form(f"/mod/queue/{item_id}/act", {"action": "dismiss", "reason": "Nothing wrong",
                                                                   "version": version})
        return client.post(f"/api/v1/moderation/queue/{item_id}/actions",
                           json={"action": "dismiss", "reason": "Nothing wrong", "version": version}, headers=headers)
    if action == "appoint_moderator":
        if surface == "html":
            return client.post_form(f"/c/{world.slug}/mod/roles", {"what": "appoint", "username": world.reader,
                                                                    "role": "moderator", "reason": "Helpful"})
        return client.post(f"/api/v1/communities/{world.slug}/moderators",
                           json={"username": world.reader, "role": "moderator", "reason": "Helpful"}, headers=headers)
    if action == "create_collection":
        if surface == "html":
            return client.post_form(f"/c/{world.slug}/collections", {"name": "Best of the week"})
        return client.post(f"/api/v1/communities/{world.slug}/collections", json={"name": "Best of the week"},
                           headers=headers)
    raise AssertionError(action)


def _manage_api(client, world, headers):
    """The API counterpart of the settings page: the community's queue (the same who-may-see rule)."""
    return client.get(f"/api/v1/moderation/queue?community={world.slug}", headers=headers)


def test_curation_and_modlog_are_public_to_read(app, client, world):
    with app.app_context():
        from app.communities.models import Community

        collection = curation.create_collection(user(world.moderator), db.session.get(Community, world.community_id),
                                                "Picks")
        collection_id = collection.id
    assert client.get(f"/c/{world.slug}/modlog").status_code == 200
    assert client.get(f"/api/v1/communities/{world.slug}/modlog").status_code == 200
    assert client.get(f"/c/{world.slug}/collections/{collection_id}").status_code == 200
    assert client.get(f"/api/v1/communities/{world.slug}/collections").status_code == 200
