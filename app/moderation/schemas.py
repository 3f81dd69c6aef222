"""How the API shows reports, queue items, log entries, appeals and collections (no routes here)."""
from __future__ import annotations

import json

from marshmallow import Schema, fields, validate

from app.core.parsing import IdField, WholeNumber
from app.core.timestamps import Timestamp
from app.core.urls import external_url_for
from app.moderation.actions import ACTIONS, TAKEABLE, action_label
from app.moderation.models import REASONS, TARGET_KINDS
from app.moderation.spam import auto_flag_text


def _snapshot(report) -> dict:
    try:
        data = json.loads(report.snapshot or "{}")
    except ValueError:
        data = {}
    return {key: value for key, value in data.items() if isinstance(value, str | int | list) or value is None}


class ReportCreateSchema(Schema):
    target_kind = fields.String(required=True, validate=validate.OneOf(TARGET_KINDS))
    target_id = IdField(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ReportSchema(Schema):
    id = fields.Integer(dump_only=True)
    target_kind = fields.String(dump_only=True)
    target_id = fields.Integer(dump_only=True)
    reason = fields.String(dump_only=True)
    note = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    queue_item_id = fields.Integer(dump_only=True, attribute="item_id")


class QueueReportSchema(Schema):
    reason = fields.String(dump_only=True)
    note = fields.String(dump_only=True)
    reporter = fields.Function(lambda r: r.reporter.username, dump_only=True)
    created_at = Timestamp(dump_only=True)
    snapshot = fields.Function(_snapshot, dump_only=True, metadata={"type": "object"})


class QueueItemSchema(Schema):
    id = fields.Integer(dump_only=True)
    target_kind = fields.String(dump_only=True)
    target_id = fields.Integer(dump_only=True)
    community = fields.Function(lambda i: i.community.slug if i.community else None, dump_only=True,
                                allow_none=True)
    target_user = fields.Function(lambda i: i.target_user.username if i.target_user else None, dump_only=True,
                                  allow_none=True)
    status = fields.String(dump_only=True)
    report_count = fields.Integer(dump_only=True)
    reasons = fields.Function(lambda i: i.reason_list, dump_only=True,
                              metadata={"type": "array", "items": {"type": "string"}})
    auto_flag = fields.Function(lambda i: auto_flag_text(i.auto_flag) or None, dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True, metadata={"description": "Send it back with an action: if someone "
                                                                      "acted first, the action is refused (409)."})
    created_at = Timestamp(dump_only=True)
    reports = fields.List(fields.Nested(QueueReportSchema), dump_only=True)


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema))
    next_cursor = fields.String(allow_none=True)


class QueueArgsSchema(Schema):
    cursor = fields.String()
    limit = WholeNumber(validate=validate.Range(min=1, max=100))
    community = fields.String(validate=validate.Length(max=40))
    reason = fields.String(validate=validate.OneOf(REASONS))
    kind = fields.String(validate=validate.OneOf(TARGET_KINDS))
    age = fields.String(validate=validate.OneOf(("day", "week", "older")))


class ActionCreateSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(TAKEABLE))
    target_kind = fields.String(required=True, validate=validate.OneOf(TARGET_KINDS))
    target_id = IdField(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=10_000))
    community = fields.String(validate=validate.Length(max=40),
                              metadata={"description": "For bans, warnings and report mutes: the community."})
    expires_at = Timestamp(allow_none=True, metadata={"description": "Bans and suspensions: when it ends "
                                                                      "(null or absent: for good)."})


class QueueActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf((*TAKEABLE, "dismiss")))
    reason = fields.String(required=True, validate=validate.Length(max=10_000))
    version = WholeNumber(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    expires_at = Timestamp(allow_none=True)


class ModActionSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    label = fields.Function(lambda a: action_label(a.kind), dump_only=True)
    community = fields.Function(lambda a: a.community.slug if a.community else None, dump_only=True,
                                allow_none=True)
    moderator = fields.Function(lambda a: getattr(a, "moderator_name", None), dump_only=True, allow_none=True,
                                metadata={"description": "Shown to moderators and admins only."})
    target_kind = fields.String(dump_only=True)
    target_id = fields.Integer(dump_only=True)
    target_user = fields.Function(lambda a: a.target_user.username if a.target_user else None, dump_only=True,
                                  allow_none=True)
    reason = fields.String(dump_only=True)
    expires_at = Timestamp(dump_only=True, allow_none=True)
    queue_item_id = fields.Integer(dump_only=True, allow_none=True)
    reverses_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    url = fields.Function(lambda a: external_url_for("moderation.action", action_id=a.id), dump_only=True)


class LogEntrySchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    label = fields.String(dump_only=True)
    moderator = fields.String(dump_only=True)
    target_kind = fields.String(dump_only=True)
    target_id = fields.Integer(dump_only=True)
    target_user = fields.Function(lambda e: e.target_user.username if e.target_user else None, dump_only=True,
                                  allow_none=True)
    reason = fields.String(dump_only=True)
    expires_at = Timestamp(dump_only=True, allow_none=True)
    reverses_id = fields.Integer(dump_only=True, allow_none=True)
    queue_item_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class LogPageSchema(Schema):
    items = fields.List(fields.Nested(LogEntrySchema))
    next_cursor = fields.String(allow_none=True)


class LogArgsSchema(Schema):
    cursor = fields.String()
    limit = WholeNumber(validate=validate.Range(min=1, max=100))
    kind = fields.String(validate=validate.OneOf(tuple(ACTIONS)))


class AppealCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=10_000))


class AppealDecisionSchema(Schema):
    grant = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=10_000))


class AppealSchema(Schema):
    id = fields.Integer(dump_only=True)
    action_id = fields.Integer(dump_only=True)
    action_kind = fields.Function(lambda a: a.action.kind, dump_only=True)
    appellant = fields.Function(lambda a: a.appellant.username, dump_only=True)
    reason = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    decided_at = Timestamp(dump_only=True, allow_none=True)
    decision_reason = fields.String(dump_only=True, allow_none=True)


class AppealListSchema(Schema):
    items = fields.List(fields.Nested(AppealSchema))


class CuratedCollectionCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class CuratedNoteSchema(Schema):
    post_id = IdField(required=True)


class CuratedCollectionSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    post_ids = fields.List(fields.Integer(), dump_only=True)
    created_at = Timestamp(dump_only=True)


class CuratedCollectionListSchema(Schema):
    items = fields.List(fields.Nested(CuratedCollectionSchema))


class RoleChangeSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(max=31))
    role = fields.String(load_default="moderator", validate=validate.OneOf(("moderator", "owner")))
    reason = fields.String(required=True, validate=validate.Length(max=10_000))


class RoleRemovalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=10_000))


class StepDownSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=10_000))
    successor = fields.String(load_default="", validate=validate.Length(max=31))
