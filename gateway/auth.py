"""Bearer-token authentication and the caller's reach.

Every API call carries `Authorization: Bearer <token>`. No token, an unknown or a revoked one →
401. A company's token reaches only that company's companies, Moka connections, settings, runs
and events; asking for anything else answers 404, exactly as if it did not exist, so a token
cannot probe for other companies' ids. Operator-only commands answer 403 to a company token.
"""

from __future__ import annotations

from flask import current_app, g, request

from gateway.errors import ApiError
from infra.api_tokens import Principal, authenticate
from infra.bootstrap import Container


def container() -> Container:
    found: Container = current_app.extensions["sambung"]
    return found


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_principal(*, admin: bool = False) -> Principal:
    principal = optional_principal()
    if principal is None:
        raise ApiError(401, "unauthorized", "a valid bearer token is required")
    if admin and not principal.admin:
        raise ApiError(403, "forbidden", "only an operator's token may do this")
    return principal


def optional_principal() -> Principal | None:
    """The caller when a valid token came with the request; for endpoints that also accept
    other proof (the OAuth callback's state)."""
    token = bearer_token()
    return authenticate(container().log, token) if token else None


def principal() -> Principal:
    """The caller of the current request, once its operation authenticated it."""
    found: Principal = g.principal
    return found
