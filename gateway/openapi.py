"""`GET /api/openapi.json`: an OpenAPI 3.1 document generated from the declared operations
(`gateway.routing`) and their marshmallow schemas, so that it describes exactly what the
views load and dump.

The translation covers the fields the schemas use: strings (with formats for UUID, date, time,
date-time and email), integers, numbers, booleans, lists, dicts, nested schemas (as components)
and the validators OneOf, Equal, Range and Length. A custom field describes itself with an
`openapi` class attribute. Anything else is refused, so a new kind of field cannot silently
document as "any".
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import RAISE, Schema, fields, validate

from gateway.routing import ApiBlueprint, Operation
from gateway.schemas import ErrorSchema

openapi = Blueprint("openapi", __name__)

TITLE = "Sambung"
VERSION = "1"
_REASONS = {
    400: "The body is not JSON.",
    401: "No valid token (or webhook signature).",
    403: "Only an operator's token may do this.",
    404: "No such resource, or not the caller's.",
    409: "The current state refuses the command.",
    413: "The body is too large.",
    422: "The input breaks a rule; `fields` names each offending field.",
    502: "Jurnal or Moka could not be reached or failed.",
}
_STRING_FORMATS: tuple[tuple[type[fields.Field], str], ...] = (
    (fields.UUID, "uuid"),
    (fields.Email, "email"),
    (fields.DateTime, "date-time"),  # AwareDateTime and NaiveDateTime are DateTimes
    (fields.Date, "date"),
    (fields.Time, "time"),
)


@openapi.get("/api/openapi.json")
def document() -> ResponseReturnValue:
    return jsonify(build_document(current_app))


def build_document(app: Flask) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    operations = [
        (blueprint, op)
        for blueprint in app.blueprints.values()
        if isinstance(blueprint, ApiBlueprint)
        for op in blueprint.operations
    ]
    for blueprint, op in operations:
        path, parameters = _path(blueprint.url_prefix or "", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, parameters, components)
    _component(ErrorSchema, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Keeps a merchant's Jurnal books in step with their MokaPOS tills.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "mokaSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Go-Signature",
                    "description": "Lowercase hex HMAC-SHA256 of the raw body.",
                },
            },
        },
    }


def _path(prefix: str, rule: str) -> tuple[str, list[dict[str, Any]]]:
    """`/settings/<uuid:setting_id>` → `/settings/{setting_id}` and its path parameters."""
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), parameters


def _operation(
    op: Operation, parameters: list[dict[str, Any]], components: dict[str, Any]
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.description:
        spec["description"] = op.description
    if op.query is not None:
        parameters = parameters + _query_parameters(op.query, components)
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _component(op.body, components)}},
        }
    responses: dict[str, Any] = {}
    for status, schema in sorted(op.responses.items()):
        responses[str(status)] = _response(status, schema, components)
    for media_type in op.downloads:
        responses["200"]["content"][media_type] = {
            "schema": {"type": "string", "contentMediaType": media_type}
        }
    for status in op.errors:
        responses[str(status)] = {
            "description": _REASONS[status],
            "content": {"application/json": {"schema": _component(ErrorSchema, components)}},
        }
    spec["responses"] = responses
    if op.access in ("token", "admin"):
        spec["security"] = [{"bearer": []}]
    elif op.access == "signature":
        spec["security"] = [{"mokaSignature": []}]
    else:
        spec["security"] = []
    return spec


def _response(
    status: int, schema: type[Schema] | str | None, components: dict[str, Any]
) -> dict[str, Any]:
    if schema is None:
        if status == 302:
            return {
                "description": "Redirect.",
                "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
            }
        return {"description": "No content."}
    if isinstance(schema, str):
        return {"description": "OK.", "content": {schema: {"schema": {"type": "string"}}}}
    return {
        "description": "OK." if status < 300 else "Accepted.",
        "content": {"application/json": {"schema": _component(schema, components)}},
    }


def _query_parameters(schema: type[Schema], components: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": field.data_key or name,
            "in": "query",
            "required": field.required,
            "schema": _field(field, components),
        }
        for name, field in schema().fields.items()
    ]


def _component(schema: type[Schema], components: dict[str, Any]) -> dict[str, str]:
    name = schema.__name__.removesuffix("Schema")
    if name not in components:
        components[name] = {}  # placeholder first: schemas may refer to each other
        components[name] = _object(schema(), components)
    return {"$ref": f"#/components/schemas/{name}"}


def _object(schema: Schema, components: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        properties[key] = _field(field, components)
        if field.required:
            required.append(key)
    spec: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        spec["required"] = required
    if schema.__doc__ and type(schema).__doc__ != Schema.__doc__:
        spec["description"] = " ".join(schema.__doc__.split())
    if getattr(schema.Meta, "unknown", None) is not None:
        spec["additionalProperties"] = schema.unknown != RAISE
    return spec


def _field(field: fields.Field, components: dict[str, Any]) -> dict[str, Any]:
    spec = _field_type(field, components)
    for validator in field.validators:
        spec.update(_constraint(validator, spec))
    if field.allow_none:
        spec = _nullable(spec)
    if field.load_only:
        spec["writeOnly"] = True
    if "description" in field.metadata:
        spec["description"] = field.metadata["description"]
    return spec


def _nullable(spec: dict[str, Any]) -> dict[str, Any]:
    if isinstance(spec.get("type"), str) and "$ref" not in spec:
        spec["type"] = [spec["type"], "null"]
        if "enum" in spec:
            spec["enum"] = [*spec["enum"], None]
        return spec
    return {"anyOf": [spec, {"type": "null"}]}


def _field_type(field: fields.Field, components: dict[str, Any]) -> dict[str, Any]:
    custom = getattr(type(field), "openapi", None)
    if custom is not None:
        return dict(custom)
    if isinstance(field, fields.Nested):
        nested = field.nested
        if not (isinstance(nested, type) and issubclass(nested, Schema)):
            raise TypeError(f"{field!r}: nest schema classes so they become components")
        ref = _component(nested, components)
        return {"type": "array", "items": ref} if field.many else ref
    if isinstance(field, fields.List):
        return {"type": "array", "items": _field(field.inner, components)}
    if isinstance(field, fields.Dict):
        values = field.value_field
        spec: dict[str, Any] = {"type": "object"}
        spec["additionalProperties"] = _field(values, components) if values else True
        return spec
    for kind, fmt in _STRING_FORMATS:
        if isinstance(field, kind):
            return {"type": "string", "format": fmt}
    if isinstance(field, fields.String):
        return {"type": "string"}
    if isinstance(field, fields.Boolean):
        return {"type": "boolean"}
    if isinstance(field, fields.Integer):
        return {"type": "integer"}
    if isinstance(field, fields.Decimal):
        return {"type": "string", "format": "decimal"}
    if isinstance(field, fields.Number):
        return {"type": "number"}
    raise TypeError(f"no OpenAPI translation for {type(field).__name__}")


def _constraint(validator: Any, spec: dict[str, Any]) -> dict[str, Any]:
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Equal):
        return {"enum": [validator.comparable]}
    if isinstance(validator, validate.Range):
        bounds: dict[str, Any] = {}
        if validator.min is not None:
            bounds["minimum"] = validator.min
        if validator.max is not None:
            bounds["maximum"] = validator.max
        return bounds
    if isinstance(validator, validate.Length):
        low, high = ("minItems", "maxItems") if spec.get("type") == "array" else (
            "minLength", "maxLength"
        )  # fmt: skip
        limits: dict[str, Any] = {}
        if validator.min is not None:
            limits[low] = validator.min
        if validator.max is not None:
            limits[high] = validator.max
        return limits
    raise TypeError(f"no OpenAPI translation for the validator {type(validator).__name__}")
