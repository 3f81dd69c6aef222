"""Community rules: create and edit (admins appoint owners; owners edit), join and leave, who moderates.

Community.member_count changes only here, by SQL expression, in the same transaction as the Membership
row it counts, and only when that row was really inserted or deleted.
"""
from __future__ import annotations

import re

import nh3
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.services import get_user_by_username
from app.communities.models import (
    ROLE_MEMBER,
    ROLE_MODERATOR,
    ROLE_OWNER,
    VERTICALS,
    Community,
    CommunityBan,
    Membership,
)
from app.core import images
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import Page, clamp_limit, int_key, paginate
from app.core.uow import after_commit, transactional, unit_of_work
from app.extensions import db
from app.search.queue import queue_community

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
# Slugs that are, or may become, pages under /c/.
RESERVED_SLUGS = frozenset({"new", "edit", "create", "admin", "api", "all", "popular", "random", "settings", "search"})
NAME_MAX, DESCRIPTION_MAX, RULES_MAX = 80, 2000, 10_000
BANNER_MAX_BYTES = 8 * 1024 * 1024
BANNER_SIZE = (1500, 500)  # 3:1, cropped around the centre
PAGE_SIZE = 48

VERTICAL_LABELS = {
    "beauty": _l("Beauty"),
    "mother_baby": _l("Mother & baby"),
    "outdoor": _l("Outdoor"),
    "digital": _l("Digital"),
    "food": _l("Food"),
    "travel": _l("Travel"),
    "fashion": _l("Fashion"),
    "home": lazy_pgettext("vertical", "Home"),  # 家居 (home & living), not the home page's 首页
}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def vertical_label(key: str) -> str:
    """The translated name of a vertical (a new key without a label shows as its title-cased key)."""
    label = VERTICAL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").title()


def vertical_choices() -> list[tuple[str, str]]:
    return [(key, vertical_label(key)) for key in VERTICALS]


def render_rules(markdown: str) -> Markup:
    """Community rules as safe HTML: Markdown without raw HTML, then sanitized with nh3."""
    html = nh3.clean(_markdown.render(markdown or ""), link_rel="noopener noreferrer nofollow")
    return Markup(html)  # nosec B704 # -- the renderer has raw HTML off; nh3 sanitizes its output


# --- look-ups --------------------------------------------------------------------------------------------

def get_community(slug: str) -> Community:
    """The community with this slug, or NotFound."""
    community = db.session.scalar(select(Community).where(Community.slug == (slug or "").lower()))
    if community is None:
        raise NotFound(_("No such community."))
    return community


def membership_of(user: User | None, community: Community) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return db.session.get(Membership, (user.id, community.id))


def membership_role(user: User | None, community: Community) -> str | None:
    membership = membership_of(user, community)
    return membership.role if membership else None


def is_moderator(user: User | None, community: Community) -> bool:
    """Owner or moderator of this community, or a site admin."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.is_admin:
        return True
    membership = membership_of(user, community)
    return membership is not None and membership.role in (ROLE_MODERATOR, ROLE_OWNER)


def can_edit(user: User | None, community: Community) -> bool:
    """The owner and site admins edit a community's name, description, rules and banner."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    return bool(user.is_admin) or user.id == community.owner_id


def moderators_of(community: Community) -> list[Membership]:
    """Owner first, then moderators by seniority (memberships with their users, two queries)."""
    rows = db.session.scalars(select(Membership).where(
        Membership.community_id == community.id, Membership.role.in_((ROLE_OWNER, ROLE_MODERATOR)))
        .options(selectinload(Membership.user)).order_by(Membership.joined_at, Membership.user_id))
    return sorted(rows, key=lambda membership: membership.role != ROLE_OWNER)


def list_communities(vertical: str | None = None, cursor: str | None = None, limit: int | None = None) -> Page:
    """The directory: biggest communities first, optionally one vertical (Page of Community)."""
    if vertical and vertical not in VERTICALS:
        raise Invalid(_("Choose one of the listed verticals."), {"vertical": [_("Not a known vertical.")]})
    query = select(Community).options(selectinload(Community.owner))
    if vertical:
        query = query.where(Community.vertical == vertical)
    keys = [int_key(Community.member_count, "member_count"), int_key(Community.id, "id")]
    return paginate(query, keys, cursor, clamp_limit(limit, PAGE_SIZE))


