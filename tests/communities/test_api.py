"""/api/v1 community routes: same services as the pages, domain errors as problem+json."""
import io

from PIL import Image
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.communities.models import Community, Membership
from app.extensions import db
from tests.social.conftest import person

PROBLEM = "application/problem+json"


def token(app, username: str, **fields) -> dict:
    with app.app_context():
        _token, secret = accounts.create_token(person(username, **fields), "test")
        return {"Authorization": f"Bearer {secret}"}


def counts(app, slug="trail-runners"):
    with app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == slug))
        rows = db.session.scalar(select(func.count()).select_from(Membership)
                                 .where(Membership.community_id == community.id))
        return community.member_count, rows


def create(client, admin, **fields):
    body = {"slug": "trail-runners", "name": "Trail Runners", "vertical": "outdoor", "owner": "owner", **fields}
    return client.post("/api/v1/communities", json=body, headers=admin)


def test_create_get_list_join_leave(client, app):
    admin, owner, reader = token(app, "boss", is_admin=True), token(app, "owner"), token(app, "reader")
    response = create(client, admin, rules_md="**Be kind**")
    assert response.status_code == 201 and response.json["owner"] == "owner"
    assert response.json["rules_html"].startswith("<p><strong>Be kind")
    detail = client.get("/api/v1/communities/trail-runners", headers=owner).json
    assert detail["role"] == "owner" and detail["moderators"] == ["owner"] and detail["member_count"] == 1
    assert client.post("/api/v1/communities/trail-runners/join", headers=reader).json["role"] == "member"
    assert client.post("/api/v1/communities/trail-runners/join", headers=reader).json["member_count"] == 2
    listing = client.get("/api/v1/communities?vertical=outdoor").json
    assert [c["slug"] for c in listing["items"]] == ["trail-runners"] and listing["next_cursor"] is None
    assert client.post("/api/v1/communities/trail-runners/leave", headers=reader).json["role"] is None
    owner_leaves = client.post("/api/v1/communities/trail-runners/leave", headers=owner)
    assert owner_leaves.status_code == 409 and owner_leaves.content_type == PROBLEM
    assert counts(app) == (1, 1)


def test_api_refusals_are_problems_and_change_nothing(client, app):
    admin, reader = token(app, "boss", is_admin=True), token(app, "owner")
    forbidden = create(client, reader)
    assert forbidden.status_code == 403 and forbidden.content_type == PROBLEM
    bad_slug = create(client, admin, slug="Not OK")
    assert bad_slug.status_code == 422 and "slug" in bad_slug.json["errors"]
    assert create(client, admin, vertical="weapons").status_code == 422
    assert client.post("/api/v1/communities/nope/join", headers=reader).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Community)) == 0
    assert create(client, admin).status_code == 201
    assert create(client, admin).status_code == 422  # slug taken
    patch = client.patch("/api/v1/communities/trail-runners", json={"name": "Mine"}, headers=token(app, "other"))
    assert patch.status_code == 403 and patch.content_type == PROBLEM


def test_owner_patches_and_uploads_banner(client, app):
    admin, owner = token(app, "boss", is_admin=True), token(app, "owner")
    create(client, admin)
    response = client.patch("/api/v1/communities/trail-runners", json={"name": "越野跑", "vertical": "travel"},
                            headers=owner)
    assert response.status_code == 200 and response.json["name"] == "越野跑" and response.json["vertical"] == "travel"
    html = client.put("/api/v1/communities/trail-runners/banner", headers=owner,
                      data={"banner": (io.BytesIO(b"<html>nope</html>"), "b.png")}, content_type="multipart/form-data")
    assert html.status_code == 422 and html.content_type == PROBLEM
    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), (10, 200, 100)).save(buffer, "JPEG")
    buffer.seek(0)
    ok = client.put("/api/v1/communities/trail-runners/banner", headers=owner,
                    data={"banner": (buffer, "b.jpg")}, content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.json["banner_url"].endswith(".webp")
