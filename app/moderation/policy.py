"""Who may moderate where, and what a reason must be. Every moderation service asks here first.

Moderators and owners act only in their own communities; site admins act everywhere; suspending accounts
and delisting products and shops are the admins' alone. A visitor is asked to log in (401) before any of this.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import exists, select

from app.accounts.models import User
from app.communities.models import ROLE_MODERATOR, ROLE_OWNER, Community, Membership
from app.core.errors import Forbidden, Invalid, Unauthorized
from app.extensions import db

REASON_MIN, REASON_MAX = 3, 1000
NOTE_MAX = 1000


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def role_in(user: User | None, community_id: int | None) -> str | None:
    if not _signed_in(user) or community_id is None:
        return None
    return db.session.scalar(select(Membership.role).where(Membership.user_id == user.id,
                                                           Membership.community_id == community_id))


def moderates(user: User | None, community_id: int | None) -> bool:
    """A site admin, or a moderator or owner of this community (None: the site-wide queue, admins only)."""
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    return role_in(user, community_id) in (ROLE_MODERATOR, ROLE_OWNER)


def owns(user: User | None, community_id: int) -> bool:
    if not _signed_in(user):
        return False
    return bool(user.is_admin) or role_in(user, community_id) == ROLE_OWNER


def moderated_community_ids(user: User | None) -> list[int] | None:
    """The communities this user moderates; None means every community (a site admin)."""
    if not _signed_in(user):
        return []
    if user.is_admin:
        return None
    return list(db.session.scalars(select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.role.in_((ROLE_MODERATOR, ROLE_OWNER)))))


def moderated_communities(user: User | None) -> list[Community]:
    ids = moderated_community_ids(user)
    query = select(Community).order_by(Community.name)
    if ids is not None:
        if not ids:
            return []
        query = query.where(Community.id.in_(ids))
    return list(db.session.scalars(query))


def moderates_any_of(user):
    """Whether a user moderates or owns any community, as an EXISTS column; `user` is a user id or a bound
    parameter (app.core.badges). Site admins are checked separately (`is_admin`)."""
    return exists().where(Membership.user_id == user, Membership.role.in_((ROLE_MODERATOR, ROLE_OWNER)))


def is_any_moderator(user: User | None, moderates_some: bool | None = None) -> bool:
    """A site admin, or a moderator or owner of some community. `moderates_some` is the membership check when
    the caller has already read it (the layout's badges, app.core.badges); otherwise it is read here."""
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    if moderates_some is None:
        moderates_some = db.session.scalar(select(moderates_any_of(user.id)))
    return bool(moderates_some)


def ensure_signed_in(user: User | None) -> User:
    if not _signed_in(user):
        raise Unauthorized(_("Log in first."))
    return user


def ensure_moderates(user: User | None, community_id: int | None) -> None:
    ensure_signed_in(user)
    if not moderates(user, community_id):
        if community_id is None:
            raise Forbidden(_("Only site admins can do this."), code="admins-only")
        raise Forbidden(_("Only this community's moderators can do this."), code="not-a-moderator")


def ensure_owns(user: User | None, community_id: int) -> None:
    ensure_signed_in(user)
    if not owns(user, community_id):
        raise Forbidden(_("Only this community's owners can do this."), code="not-an-owner")


def ensure_admin(user: User | None) -> None:
    ensure_signed_in(user)
    if not user.is_admin:
        raise Forbidden(_("Only site admins can do this."), code="admins-only")


def clean_reason(reason: str | None, field: str = "reason") -> str:
    """Every action needs a reason of 3–1 000 characters (a preset or written)."""
    text = " ".join((reason or "").split()) if "\n" not in (reason or "") else (reason or "").strip()
    if len(text) < REASON_MIN:
        message = _("Give a reason of at least %(n)d characters.", n=REASON_MIN)
        raise Invalid(message, {field: [message]}, code="reason-required")
    if len(text) > REASON_MAX:
        message = _("Keep the reason to %(n)d characters.", n=REASON_MAX)
        raise Invalid(message, {field: [message]}, code="reason-too-long")
    return text


def preset_reasons(community: Community | None) -> list[str]:
    """The community's preset removal reasons (one per line in its settings), else the site's defaults."""
    lines = [line.strip() for line in (community.removal_reasons if community else "").splitlines()]
    presets = [line for line in lines if len(line) >= REASON_MIN][:20]
    if presets:
        return presets
    return [_("Spam or self-promotion"), _("Harassment or personal attacks"), _("Misinformation"),
            _("Off-topic for this community"), _("Counterfeit or unsafe product"),
            _("Undisclosed advertising")]
