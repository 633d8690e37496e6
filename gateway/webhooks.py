"""`POST /webhooks/moka`: Moka's deliveries in the adopted format. The work is in
`gateway.intake`; this view only hands it the request."""

from __future__ import annotations

from flask import g, request

from domain.moka_webhooks import SIGNATURE_HEADER
from gateway.auth import container
from gateway.intake import ROUTE, Intake, receive_webhook
from gateway.routing import ApiBlueprint
from gateway.schemas import WebhookAcceptedSchema, WebhookSchema

webhooks = ApiBlueprint("webhooks", __name__, tag="webhooks")


@webhooks.operation(
    "POST",
    ROUTE,
    summary="Receive a Moka webhook",
    access="signature",
    body=WebhookSchema,
    load_body=False,
    responses={202: WebhookAcceptedSchema},
    errors=(400, 401, 413, 422),
    description="Signed with X-Go-Signature (hex HMAC-SHA256 of the raw body). 202 once the "
    "record is in the log of every setting of header.outlet_id (a duplicate is stored once).",
)
def moka_webhook() -> tuple[int, Intake]:
    intake = receive_webhook(
        container(),
        lambda size: request.stream.read(size),  # opened only after the size check
        request.content_length,
        request.headers.get(SIGNATURE_HEADER),
    )
    g.request_counted = True  # with the rest of its batch (`gateway.intake._settle`)
    g.log_fields = intake.details
    return 202, intake