def membership_roles(user: User | None, community_ids: list[int]) -> dict[int, str]:
    """The user's role in each of these communities they belong to (one query), for buttons on a list."""
    if user is None or not getattr(user, "is_authenticated", True) or not community_ids:
        return {}
    return dict(db.session.execute(select(Membership.community_id, Membership.role).where(
        Membership.user_id == user.id, Membership.community_id.in_(community_ids))).all())


# --- bans and who may take part ------------------------------------------------------------------------------

def active_ban(user_id: int, community_id: int) -> CommunityBan | None:
    """The ban that keeps this user out of this community now, if any (an expired one no longer counts)."""
    moment = now()
    return db.session.scalar(select(CommunityBan).where(
        CommunityBan.user_id == user_id, CommunityBan.community_id == community_id,
        CommunityBan.lifted_at.is_(None),
        (CommunityBan.expires_at.is_(None)) | (CommunityBan.expires_at > moment))
        .order_by(CommunityBan.id.desc()).limit(1))


def ensure_may_participate(user: User, community_id: int) -> None:
    """Refuse a suspended account, or a member banned from this community, anything but reading there:
    posting, commenting, joining, opening or joining group-buys, buying from a note card. Every service
    that lets someone take part in a community calls this (pages, the API and jobs alike)."""
    if getattr(user, "is_suspended", False):
        raise Forbidden(_("Your account is suspended."), code="account-suspended")
    ban = active_ban(user.id, community_id)
    if ban is not None:
        if ban.expires_at is None:
            message = _("You are banned from this community. You can still read it. Reason: %(reason)s",
                        reason=ban.reason)
        else:
            from flask_babel import format_datetime

            message = _("You are banned from this community until %(until)s. You can still read it. "
                        "Reason: %(reason)s", until=format_datetime(ban.expires_at, "short"), reason=ban.reason)
        raise Forbidden(message, code="banned-from-community")


def record_ban(community: Community, user: User, reason: str, banned_by: User,
               expires_at=None) -> CommunityBan:
    """Write the ban row (the moderation service checks who may ban whom and logs it)."""
    ban = CommunityBan(community_id=community.id, user_id=user.id, reason=reason, banned_by_id=banned_by.id,
                       created_at=now(), expires_at=expires_at)
    db.session.add(ban)
    db.session.flush()
    return ban


def lift_bans(community: Community, user: User) -> int:
    """Lift every active ban of this user in this community; returns how many were lifted."""
    moment = now()
    result = db.session.execute(update(CommunityBan).where(
        CommunityBan.community_id == community.id, CommunityBan.user_id == user.id,
        CommunityBan.lifted_at.is_(None),
        (CommunityBan.expires_at.is_(None)) | (CommunityBan.expires_at > moment)).values(lifted_at=moment)
        .execution_options(synchronize_session=False))
    return result.rowcount


def active_bans(community: Community) -> list[CommunityBan]:
    moment = now()
    return list(db.session.scalars(select(CommunityBan).where(
        CommunityBan.community_id == community.id, CommunityBan.lifted_at.is_(None),
        (CommunityBan.expires_at.is_(None)) | (CommunityBan.expires_at > moment))
        .options(selectinload(CommunityBan.user)).order_by(CommunityBan.created_at.desc())))


# --- roles ----------------------------------------------------------------------------------------------------

