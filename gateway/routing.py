"""Declared operations: a Blueprint whose routes say what they take and answer.

`ApiBlueprint.operation(...)` registers a view together with its request schema (JSON body or
query string), its answer schema per status, the errors it may give and who may call it. The
wrapper does the edge work once for every view: it authenticates the caller, loads the request
(422 naming the field, 400 for a body that is not JSON), and dumps the view's `(status, data)`
with the declared schema. `gateway.openapi` reads the same declarations to write the document.

A view whose data is already in the form its schema dumps to (the read models' answers, which
are JSON-ready) returns it wrapped in `Dumped`: dumping a month of reconciliation through
marshmallow cost several times what reading it did. The schema still documents the answer, and
tests/integration/test_read_answers.py holds each such answer to it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema

from gateway import auth
from gateway.errors import ApiError
from services import audit

# Who may call an operation: "token" (a bearer token), "admin" (an operator's token),
# "signature" (the view verifies a webhook signature itself) or "none" (public, or proven
# otherwise, such as the OAuth callback's state).
ACCESS = ("token", "admin", "signature", "none")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Flask rule, relative to the blueprint's prefix
    endpoint: str
    summary: str
    tag: str
    access: str
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    responses: dict[int, type[Schema] | str | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    description: str = ""
    # Media types the 200 answer may also come in, as a file (`gateway.exports`).
    downloads: tuple[str, ...] = ()


class ApiBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, *, tag: str, **options: Any) -> None:
        super().__init__(name, import_name, **options)
        self.tag = tag
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        responses: dict[int, type[Schema] | str | None],
        body: type[Schema] | None = None,
        load_body: bool = True,
        query: type[Schema] | None = None,
        errors: tuple[int, ...] = (),
        access: str = "token",
        description: str = "",
        downloads: tuple[str, ...] = (),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`responses` maps a status to the answer's schema, to a media type for non-JSON
        answers ("text/plain"), or to None for an answer without a body (a redirect).
        With `load_body=False` the body's schema is documented but the view reads the raw
        body itself (the webhook must verify the bytes before parsing them)."""
        if access not in ACCESS:
            raise ValueError(f"access must be one of {ACCESS}")

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def wrapper(**path_args: Any) -> Any:
                actor = None
                if access in ("token", "admin"):
                    g.principal = auth.require_principal(admin=access == "admin")
                    actor = audit.token_actor(g.principal)
                kwargs = dict(path_args)
                if body is not None and load_body:
                    kwargs["body"] = schema_instance(body).load(_json_body())
                if query is not None:
                    kwargs["query"] = schema_instance(query).load(request.args.to_dict())
                with audit.acting_as(actor):  # changes are recorded as the token's
                    return _answer(view(**kwargs), responses)

            self.add_url_rule(rule, view.__name__, wrapper, methods=[method])
            self.operations.append(
                Operation(
                    method=method,
                    rule=rule,
                    endpoint=view.__name__,
                    summary=summary,
                    tag=self.tag,
                    access=access,
                    body=body,
                    query=query,
                    responses=responses,
                    errors=errors,
                    description=description or (view.__doc__ or "").strip(),
                    downloads=downloads,
                )
            )
            return wrapper

        return decorate


@dataclass(frozen=True)
class Dumped:
    """An answer already in its declared schema's dumped form: plain JSON-ready data, or its
    JSON text (e.g. built from rows a read model stores as text). Sent as is."""

    data: Any

    def text(self) -> str:
        if isinstance(self.data, str):
            return self.data
        return json.dumps(self.data, separators=(",", ":"))


@functools.cache
def schema_instance(schema: type[Schema]) -> Schema:
    """One instance per schema class and process. Building a schema copies its declared fields
    (a large part of a small request's cost), and loading or dumping leaves it unchanged."""
    return schema()


def _json_body() -> Any:
    # An empty body is an empty object, so the schema names every missing field.
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, "not_json", "the request body is not JSON")
    return data


def _answer(result: Any, responses: dict[int, type[Schema] | str | None]) -> Any:
    if isinstance(result, Response):
        return result
    status, data = result
    schema = responses[status]
    if schema is None:
        return Response(status=status)
    if not isinstance(schema, type):
        raise TypeError(f"status {status} is declared without a JSON schema")
    if isinstance(data, Dumped):
        return Response(data.text(), status=status, mimetype="application/json")
    response = jsonify(schema_instance(schema).dump(data))
    response.status_code = status
    return response
