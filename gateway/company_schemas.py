"""Schemas of a company's audit trail, its credential and its notifications, at the API's edge."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from domain.audit import Action, ActorKind
from domain.notifications import LANGUAGES
from gateway.schemas import RequestSchema, StrictBoolean

AUDIT_PAGE = 500


class AuditQuerySchema(RequestSchema):
    before = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Only entries older than this position (a page's next_before)."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=AUDIT_PAGE))


class AuditEntrySchema(Schema):
    position = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in Action]))
    actor = fields.String(required=True, metadata={"description": "kind:id, e.g. token:<uuid>."})
    actor_kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ActorKind]))
    actor_id = fields.String(
        required=True, metadata={"description": "A token's id, a user's email, a CLI account."}
    )
    subject_id = fields.UUID(
        required=True, allow_none=True, metadata={"description": "The setting, when it was one."}
    )
    details = fields.Dict(required=True)


class AuditPageSchema(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_before = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null on the oldest page."}
    )


class CredentialSchema(RequestSchema):
    jurnal_client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    jurnal_client_secret = fields.String(required=True, load_only=True)


class CredentialReplacedSchema(Schema):
    company_id = fields.UUID(required=True)
    jurnal_client_id = fields.String(required=True)
    package = fields.String(required=True)
    resumed_setting_ids = fields.List(
        fields.UUID(),
        required=True,
        metadata={"description": "Settings whose posting was woken to resume."},
    )


class RecipientSchema(RequestSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    lang = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))
    digest = StrictBoolean(
        load_default=False,
        metadata={"description": "One email a day instead of one per event."},
    )


class WebhookUrl(fields.String):
    """An http or https URL."""

    openapi = {"type": "string", "format": "uri"}
    _check = validate.URL(schemes={"http", "https"}, require_tld=False)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return str(self._check(text))


class NotificationsBodySchema(RequestSchema):
    notify_url = WebhookUrl(
        load_default=None,
        allow_none=True,
        metadata={"description": "Receives a Slack-compatible JSON POST per event; null: none."},
    )
    recipients = fields.List(
        fields.Nested(RecipientSchema), load_default=list, validate=validate.Length(max=200)
    )
    rotate_secret = StrictBoolean(
        load_default=False, metadata={"description": "Issue a new webhook signing secret."}
    )


class RecipientViewSchema(Schema):
    email = fields.String(required=True)
    lang = fields.String(required=True)
    digest = fields.Boolean(required=True)


class NotificationsSchema(Schema):
    company_id = fields.UUID(required=True)
    notify_url = fields.String(required=True, allow_none=True)
    webhook_secret = fields.String(
        required=True,
        metadata={"description": "Signs each webhook call: X-Sambung-Signature: sha256=<hex>."},
    )
    recipients = fields.List(fields.Nested(RecipientViewSchema), required=True)
