"""Community rules through the services: create, edit, join, leave, moderators, directory."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.communities import services
from app.communities.models import Community, Membership
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from tests.social.conftest import fresh, person


def png(size=(600, 400), color=(200, 80, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def communities() -> int:
    return db.session.scalar(select(func.count()).select_from(Community))


def members(community) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership)
                             .where(Membership.community_id == community.id))


def new(admin, slug="trail-runners", owner="owner", **fields):
    fields.setdefault("name", "Trail Runners")
    fields.setdefault("vertical", "outdoor")
    return services.create_community(admin, slug=slug, owner_username=owner, **fields)


def test_admin_creates_community_with_owner_as_first_member(ctx):
    admin, owner = person("admin1", is_admin=True), person("owner")
    community = new(admin, description="Run trails", rules_md="1. Be kind", banner=png())
    assert community.owner_id == owner.id and community.member_count == 1 == members(community)
    assert services.membership_of(owner, community).role == "owner"
    assert services.is_moderator(owner, community) and services.is_moderator(admin, community)
    assert not services.is_moderator(person("reader"), community) and not services.is_moderator(None, community)
    assert services.get_community("TRAIL-RUNNERS").id == community.id
    banner = Image.open(ctx.config["MEDIA_ROOT"] / community.banner_path)
    assert banner.format == "WEBP" and banner.size == services.BANNER_SIZE


def test_non_admin_cannot_create(ctx):
    person("owner")
    with pytest.raises(Forbidden):
        new(person("reader"))
    assert communities() == 0


def test_malformed_or_reserved_slug_is_refused(ctx):
    admin = person("admin1", is_admin=True)
    person("owner")
    for slug in ["", "ab", "Has Space", "-dash", "dash-", "a--b", "x" * 41, "new", "émoji", "../etc"]:
        with pytest.raises(Invalid) as error:
            new(admin, slug=slug)
        assert "slug" in error.value.errors, slug
    assert communities() == 0


def test_taken_slug_and_unknown_owner_and_bad_fields(ctx):
    admin = person("admin1", is_admin=True)
    person("owner")
    new(admin)
    cases = [({"slug": "trail-runners"}, "slug"), ({"slug": "other", "owner": "ghost"}, "owner"),
             ({"slug": "other", "vertical": "weapons"}, "vertical"), ({"slug": "other", "name": "  "}, "name"),
             ({"slug": "other", "name": "x" * 81}, "name")]
    for fields, field in cases:
        with pytest.raises(Invalid) as error:
            new(admin, **fields)
        assert field in error.value.errors
    assert communities() == 1


def test_banner_that_is_html_is_refused_and_nothing_is_stored(ctx):
    admin = person("admin1", is_admin=True)
    person("owner")
    with pytest.raises(Invalid) as error:
        new(admin, banner=b"<html><script>alert(1)</script></html>")
    assert "banner" in error.value.errors and communities() == 0
    assert not (ctx.config["MEDIA_ROOT"] / "banners").exists()


def test_owner_and_admin_edit_others_cannot(ctx):
    admin, owner = person("admin1", is_admin=True), person("owner")
    community = new(admin)
    services.update_community(owner, community, name="Trail Runners CN", description="越野跑", vertical="travel")
    assert (fresh(Community, community.id).name, community.vertical) == ("Trail Runners CN", "travel")
    stranger = person("stranger")
    services.join_community(stranger, community)
    with pytest.raises(Forbidden):
        services.update_community(stranger, community, name="Hijacked")
    with pytest.raises(Forbidden):
        services.update_community(owner, community, owner_username="stranger")  # only admins appoint
    assert fresh(Community, community.id).name == "Trail Runners CN"


def test_admin_appoints_new_owner_old_owner_stays_as_moderator(ctx):
    admin, owner, heir = person("admin1", is_admin=True), person("owner"), person("heir")
    community = new(admin)
    services.update_community(admin, community, owner_username="heir")
    community = fresh(Community, community.id)
    assert community.owner_id == heir.id and community.member_count == 2 == members(community)
    assert services.membership_of(owner, community).role == "moderator"
    assert [m.user.username for m in services.moderators_of(community)] == ["heir", "owner"]
    services.leave_community(owner, community)  # no longer the owner: may leave
    assert fresh(Community, community.id).member_count == 1 == members(community)


def test_join_and_leave_are_idempotent_and_counted(ctx):
    admin = person("admin1", is_admin=True)
    owner = person("owner")
    community = new(admin)
    reader = person("reader")
    assert services.join_community(reader, community) is True
    assert services.join_community(reader, community) is False
    assert fresh(Community, community.id).member_count == 2 == members(community)
    assert services.leave_community(reader, community) is True
    assert services.leave_community(reader, community) is False
    assert fresh(Community, community.id).member_count == 1 == members(community)
    with pytest.raises(Conflict):
        services.leave_community(owner, community)
    assert fresh(Community, community.id).member_count == 1 == members(community)


def test_missing_community_is_not_found(ctx):
    with pytest.raises(NotFound):
        services.get_community("nope")


def test_rules_markdown_is_rendered_safely():
    html = str(services.render_rules(
        "# Rules\n\n- **Be kind**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
        "<img src=x onerror=alert(1)> [ok](https://example.com)"))
    assert "<strong>Be kind</strong>" in html and "<script" not in html and 'href="javascript' not in html
    assert "<img" not in html  # raw HTML stays text
    assert 'href="https://example.com"' in html


def test_directory_orders_by_size_filters_by_vertical_and_reports_roles(ctx):
    admin = person("admin1", is_admin=True)
    person("owner")
    small = new(admin, slug="small-one", vertical="food")
    big = new(admin, slug="big-one", vertical="outdoor")
    reader = person("reader")
    services.join_community(reader, big)
    page = services.list_communities()
    assert [c.slug for c in page.items] == ["big-one", "small-one"]
    assert [c.slug for c in services.list_communities("food").items] == ["small-one"]
    with pytest.raises(Invalid):
        services.list_communities("weapons")
    assert services.membership_roles(reader, [small.id, big.id]) == {big.id: "member"}
    assert services.vertical_label("mother_baby") == "Mother & baby"