def is_owner(user: User | None, community: Community) -> bool:
    """An owner of this community (there may be several), or a site admin."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.is_admin:
        return True
    membership = membership_of(user, community)
    return membership is not None and membership.role == ROLE_OWNER


def owner_count(community: Community) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.community_id == community.id, Membership.role == ROLE_OWNER)) or 0


def set_role(community: Community, user: User, role: str) -> None:
    """Make `user` a member, moderator or owner here (joining them if needed); checks are the caller's.

    Community.owner_id keeps naming one of the owners (the first appointed still standing)."""
    if insert_if_absent(Membership, user_id=user.id, community_id=community.id, role=role, joined_at=now()):
        _add_to_member_count(community.id, +1)
    else:
        db.session.execute(update(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id).values(role=role)
            .execution_options(synchronize_session=False))
    if role == ROLE_OWNER and community.owner_id is None:
        community.owner_id = user.id
    if role != ROLE_OWNER and community.owner_id == user.id:
        other = db.session.scalar(select(Membership.user_id).where(
            Membership.community_id == community.id, Membership.role == ROLE_OWNER, Membership.user_id != user.id)
            .order_by(Membership.joined_at, Membership.user_id).limit(1))
        if other is not None:
            community.owner_id = other
            db.session.expire(community, ["owner"])


# --- join and leave ----------------------------------------------------------------------------------------

def _add_to_member_count(community_id: int, delta: int) -> None:
    db.session.execute(update(Community).where(Community.id == community_id)
                       .values(member_count=Community.member_count + delta)
                       .execution_options(synchronize_session=False))


@transactional
def join_community(user: User, community: Community) -> bool:
    """Join; True when this made the user a member (joining twice is harmless). Banned members cannot."""
    ensure_may_participate(user, community.id)
    joined = insert_if_absent(Membership, user_id=user.id, community_id=community.id, role=ROLE_MEMBER,
                              joined_at=now())
    if joined:
        _add_to_member_count(community.id, +1)
    return joined


@transactional
def leave_community(user: User, community: Community) -> bool:
    """Leave; True when a membership was removed. The owner cannot leave (an admin appoints another first)."""
    if community.owner_id == user.id or membership_role(user, community) == ROLE_OWNER:
        raise Conflict(_("The owner cannot leave the community. Ask an admin to appoint a new owner first."))
    result = db.session.execute(delete(Membership).where(
        Membership.user_id == user.id, Membership.community_id == community.id, Membership.role != ROLE_OWNER)
        .execution_options(synchronize_session=False))
    left = result.rowcount == 1
    if left:
        _add_to_member_count(community.id, -1)
    return left


# --- create and edit ------------------------------------------------------------------------------------

def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or "--" in slug:
        raise _field_error("slug", _("Use 3–40 lowercase letters, digits or single hyphens, "
                                     "starting and ending with a letter or digit."))
    if slug in RESERVED_SLUGS:
        raise _field_error("slug", _("This address is reserved. Choose another."))
    if db.session.scalar(select(Community.id).where(Community.slug == slug)):
        raise _field_error("slug", _("A community with this address already exists."))
    return slug


def _clean_fields(name: str | None, description: str | None, vertical: str | None,
                  rules_md: str | None) -> dict:
    """Validate the editable text fields that were given; return them cleaned."""
    changes: dict = {}
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > NAME_MAX:
            raise _field_error("name", _("Give the community a name of 1–%(n)s characters.", n=NAME_MAX))
        changes["name"] = name
    if description is not None:
        if len(description) > DESCRIPTION_MAX:
            raise _field_error("description", _("Use at most %(n)s characters.", n=DESCRIPTION_MAX))
        changes["description"] = description.strip()
    if vertical is not None:
        if vertical not in VERTICALS:
            raise _field_error("vertical", _("Choose one of the listed verticals."))
        changes["vertical"] = vertical
    if rules_md is not None:
        if len(rules_md) > RULES_MAX:
            raise _field_error("rules_md", _("Use at most %(n)s characters.", n=RULES_MAX))
        changes["rules_md"] = rules_md.strip()
    return changes


def _owner_by_username(username: str) -> User:
    try:
        owner = get_user_by_username((username or "").strip().lstrip("@"))
    except NotFound:
        raise _field_error("owner", _("There is no user with this username.")) from None
    if not owner.is_active:
        raise _field_error("owner", _("This account is suspended and cannot own a community."))
    return owner


def _banner_image(data: bytes) -> images.EncodedImage:
    """Prove the upload is an image and crop it to the wide banner shape (nothing stored yet)."""
    (banner,) = images.prepare_upload(data, [images.Rendition("banners", *BANNER_SIZE, mode="RGB")],
                                      field="banner", max_bytes=BANNER_MAX_BYTES)
    return banner


def create_community(actor: User, *, slug: str, name: str, vertical: str, owner_username: str,
                     description: str = "", rules_md: str = "", banner: bytes | None = None) -> Community:
    """An admin creates a community and appoints its owner, who becomes its first member."""
    if not getattr(actor, "is_admin", False):
        raise Forbidden(_("Only site admins can create communities."))
    slug = check_slug(slug)
    fields = _clean_fields(name, description, vertical, rules_md)
    owner = _owner_by_username(owner_username)
    banner_image = _banner_image(banner) if banner is not None else None
    community = Community(slug=slug, owner_id=owner.id, member_count=1, post_count=0, **fields)
    banner_path = images.store_encoded(banner_image) if banner_image else None
    community.banner_path = banner_path
    db.session.add(community)
    try:
        with unit_of_work():
            db.session.flush()
            db.session.add(Membership(user_id=owner.id, community_id=community.id, role=ROLE_OWNER,
                                      joined_at=now()))
            queue_community(community.id)
    except IntegrityError:  # a concurrent request took the slug first (the unit rolled back)
        images.delete_media(banner_path)
        raise _field_error("slug", _("A community with this address already exists.")) from None
    return community


@transactional
def update_community(actor: User, community: Community, *, name: str | None = None,
                     description: str | None = None, vertical: str | None = None, rules_md: str | None = None,
                     banner: bytes | None = None, owner_username: str | None = None) -> Community:
    """The owner or an admin edits the fields given; only an admin appoints a different owner."""
    if not can_edit(actor, community):
        raise Forbidden(_("Only the owner or a site admin can edit this community."))
    changes = _clean_fields(name, description, vertical, rules_md)
    new_owner = None
    if owner_username is not None and owner_username.strip() and \
            owner_username.strip().lstrip("@").lower() != community.owner.username.lower():
        if not actor.is_admin:
            raise Forbidden(_("Only a site admin can appoint a new owner."))
        new_owner = _owner_by_username(owner_username)
    banner_image = _banner_image(banner) if banner is not None else None
    old_banner = community.banner_path
    for key, value in changes.items():
        setattr(community, key, value)
    if banner_image is not None:
        community.banner_path = images.store_encoded(banner_image)
    if new_owner is not None:
        _transfer_ownership(community, new_owner)
    queue_community(community.id)
    if banner_image is not None:
        after_commit(lambda: images.delete_media(old_banner))
    return community


def _transfer_ownership(community: Community, new_owner: User) -> None:
    """The previous owner stays on as a moderator; the new owner joins if they were not a member."""
    db.session.execute(update(Membership).where(
        Membership.community_id == community.id, Membership.role == ROLE_OWNER).values(role=ROLE_MODERATOR)
        .execution_options(synchronize_session=False))
    if insert_if_absent(Membership, user_id=new_owner.id, community_id=community.id, role=ROLE_OWNER,
                        joined_at=now()):
        _add_to_member_count(community.id, +1)
    else:
        db.session.execute(update(Membership).where(
            Membership.community_id == community.id, Membership.user_id == new_owner.id).values(role=ROLE_OWNER)
            .execution_options(synchronize_session=False))
    community.owner_id = new_owner.id
    db.session.expire(community, ["owner"])


# --- first log-in: pick communities (cold start for the For-you feed) ----------------------------------

ONBOARDING_MIN = 3


def needs_onboarding(user: User) -> bool:
    """A reader who has never picked communities and belongs to fewer than three (of at least three)."""
    if user.onboarded_at is not None:
        return False
    if db.session.scalar(select(func.count()).select_from(Community)) < ONBOARDING_MIN:
        return False  # nothing to pick from yet
    joined = db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id))
    return joined < ONBOARDING_MIN


def onboarding_choices(user: User) -> list[tuple[Community, bool]]:
    """Every community, biggest first, with whether the user already belongs to it."""
    joined = set(db.session.scalars(select(Membership.community_id).where(Membership.user_id == user.id)))
    communities = db.session.scalars(select(Community).order_by(Community.member_count.desc(), Community.id))
    return [(community, community.id in joined) for community in communities]


@transactional
def complete_onboarding(user: User, slugs: list[str]) -> int:
    """Join the chosen communities (at least three, counting ones already joined) and remember it's done."""
    wanted = {slug.strip().lower() for slug in slugs if slug and slug.strip()}
    communities = list(db.session.scalars(select(Community).where(Community.slug.in_(wanted)))) if wanted else []
    joined = set(db.session.scalars(select(Membership.community_id).where(Membership.user_id == user.id)))
    if len({c.id for c in communities} | joined) < ONBOARDING_MIN:
        message = _("Pick at least %(min)d communities.", min=ONBOARDING_MIN)
        raise Invalid(message, {"community": [message]})
    added = sum(join_community(user, community) for community in communities)
    user.onboarded_at = now()  # one transaction with the joins above (they join this unit of work)
    return added
