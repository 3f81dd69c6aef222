"""HTML pages for moderation: the report form, the queue, one-click actions with a reason, an action's page
(with the appeal form for the person it concerns), appeals to decide, the public log, a community's
moderation settings (roles, reasons, approvals, bans, collections) and a moderator's page on a user.

Refusals a moderator can fix (a missing reason, an item someone else handled) come back as a flash message
on the page they came from; a refusal of who they are (403) is the error page, as everywhere.
"""
from __future__ import annotations

import json
from datetime import timedelta
from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.services import get_user_by_username, user_for_suspension_token
from app.communities.services import active_bans, get_community, moderators_of
from app.core import badges
from app.core.auth import current_viewer
from app.core.clock import now
from app.core.errors import Conflict, Invalid, NotFound, RateLimited
from app.core.forms import safe_next_url
from app.core.parsing import parse_id, parse_whole_number
from app.extensions import db
from app.moderation import actions, curation, log, policy, reports, roles
from app.moderation.models import KIND_COMMENT, KIND_POST, KIND_USER, REASONS, TARGET_KINDS, ModAction, QueueItem
from app.moderation.spam import auto_flag_text
from app.moderation.targets import load_target

bp = Blueprint("moderation", __name__)

BAN_DAYS = (1, 3, 7, 30, 0)  # 0: for good


def reason_labels() -> dict[str, str]:
    return {"spam": _("Spam"), "harassment": _("Harassment"), "misinformation": _("Misinformation"),
            "off_topic": _("Off-topic"), "counterfeit": _("Counterfeit or unsafe product"),
            "undisclosed_ads": _("Undisclosed advertising"), "other": _("Other")}


def button_labels() -> dict[str, str]:
    """What a button that takes an action says (the log says what was done: actions.action_label)."""
    return {"remove_post": _("Remove"), "restore_post": _("Restore"), "approve_post": _("Approve"),
            "lock_comments": _("Lock comments"), "unlock_comments": _("Unlock comments"), "pin_post": _("Pin"),
            "unpin_post": _("Unpin"), "feature_post": _("Editor's pick"), "unfeature_post": _("Remove from picks"),
            "remove_comment": _("Remove"), "restore_comment": _("Restore"), "ban_user": _("Ban"),
            "unban_user": _("Lift ban"), "warn_user": _("Warn"), "mute_reports": _("Mute reports"),
            "unmute_reports": _("Unmute reports"), "suspend_user": _("Suspend account"),
            "unsuspend_user": _("Lift suspension"), "delist_product": _("Delist product"),
            "relist_product": _("Relist product"), "delist_shop": _("Delist shop"), "relist_shop": _("Relist shop")}


def kind_labels() -> dict[str, str]:
    return {"post": _("Note"), "comment": _("Comment"), "user": _("User"), "product": _("Product"),
            "shop": _("Shop")}


badges.register("moderates_any", lambda: policy.moderates_any_of(badges.READER))


def _viewer_moderates_any() -> bool:
    """For the nav's queue link, with the membership check read among the layout's badges."""
    if not current_user.is_authenticated:
        return False
    return policy.is_any_moderator(current_user, badges.badge("moderates_any", current_user.id))


@bp.app_context_processor
def moderation_helpers():
    """What other domains' templates use: the report link, the moderator tools, the queue badge."""
    return {
        "moderates": lambda community_id: policy.moderates(current_user, community_id),
        "is_any_moderator": _viewer_moderates_any,
        "mod_queue_count": lambda: reports.open_count(current_user) if current_user.is_authenticated else 0,
        "removal_action_for": lambda kind, target_id: actions.latest_action_on(
            kind, target_id, "remove_post" if kind == KIND_POST else "remove_comment"),
        "preset_reasons_for": lambda community: policy.preset_reasons(community),
        "ban_days": BAN_DAYS,
        "mod_reason_labels": reason_labels,
        "mod_kind_labels": kind_labels,
        "mod_action_label": actions.action_label,
        "mod_button": lambda action: button_labels().get(action, actions.action_label(action)),
        "auto_flag_text": auto_flag_text,
        "editors_picks_of": lambda community: curation.editors_picks(community, current_viewer()),
        "pinned_posts_of": lambda community: curation.pinned_posts(community, current_viewer()),
        "collections_of_community": curation.community_collections,
    }


def _back(fallback: str) -> str:
    return safe_next_url(request.form.get("next") or request.args.get("next"), fallback)


