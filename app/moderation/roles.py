"""Who moderates a community: owners appoint and remove moderators (and other owners); site admins do
everything owners do. The last owner cannot step down without naming another. Every change is logged."""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.services import get_user_by_username
from app.communities import services as communities
from app.communities.models import ROLE_MEMBER, ROLE_MODERATOR, ROLE_OWNER, Community
from app.core.errors import Conflict, Invalid, NotFound
from app.core.uow import transactional
from app.moderation import policy
from app.moderation.actions import log_action
from app.moderation.models import KIND_USER, ModAction


def _user(username: str | None) -> User:
    try:
        user = get_user_by_username((username or "").strip().lstrip("@"))
    except NotFound:
        message = _("There is no user with this username.")
        raise Invalid(message, {"username": [message]}) from None
    if not user.is_active:
        message = _("This account is suspended or deleted.")
        raise Invalid(message, {"username": [message]})
    return user


@transactional
def appoint(actor: User, community: Community, username: str | None, role: str, reason: str | None) -> ModAction:
    """An owner (or admin) makes someone a moderator or an owner of this community."""
    policy.ensure_owns(actor, community.id)
    if role not in (ROLE_MODERATOR, ROLE_OWNER):
        message = _("Choose moderator or owner.")
        raise Invalid(message, {"role": [message]})
    text = policy.clean_reason(reason)
    user = _user(username)
    if communities.active_ban(user.id, community.id) is not None:
        message = _("This member is banned from the community.")
        raise Invalid(message, {"username": [message]}, code="banned-from-community")
    current = policy.role_in(user, community.id)
    if current == role:
        raise Conflict(_("This person already has that role."), code="already-has-role")
    if current == ROLE_OWNER and communities.owner_count(community) <= 1:
        raise Conflict(_("The last owner cannot step down. Appoint another owner first."), code="last-owner")
    communities.set_role(community, user, role)
    return log_action(actor, "appoint_owner" if role == ROLE_OWNER else "appoint_moderator", target_kind=KIND_USER,
                      target_id=user.id, community_id=community.id, reason=text, target_user_id=user.id)


@transactional
def dismiss(actor: User, community: Community, username: str | None, reason: str | None) -> ModAction:
    """An owner (or admin) takes someone's moderator or owner role away (they stay a member)."""
    policy.ensure_owns(actor, community.id)
    text = policy.clean_reason(reason)
    user = _user(username)
    current = policy.role_in(user, community.id)
    if current not in (ROLE_MODERATOR, ROLE_OWNER):
        message = _("This person is not a moderator here.")
        raise Invalid(message, {"username": [message]}, code="not-a-moderator")
    if current == ROLE_OWNER and communities.owner_count(community) <= 1:
        raise Conflict(_("The last owner cannot step down. Appoint another owner first."), code="last-owner")
    communities.set_role(community, user, ROLE_MEMBER)
    return log_action(actor, "remove_moderator", target_kind=KIND_USER, target_id=user.id,
                      community_id=community.id, reason=text, target_user_id=user.id)


@transactional
def step_down(actor: User, community: Community, reason: str | None, successor: str | None = None) -> ModAction:
    """A moderator or owner gives up the role; the last owner must name a successor, who becomes an owner."""
    policy.ensure_signed_in(actor)
    current = policy.role_in(actor, community.id)
    if current not in (ROLE_MODERATOR, ROLE_OWNER):
        raise Invalid(_("You are not a moderator of this community."), code="not-a-moderator")
    text = policy.clean_reason(reason)
    if current == ROLE_OWNER and communities.owner_count(community) <= 1:
        if not (successor or "").strip():
            raise Conflict(_("The last owner cannot step down. Appoint another owner first."), code="last-owner")
        heir = _user(successor)
        if heir.id == actor.id:
            message = _("Name someone else.")
            raise Invalid(message, {"successor": [message]})
        communities.set_role(community, heir, ROLE_OWNER)
        log_action(actor, "appoint_owner", target_kind=KIND_USER, target_id=heir.id, community_id=community.id,
                   reason=text, target_user_id=heir.id)
    communities.set_role(community, actor, ROLE_MEMBER)
    return log_action(actor, "step_down", target_kind=KIND_USER, target_id=actor.id, community_id=community.id,
                      reason=text, target_user_id=actor.id)


@transactional
def update_settings(actor: User, community: Community, *, removal_reasons: str | None = None,
                    approval_account_days: int | None = None) -> Community:
    """Owners set the preset removal reasons and the approval threshold for new accounts."""
    policy.ensure_owns(actor, community.id)
    if removal_reasons is not None:
        if len(removal_reasons) > 5000:
            message = _("Use at most %(n)s characters.", n=5000)
            raise Invalid(message, {"removal_reasons": [message]})
        community.removal_reasons = removal_reasons.strip()
    if approval_account_days is not None:
        if not 0 <= approval_account_days <= 365:
            message = _("Choose 0 to 365 days.")
            raise Invalid(message, {"approval_account_days": [message]})
        community.approval_account_days = approval_account_days
    return community
