"""/api/v1 routes for moderation: reporting, the queue and its actions, appeals, the public log, curated
collections and community roles. Each route parses, calls one service from this package and dumps; the
rules and their errors live in the services, exactly as for the HTML pages."""
from __future__ import annotations

from app.communities.services import get_community
from app.core.api import require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.pagination import Page
from app.moderation import actions, curation, log, policy, reports, roles
from app.moderation.schemas import (
    ActionCreateSchema,
    AppealCreateSchema,
    AppealDecisionSchema,
    AppealListSchema,
    AppealSchema,
    CuratedCollectionCreateSchema,
    CuratedCollectionListSchema,
    CuratedCollectionSchema,
    CuratedNoteSchema,
    LogArgsSchema,
    LogPageSchema,
    ModActionSchema,
    QueueActionSchema,
    QueueArgsSchema,
    QueuePageSchema,
    ReportCreateSchema,
    ReportSchema,
    RoleChangeSchema,
    RoleRemovalSchema,
    StepDownSchema,
)

blp = ApiBlueprint("moderation_api", __name__, description="Moderation: reports, the queue, actions, appeals, "
                                                           "the moderation log, curated collections and roles")


def _shown(action, viewer):
    """The action with the moderator's name only for moderators and admins of its community."""
    action.moderator_name = action.actor.username if policy.moderates(viewer, action.community_id) else None
    return action


def _community_id(slug: str | None) -> int | None:
    return get_community(slug).id if slug else None


@blp.post("/reports")
@blp.arguments(ReportCreateSchema)
@blp.response(201, ReportSchema)
def create_report(data: dict):
    """Report a note, comment, user, product or shop with a reason (once per target; not your own)."""
    return reports.report(require_user(), data["target_kind"], data["target_id"], data["reason"], data["note"])


@blp.get("/moderation/queue")
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueuePageSchema)
def queue(args: dict) -> Page:
    """Open queue items the caller moderates (admins: every community and the site-wide items)."""
    return reports.queue(require_user(), community_id=_community_id(args.get("community")),
                         reason=args.get("reason"), kind=args.get("kind"), age=args.get("age"),
                         cursor=args.get("cursor"), limit=args.get("limit"))


@blp.post("/moderation/queue/<id:item_id>/actions")
@blp.arguments(QueueActionSchema)
@blp.response(201, ModActionSchema)
def act_on_item(data: dict, item_id: int):
    """Take one action on a queue item (or `dismiss` it), sending the version you saw: 409 if another
    moderator acted first."""
    actor = require_user()
    item = reports.get_item(actor, item_id)
    if data["action"] == "dismiss":
        row = actions.dismiss_item(actor, item.id, data["reason"], data["version"])
    else:
        row = actions.take_action(actor, data["action"], target_kind=item.target_kind, target_id=item.target_id,
                                  reason=data["reason"], community_id=item.community_id,
                                  expires_at=data.get("expires_at"), queue_item_id=item.id,
                                  seen_version=data["version"])
    return _shown(row, actor)


@blp.post("/moderation/actions")
@blp.arguments(ActionCreateSchema)
@blp.response(201, ModActionSchema)
def take_action(data: dict):
    """Remove, restore, lock, pin, feature, ban, warn, mute, suspend, delist… with a reason (3–1 000 characters)."""
    actor = require_user()
    row = actions.take_action(actor, data["action"], target_kind=data["target_kind"], target_id=data["target_id"],
                              reason=data["reason"], community_id=_community_id(data.get("community")),
                              expires_at=data.get("expires_at"))
    return _shown(row, actor)


@blp.get("/moderation/actions/<id:action_id>")
@blp.response(200, ModActionSchema)
def get_action(action_id: int):
    """One entry of the moderation log."""
    return _shown(actions.action_for(current_viewer(), action_id), current_viewer())


@blp.post("/moderation/actions/<id:action_id>/appeal")
@blp.arguments(AppealCreateSchema)
@blp.response(201, AppealSchema)
def appeal(data: dict, action_id: int):
    """Appeal a removal, ban or suspension of yours: once, within 14 days."""
    return actions.appeal(require_user(), action_id, data["reason"])


