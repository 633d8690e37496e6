"""Error answers of the API and the webhook endpoint: always JSON `{error: {code, message,
fields?}}`, never a stack trace or a secret.

Domain errors map by family (`Invalid` 422, `NotFound` 404, `Refused` 409) with a code made from
the class name (`ImmutableField` → `immutable_field`); marshmallow's `ValidationError` is a 422
whose `fields` name each offending field by its dotted path (`header.outlet_id`). Paths outside
the JSON surface (the admin UI) keep Flask's own HTML error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from domain.errors import Invalid, NotFound, Refused, code_of
from services.errors import NotAuthenticated, UpstreamUnavailable

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/webhooks/", "/metrics")

# Codes for the HTTP errors Werkzeug raises itself (routing, body size, methods).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An answer the edge gives directly: authentication, permission, upstream failures."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields) if fields else None


def error_response(
    status: int, code: str, message: str, fields: Mapping[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = dict(fields)
    response = jsonify(error=error)
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"dotted.path": "message"}. The `key`/`value` levels
    that `fields.Dict` adds and the `_schema` level of schema-wide checks are left out."""
    if isinstance(messages, Mapping):
        flat: dict[str, str] = {}
        for name, inner in messages.items():
            part = "" if name in ("key", "value", "_schema") else str(name)
            flat.update(flatten_messages(inner, f"{prefix}.{part}".strip(".") if part else prefix))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "request": " ".join(messages)}
    if isinstance(messages, list):
        flat = {}
        for inner in messages:
            flat.update(flatten_messages(inner, prefix))
        return flat
    return {prefix or "request": str(messages)}


def validation_response(error: ValidationError, prefix: str = "") -> Response:
    fields = flatten_messages(error.messages, prefix)
    message = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
    return error_response(422, "invalid", message, fields)


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(ValidationError)
    def invalid_input(error: ValidationError) -> Response:
        return validation_response(error)

    @app.errorhandler(Invalid)
    def domain_invalid(error: Invalid) -> Response:
        return error_response(422, code_of(error), error.message, error.fields)

    @app.errorhandler(NotFound)
    def domain_not_found(error: NotFound) -> Response:
        return error_response(404, code_of(error), error.message)

    @app.errorhandler(Refused)
    def domain_refused(error: Refused) -> Response:
        return error_response(409, code_of(error), error.message)

    @app.errorhandler(UpstreamUnavailable)
    def upstream(error: UpstreamUnavailable) -> Response:
        log.warning("upstream unavailable", extra={"service": error.service})
        return error_response(502, f"{error.service}_unavailable", error.message)

    @app.errorhandler(NotAuthenticated)
    def not_authenticated(error: NotAuthenticated) -> Response:
        return error_response(401, "unauthorized", error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if not wants_json():
            return error
        status = error.code or 500
        code = _HTTP_CODES.get(status, (error.name or "error").lower().replace(" ", "_"))
        return error_response(status, code, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | HTTPException:
        # The trace goes to the log; the answer says only that something failed.
        log.exception("unhandled error", extra={"path": request.path})
        if not wants_json():
            return InternalServerError()
        return error_response(500, "internal_error", "Sambung could not complete the request")