def flash_refusals(fn):
    """Invalid, Conflict and rate limits on a moderation form: say why on the page the form came from."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (Invalid, Conflict, RateLimited) as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(_back(url_for("moderation.queue_page"))), 303
    return wrapper


def _reason() -> str:
    """A written reason wins over the chosen preset."""
    return (request.form.get("reason_text") or "").strip() or (request.form.get("reason") or "")


def _expiry():
    days = parse_whole_number(request.form.get("days") or "0", max_digits=4) or 0
    if days and days not in BAN_DAYS:
        raise Invalid(_("Choose one of the listed durations."), {"days": [_("Choose one of the listed durations.")]})
    return now() + timedelta(days=days) if days else None


# --- reporting ------------------------------------------------------------------------------------------------

@bp.route("/report/<kind>/<id:target_id>", methods=["GET", "POST"])
@login_required
def report(kind: str, target_id: int):
    if kind not in TARGET_KINDS:
        raise NotFound(_("Nothing to report here."))
    target = load_target(kind, target_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            reports.report(current_user, kind, target_id, request.form.get("reason", ""), request.form.get("note"))
        except (Invalid, Conflict, RateLimited) as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            flash(_("Thank you. The moderators will look at your report, and you will hear when they act on it."),
                  "success")
            return redirect(_back(url_for("feeds.following"))), 303
    return render_template("moderation/report.html", target=target, kind=kind, reasons=REASONS, error=error,
                           next_url=_back("")), status


# --- the queue -------------------------------------------------------------------------------------------------

@bp.get("/mod/queue")
@login_required
def queue_page():
    slug = request.args.get("community") or None
    community = get_community(slug) if slug else None
    reason = request.args.get("reason") or None
    kind = request.args.get("kind") or None
    age = request.args.get("age") or None
    page = reports.queue(current_user, community_id=community.id if community else None,
                         reason=reason if reason in REASONS else None, kind=kind if kind in TARGET_KINDS else None,
                         age=age if age in reports.AGES else None, cursor=request.args.get("cursor"))
    communities = {c.id: c for c in policy.moderated_communities(current_user)}
    next_url = url_for("moderation.queue_page", community=slug, reason=reason, kind=kind, age=age,
                       cursor=page.next_cursor) if page.next_cursor else None
    return render_template("moderation/queue.html", items=page.items, next_url=next_url, community=community,
                           communities=list(communities.values()), reason=reason, kind=kind, age=age,
                           reasons=REASONS, kinds=TARGET_KINDS, queue_actions=actions.QUEUE_ACTIONS,
                           snapshots={item.id: _snapshots(item) for item in page.items},
                           appeals=actions.pending_appeals(current_user))


def _snapshots(item: QueueItem) -> dict:
    if not item.reports:
        return {}
    try:
        return json.loads(item.reports[0].snapshot or "{}")
    except ValueError:
        return {}


@bp.post("/mod/queue/<id:item_id>/act")
@login_required
@flash_refusals
def act_on_item(item_id: int):
    item = reports.get_item(current_user, item_id)
    action = request.form.get("action", "")
    version = parse_whole_number(request.form.get("version") or "", max_digits=9)
    if action == "dismiss":
        actions.dismiss_item(current_user, item.id, _reason(), version)
        flash(_("Dismissed."), "success")
    else:
        actions.take_action(current_user, action, target_kind=item.target_kind, target_id=item.target_id,
                            reason=_reason(), community_id=item.community_id,
                            expires_at=_expiry() if action in ("ban_user", "suspend_user") else None,
                            queue_item_id=item.id, seen_version=version)
        flash(_("Done: %(action)s.", action=actions.action_label(action)), "success")
    return redirect(_back(url_for("moderation.queue_page"))), 303


@bp.post("/mod/act")
@login_required
@flash_refusals
def act():
    """One action outside the queue (from a note, a comment, a profile, a product or a shop page)."""
    action = request.form.get("action", "")
    kind = request.form.get("target_kind", "")
    target_id = parse_id(request.form.get("target_id"))
    if target_id is None:
        raise NotFound(_("Nothing to act on."))
    slug = request.form.get("community") or None
    community_id = get_community(slug).id if slug else None
    spec = actions.ACTIONS.get(action)
    row = actions.take_action(current_user, action, target_kind=kind, target_id=target_id, reason=_reason(),
                              community_id=community_id,
                              expires_at=_expiry() if spec is not None and spec.takes_expiry else None)
    flash(_("Done: %(action)s.", action=actions.action_label(row.kind)), "success")
    return redirect(_back(url_for("moderation.action", action_id=row.id))), 303


# --- an action, appeals ----------------------------------------------------------------------------------------

@bp.get("/mod/actions/<id:action_id>")
def action(action_id: int):
    viewer = current_viewer()
    row = actions.action_for(viewer, action_id)
    concerned = viewer is not None and viewer.id == row.target_user_id
    return render_template("moderation/action.html", row=row, appeal=actions.appeal_of(row),
                           can_appeal=actions.can_appeal(viewer, row), concerned=concerned,
                           names_visible=policy.moderates(viewer, row.community_id),
                           deadline=actions.appeal_deadline(row), target=_target_or_none(row),
                           reversal=actions.REVERSAL.get(row.kind) if policy.moderates(viewer, row.community_id)
                           and not actions.is_reversed(row) else None)


def _target_or_none(row: ModAction):
    try:
        return load_target(row.target_kind, row.target_id)
    except (NotFound, Invalid):
        return None


@bp.post("/mod/actions/<id:action_id>/appeal")
@login_required
def appeal(action_id: int):
    try:
        actions.appeal(current_user, action_id, request.form.get("reason"))
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Your appeal is sent. Another moderator will decide it."), "success")
    return redirect(url_for("moderation.action", action_id=action_id)), 303


@bp.post("/mod/appeals/<id:appeal_id>/decide")
@login_required
@flash_refusals
def decide(appeal_id: int):
    grant = request.form.get("decision") == "grant"
    actions.decide_appeal(current_user, appeal_id, grant, _reason())
    flash(_("Appeal granted: the action is undone.") if grant else _("Appeal denied."), "success")
    return redirect(_back(url_for("moderation.queue_page"))), 303


@bp.route("/mod/suspension/<token>", methods=["GET", "POST"])
def suspension(token: str):
    """A suspended account (it cannot log in) reads the reason and appeals, with the token its log-in gave."""
    subject = user_for_suspension_token(token)
    if subject is None:
        flash(_("This link has expired. Log in again to see your suspension."), "info")
        return redirect(url_for("accounts.login"))
    row = actions.latest_action_on(KIND_USER, subject.id, "suspend_user")
    if row is None:
        raise NotFound(_("No such moderation action."))
    if request.method == "POST":
        try:
            actions.appeal(subject, row.id, request.form.get("reason"))
        except (Invalid, Conflict) as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("Your appeal is sent. A site admin other than the one who acted will decide it."), "success")
        return redirect(url_for("moderation.suspension", token=token)), 303
    return render_template("moderation/action.html", row=row, appeal=actions.appeal_of(row),
                           can_appeal=actions.can_appeal(subject, row), concerned=True, names_visible=False,
                           deadline=actions.appeal_deadline(row), target=None, reversal=None,
                           appeal_url=url_for("moderation.suspension", token=token))


# --- the log ---------------------------------------------------------------------------------------------------

@bp.get("/c/<slug>/modlog")
def modlog(slug: str):
    community = get_community(slug)
    kind = request.args.get("kind") or None
    kind = kind if kind in actions.ACTIONS else None
    page = log.modlog(community, current_viewer(), kind=kind, cursor=request.args.get("cursor"))
    next_url = url_for("moderation.modlog", slug=slug, kind=kind, cursor=page.next_cursor) \
        if page.next_cursor else None
    return render_template("moderation/modlog.html", community=community, entries=page.items, kind=kind,
                           kinds=[k for k in actions.ACTIONS], next_url=next_url)


@bp.get("/mod/log")
@login_required
def sitelog():
    kind = request.args.get("kind") or None
    kind = kind if kind in actions.ACTIONS else None
    page = log.modlog(None, current_user, kind=kind, cursor=request.args.get("cursor"))
    next_url = url_for("moderation.sitelog", kind=kind, cursor=page.next_cursor) if page.next_cursor else None
    return render_template("moderation/modlog.html", community=None, entries=page.items, kind=kind,
                           kinds=list(actions.ACTIONS), next_url=next_url)


# --- a community's moderation settings ---------------------------------------------------------------------

@bp.get("/c/<slug>/mod")
@login_required
def manage(slug: str):
    community = get_community(slug)
    policy.ensure_moderates(current_user, community.id)
    return render_template("moderation/manage.html", community=community, mods=moderators_of(community),
                           bans=active_bans(community), owns=policy.owns(current_user, community.id),
                           collections=curation.community_collections(community))


@bp.post("/c/<slug>/mod/roles")
@login_required
@flash_refusals
def change_role(slug: str):
    community = get_community(slug)
    what = request.form.get("what")
    if what == "appoint":
        roles.appoint(current_user, community, request.form.get("username"), request.form.get("role", ""),
                      _reason())
    elif what == "dismiss":
        roles.dismiss(current_user, community, request.form.get("username"), _reason())
    else:
        roles.step_down(current_user, community, _reason(), request.form.get("successor"))
    flash(_("Saved."), "success")
    back = url_for("moderation.manage", slug=slug) if policy.moderates(current_user, community.id) \
        else url_for("feeds.community", slug=slug)
    return redirect(back), 303


@bp.post("/c/<slug>/mod/settings")
@login_required
@flash_refusals
def settings(slug: str):
    community = get_community(slug)
    days = parse_whole_number(request.form.get("approval_account_days") or "0", max_digits=3)
    if days is None:
        raise Invalid(_("Choose 0 to 365 days."), {"approval_account_days": [_("Choose 0 to 365 days.")]})
    roles.update_settings(current_user, community, removal_reasons=request.form.get("removal_reasons", ""),
                          approval_account_days=days)
    flash(_("Saved."), "success")
    return redirect(url_for("moderation.manage", slug=slug)), 303


# --- collections -------------------------------------------------------------------------------------------

@bp.post("/c/<slug>/collections")
@login_required
@flash_refusals
def create_collection(slug: str):
    community = get_community(slug)
    made = curation.create_collection(current_user, community, request.form.get("name"),
                                      request.form.get("description"))
    flash(_("Collection created. Add notes to it from their pages or below."), "success")
    return redirect(url_for("moderation.collection", slug=slug, collection_id=made.id)), 303


@bp.get("/c/<slug>/collections/<id:collection_id>")
def collection(slug: str, collection_id: int):
    community = get_community(slug)
    found = curation.get_collection(collection_id)
    if found.community_id != community.id:
        raise NotFound(_("No such collection."))
    from app.posts.cards import viewer_state

    posts = curation.collection_posts(found, current_viewer())
    viewer = current_viewer()
    return render_template("moderation/collection.html", community=community, collection=found, posts=posts,
                           state=viewer_state(posts, viewer.id if viewer else None),
                           can_edit=policy.moderates(viewer, community.id))


@bp.post("/c/<slug>/collections/<id:collection_id>/notes")
@login_required
@flash_refusals
def collection_notes(slug: str, collection_id: int):
    found = curation.get_collection(collection_id)
    post_id = parse_id(request.form.get("post_id")) or parse_id(
        (request.form.get("post_url") or "").rstrip("/").rsplit("/", 1)[-1])
    what = request.form.get("what", "add")
    if post_id is None:
        raise Invalid(_("Give the note's number or address."), {"post_id": [_("Give the note's number or address.")]})
    if what == "remove":
        curation.remove_note(current_user, found, post_id)
    elif what in ("up", "down"):
        curation.move_note(current_user, found, post_id, what)
    elif what == "delete":
        curation.delete_collection(current_user, found)
        flash(_("Collection deleted."), "success")
        return redirect(url_for("moderation.manage", slug=slug)), 303
    else:
        curation.add_note(current_user, found, post_id)
        flash(_("Added to %(name)s.", name=found.name), "success")
    return redirect(_back(url_for("moderation.collection", slug=slug, collection_id=collection_id))), 303


# --- a moderator's page on a user --------------------------------------------------------------------------

@bp.route("/mod/users/<username>", methods=["GET", "POST"])
@login_required
def user_page(username: str):
    subject = get_user_by_username(username)
    slug = request.values.get("community") or None
    community = get_community(slug) if slug else None
    if community is None and not current_user.is_admin:  # a moderator works in their own community
        mine = policy.moderated_communities(current_user)
        community, slug = (mine[0], mine[0].slug) if mine else (None, None)
    policy.ensure_moderates(current_user, community.id if community else None)
    if request.method == "POST":
        try:
            log.add_mod_note(current_user, community, subject, request.form.get("body"))
        except Invalid as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("Note saved."), "success")
        return redirect(url_for("moderation.user_page", username=username, community=slug)), 303
    return render_template("moderation/user.html", subject=subject, community=community,
                           notes=log.mod_notes(current_user, community, subject),
                           history=log.actions_against(subject, community, current_user),
                           communities=policy.moderated_communities(current_user))


# The kinds a template may ask about (keeps the import used and documents the contract with posts' pages).
TOOL_KINDS = (KIND_POST, KIND_COMMENT, KIND_USER)