@blp.get("/moderation/appeals")
@blp.response(200, AppealListSchema)
def pending_appeals():
    """Appeals waiting for a decision that the caller may decide (not of their own actions)."""
    return {"items": actions.pending_appeals(require_user())}


@blp.post("/moderation/appeals/<id:appeal_id>/decision")
@blp.arguments(AppealDecisionSchema)
@blp.response(201, ModActionSchema)
def decide_appeal(data: dict, appeal_id: int):
    """Grant (the action is undone) or deny an appeal; another moderator than the one who acted."""
    actor = require_user()
    return _shown(actions.decide_appeal(actor, appeal_id, data["grant"], data["reason"]), actor)


@blp.get("/communities/<slug>/modlog")
@blp.arguments(LogArgsSchema, location="query")
@blp.response(200, LogPageSchema)
def community_log(args: dict, slug: str) -> Page:
    """A community's public moderation log, newest first (moderators' names for moderators only)."""
    return log.modlog(get_community(slug), current_viewer(), kind=args.get("kind"), cursor=args.get("cursor"),
                      limit=args.get("limit"))


def _collection(collection) -> dict:
    return {"id": collection.id, "name": collection.name, "description": collection.description,
            "created_at": collection.created_at,
            "post_ids": [post.id for post in curation.collection_posts(collection, current_viewer())]}


@blp.get("/communities/<slug>/collections")
@blp.response(200, CuratedCollectionListSchema)
def community_collections(slug: str):
    """The community's curated collections, each with its published notes in order."""
    return {"items": [_collection(c) for c in curation.community_collections(get_community(slug))]}


@blp.post("/communities/<slug>/collections")
@blp.arguments(CuratedCollectionCreateSchema)
@blp.response(201, CuratedCollectionSchema)
def create_collection(data: dict, slug: str):
    """Start a named collection (the community's moderators)."""
    made = curation.create_collection(require_user(), get_community(slug), data["name"], data["description"])
    return _collection(made)


@blp.post("/moderation/collections/<id:collection_id>/notes")
@blp.arguments(CuratedNoteSchema)
@blp.response(201, CuratedCollectionSchema)
def add_to_collection(data: dict, collection_id: int):
    """Add a published note of the community at the end of a collection."""
    collection = curation.get_collection(collection_id)
    curation.add_note(require_user(), collection, data["post_id"])
    return _collection(collection)


@blp.delete("/moderation/collections/<id:collection_id>/notes/<id:post_id>")
@blp.response(200, CuratedCollectionSchema)
def remove_from_collection(collection_id: int, post_id: int):
    """Take a note out of a collection."""
    collection = curation.get_collection(collection_id)
    curation.remove_note(require_user(), collection, post_id)
    return _collection(collection)


@blp.post("/communities/<slug>/moderators")
@blp.arguments(RoleChangeSchema)
@blp.response(201, ModActionSchema)
def appoint(data: dict, slug: str):
    """Appoint a moderator or an owner (the community's owners and site admins)."""
    actor = require_user()
    return _shown(roles.appoint(actor, get_community(slug), data["username"], data["role"], data["reason"]), actor)


@blp.post("/communities/<slug>/moderators/<username>/removal")
@blp.arguments(RoleRemovalSchema)
@blp.response(201, ModActionSchema)
def dismiss(data: dict, slug: str, username: str):
    """Take a moderator's (or another owner's) role away; the last owner stays."""
    actor = require_user()
    return _shown(roles.dismiss(actor, get_community(slug), username, data["reason"]), actor)


@blp.post("/communities/<slug>/step-down")
@blp.arguments(StepDownSchema)
@blp.response(201, ModActionSchema)
def step_down(data: dict, slug: str):
    """Give up your moderator or owner role; the last owner names a successor."""
    actor = require_user()
    return _shown(roles.step_down(actor, get_community(slug), data["reason"], data["successor"]), actor)
