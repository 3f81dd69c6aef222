"""Connect moderation to the layers below at app start: screening hooks on notes and comments, and the
notification kinds it sends (each links to the action's page, where the reason is shown)."""
from __future__ import annotations

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.posts import hooks as post_hooks
from app.social.notifications import register_kind, register_target_type


def _load_actions(ids: list[int]) -> dict:
    from app.moderation.models import ModAction

    return {row.id: row for row in db.session.scalars(select(ModAction).where(ModAction.id.in_(ids)))}


def _action_label(action) -> str:
    return action.reason if len(action.reason) <= 140 else action.reason[:139] + "…"


def init_app(app: Flask) -> None:
    from app.moderation.spam import screen_comment, screen_post

    post_hooks.on_post_written(screen_post)
    post_hooks.on_comment_written(screen_comment)
    register_target_type("mod_action", _load_actions, lambda action: url_for("moderation.action", action_id=action.id),
                         _action_label)
    register_kind("mod_removed_post", _l("A moderator removed your note. Reason: %(target)s"), "shield")
    register_kind("mod_removed_comment", _l("A moderator removed your comment. Reason: %(target)s"), "shield")
    register_kind("mod_restored", _l("A moderator restored what was removed: %(target)s"), "shield")
    register_kind("mod_approved", _l("Your note was approved and is now published"), "shield")
    register_kind("mod_banned", _l("You were banned from a community. Reason: %(target)s"), "shield")
    register_kind("mod_unbanned", _l("Your ban was lifted: %(target)s"), "shield")
    register_kind("mod_warned", _l("A moderator warned you: %(target)s"), "shield")
    register_kind("mod_featured", _l("Your note was added to Editor's picks"), "star")
    register_kind("mod_delisted", _l("An admin delisted your listing. Reason: %(target)s"), "shield")
    register_kind("mod_report_acted", _l("Moderators acted on your report"), "shield")
    register_kind("mod_appeal_granted", _l("Your appeal was granted: %(target)s"), "shield")
    register_kind("mod_appeal_denied", _l("Your appeal was denied: %(target)s"), "shield")
