"""Community pages as a browser uses them: directory, create, edit, join/leave (plain and htmx), header."""
import io

from PIL import Image
from sqlalchemy import func, select

from app.communities import services
from app.communities.models import Community, Membership
from app.extensions import db
from tests.social.conftest import person, sign_in

HTMX = {"HX-Request": "true"}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 300), (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def setup_community(app, slug="trail-runners", vertical="outdoor", **fields):
    with app.app_context():
        admin = person(f"admin_{slug[:8].replace('-', '_')}", is_admin=True)
        owner = person(f"own_{slug[:8].replace('-', '_')}")
        community = services.create_community(admin, slug=slug, name=fields.pop("name", slug.title()),
                                              vertical=vertical, owner_username=owner.username, **fields)
        return community.id, admin.username, owner.username


def state(app, slug="trail-runners"):
    with app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == slug))
        rows = db.session.scalar(select(func.count()).select_from(Membership)
                                 .where(Membership.community_id == community.id))
        return community.member_count, rows


def test_directory_lists_cards_and_filters_by_vertical(client, app):
    setup_community(app, "trail-runners", "outdoor", description="Run the hills")
    setup_community(app, "noodle-lovers", "food")
    page = client.get("/c").get_data(as_text=True)
    assert "Trail-Runners" in page and "Noodle-Lovers" in page and "Run the hills" in page
    assert "1 member" in page and "Outdoor" in page
    page = client.get("/c?vertical=food").get_data(as_text=True)
    assert "Noodle-Lovers" in page and "Trail-Runners" not in page
    assert client.get("/c?vertical=bogus").status_code == 200
    assert "No communities here yet" in client.get("/c?vertical=travel").get_data(as_text=True)


def test_join_and_leave_plain_and_htmx(client, app):
    setup_community(app)
    with app.app_context():
        person("reader")
    sign_in(client, "reader")
    response = client.post_form("/c/trail-runners/join", {"next": "/c"})
    assert response.status_code == 302 and response.headers["Location"] == "/c"
    assert client.post_form("/c/trail-runners/join").status_code == 302  # idempotent
    assert state(app) == (2, 2)
    response = client.post_form("/c/trail-runners/leave", {"next": "/c"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'action="/c/trail-runners/join"' in html
    assert state(app) == (1, 1)
    html = client.post_form("/c/trail-runners/join", headers=HTMX).get_data(as_text=True)
    assert 'action="/c/trail-runners/leave"' in html and state(app) == (2, 2)


def test_joining_a_missing_community_is_404_and_changes_nothing(client, app):
    with app.app_context():
        person("reader")
    sign_in(client, "reader")
    assert client.post_form("/c/nope/join").status_code == 404
    assert client.post_form("/c/nope/leave").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_owner_cannot_leave(client, app):
    _, _, owner = setup_community(app)
    sign_in(client, owner)
    assert client.post_form("/c/trail-runners/leave").status_code == 409
    assert state(app) == (1, 1)


def test_signed_out_join_goes_to_login(client, app):
    setup_community(app)
    response = client.post_form("/c/trail-runners/join")
    assert response.status_code == 302 and "/login?next=/c/trail-runners" in response.headers["Location"]
    assert state(app) == (1, 1)


def test_admin_creates_community_through_the_form(client, app):
    with app.app_context():
        person("boss", is_admin=True)
        person("runner")
    sign_in(client, "boss")
    assert client.get("/c/new").status_code == 200
    response = client.post_form("/c/new", {
        "slug": "trail-runners", "name": "Trail Runners", "vertical": "outdoor", "owner": "runner",
        "description": "Hills", "rules_md": "- Be kind", "banner": (io.BytesIO(png()), "banner.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/c/trail-runners"
    with app.app_context():
        community = services.get_community("trail-runners")
        assert community.owner.username == "runner" and community.banner_path.startswith("banners/")


def test_create_form_errors_change_nothing(client, app):
    setup_community(app)
    with app.app_context():
        person("boss", is_admin=True)
        person("runner")
    sign_in(client, "boss")
    base = {"slug": "good-slug", "name": "Name", "vertical": "outdoor", "owner": "runner"}
    cases = [({"slug": "Bad Slug!"}, "lowercase letters"), ({"slug": "trail-runners"}, "already exists"),
             ({"owner": "ghost"}, "no user with this username"),
             ({"banner": (io.BytesIO(b"<html><body>hi</body></html>"), "banner.png")}, "not an image")]
    for change, message in cases:
        response = client.post_form("/c/new", {**base, **change}, content_type="multipart/form-data")
        assert response.status_code == 422 and message in response.get_data(as_text=True), change
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Community)) == 1


def test_non_admin_cannot_create_and_non_owner_cannot_edit(client, app):
    setup_community(app)
    with app.app_context():
        person("reader")
    sign_in(client, "reader")
    assert client.get("/c/new").status_code == 403
    assert client.post_form("/c/new", {"slug": "mine", "name": "Mine", "vertical": "food",
                                       "owner": "reader"}).status_code == 403
    assert client.get("/c/trail-runners/edit").status_code == 403
    assert client.post_form("/c/trail-runners/edit", {"name": "Hijacked", "vertical": "food"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Community)) == 1
        assert services.get_community("trail-runners").name == "Trail-Runners"


def test_owner_edits_through_the_form(client, app):
    _, _, owner = setup_community(app)
    sign_in(client, owner)
    page = client.get("/c/trail-runners/edit").get_data(as_text=True)
    assert "Trail-Runners" in page and 'name="owner"' not in page  # only admins see the owner field
    response = client.post_form("/c/trail-runners/edit", {"name": "越野跑", "vertical": "travel",
                                                          "description": "一起跑山", "rules_md": "**No spam**"})
    assert response.status_code == 302
    with app.app_context():
        community = services.get_community("trail-runners")
        assert (community.name, community.vertical, community.rules_md) == ("越野跑", "travel", "**No spam**")


def test_community_header_partial(client, app):
    _, _, owner = setup_community(app, rules_md="1. **Be kind**\n2. <script>alert(1)</script>",
                                  description="Run the hills")
    page = client.get("/c/trail-runners").get_data(as_text=True)
    assert "Run the hills" in page and "<details" in page and "<strong>Be kind</strong>" in page
    assert "<script>alert" not in page and owner in page and "Moderators" in page and "1 member" in page
    assert "/login?next=/c/trail-runners" in page  # signed out: the join button asks to log in
    sign_in(client, owner)
    page = client.get("/c/trail-runners").get_data(as_text=True)
    assert "/c/trail-runners/edit" in page and "Owner" in page
