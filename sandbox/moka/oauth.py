"""Moka's OAuth 2.0 endpoints as Doorkeeper serves them (reference §2): a login-and-consent page
at `/oauth/authorize`, `/oauth/token` (authorization code and refresh token, JSON or form
bodies), `/oauth/revoke` and `/oauth/token/info`."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, redirect, render_template_string, request

from sandbox.moka.state import ALL_SCOPES, APP_SCOPES, ApiError, MokaSandbox, OAuthError

oauth = Blueprint("moka_oauth", __name__)
# Set on the WSGI environ when a committed answer must be dropped (see `sandbox.moka.app`).
DROP_FLAG = "moka_sandbox.drop_response"

PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Moka – Masuk</title>
<style>body{font-family:sans-serif;background:#f4f6f8;display:flex;justify-content:center}
main{background:#fff;margin-top:4rem;padding:2rem;border-radius:8px;width:22rem}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem}
.error{color:#b00020}button{margin-top:1.5rem;padding:.6rem 1.2rem}</style></head>
<body><main>
<h1>MOKA</h1>
<p>Aplikasi <strong>{{ client_id }}</strong> meminta akses ke: {{ scope }}.</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
  {% for name, value in hidden.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}
  <label>Email <input type="email" name="email" value="{{ email }}" required autofocus></label>
  <label>Password <input type="password" name="password" required></label>
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form></main></body></html>"""


def sandbox() -> MokaSandbox:
    found: MokaSandbox = current_app.extensions["moka_sandbox"]
    return found


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _authorize_request(values: Any) -> tuple[dict[str, str], Response | None]:
    """The authorization request's parameters, or the response that refuses it: an error page
    for an unknown client or redirect URI (never redirect there), a redirect with `error`
    otherwise."""
    box = sandbox()
    params = {
        k: values.get(k, "")
        for k in ("client_id", "redirect_uri", "response_type", "scope", "state")
    }
    if params["client_id"] != box.client_id:
        return params, Response(
            "Client authentication failed: unknown client.", 401, mimetype="text/plain"
        )
    if not box.redirect_allowed(params["redirect_uri"]):
        return params, Response(
            "The redirect URI included is not valid.", 400, mimetype="text/plain"
        )
    if params["response_type"] != "code":
        return params, _refuse(params, "unsupported_response_type")
    requested = params["scope"].split() or list(ALL_SCOPES)
    if any(scope not in APP_SCOPES for scope in requested):
        return params, _refuse(params, "invalid_scope")
    params["scope"] = " ".join(requested)
    return params, None


def _refuse(params: dict[str, str], error: str) -> Response:
    answer = {"error": error, **({"state": params["state"]} if params["state"] else {})}
    return redirect(_with_query(params["redirect_uri"], answer), 302)


def _page(params: dict[str, str], error: str = "", email: str = "", status: int = 200) -> Response:
    hidden = {k: v for k, v in params.items() if v}
    body = render_template_string(
        PAGE,
        client_id=params["client_id"],
        scope=params["scope"],
        hidden=hidden,
        error=error,
        email=email,
        action=request.path,
    )
    return Response(body, status, mimetype="text/html")


@oauth.get("/oauth/authorize")
def authorize_page() -> Response:
    params, refusal = _authorize_request(request.args)
    return refusal or _page(params)


@oauth.post("/oauth/authorize")
def authorize_decision() -> Response:
    params, refusal = _authorize_request(request.form)
    if refusal:
        return refusal
    if request.form.get("decision") == "deny":
        return _refuse(params, "access_denied")
    email = request.form.get("email", "")
    business = sandbox().user_with(email, request.form.get("password", ""))
    if business is None:
        return _page(params, "Email atau password salah.", email, 401)
    code = sandbox().grant(params["redirect_uri"], business.id, tuple(params["scope"].split()))
    # Installs from Moka's App Market arrive without `state`; echo it only when given (§2).
    answer = {"code": code, **({"state": params["state"]} if params["state"] else {})}
    return redirect(_with_query(params["redirect_uri"], answer), 302)


def _body() -> dict[str, Any]:
    """JSON (the spec) or form (the sample app) bodies alike."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict()


def _client_credentials(body: dict[str, Any]) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            raise OAuthError("invalid_client", 401) from None
        return client_id, secret
    return body.get("client_id"), body.get("client_secret")


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@oauth.post("/oauth/token")
def token() -> Response:
    body = _body()
    box = sandbox()
    box.check_client(*_client_credentials(body))
    grant_type = body.get("grant_type")
    if grant_type == "authorization_code":
        if not body.get("code"):
            raise OAuthError("invalid_request", 400)
        return _json(box.exchange_code(str(body["code"]), body.get("redirect_uri")))
    if grant_type == "refresh_token":
        if not body.get("refresh_token"):
            raise OAuthError("invalid_request", 400)
        return _json(box.refresh(str(body["refresh_token"])))
    raise OAuthError("unsupported_grant_type", 400)


@oauth.after_request
def drop_committed_tokens(response: Response) -> Response:
    """The "commit then drop the response" fault: new tokens were issued (and the refresh token
    or code used up), but the answer never reaches the client."""
    answered = request.endpoint == "moka_oauth.token" and response.status_code == 200
    if answered and sandbox().take_token_drop():
        request.environ[DROP_FLAG] = True
    return response


@oauth.post("/oauth/revoke")
def revoke() -> Response:
    body = _body()
    box = sandbox()
    box.check_client(*_client_credentials(body))
    if body.get("token"):
        box.revoke(str(body["token"]))
    return _json({"data": {}, "meta": {"code": 200, "errors": {}}})


@oauth.get("/oauth/token/info")
def token_info() -> Response:
    header = request.headers.get("Authorization", "")
    value = (
        header[7:].strip() if header[:7].lower() == "bearer " else request.args.get("access_token")
    )
    box = sandbox()
    try:
        found = box.valid_token(value)
    except ApiError:
        return _json(
            {"error": "invalid_token", "error_description": "The access token is invalid"}, 401
        )
    remaining = found.created_at + found.expires_in - int(box.epoch_now())
    return _json(
        {
            "resource_owner_id": box.business(found.business_id).user["id"],
            "scope": list(found.scopes),
            "expires_in": remaining,
            "application": {"uid": box.client_id},
            "created_at": found.created_at,
        }
    )


@oauth.errorhandler(OAuthError)
def oauth_error(error: OAuthError) -> Response:
    return _json(error.body(), error.status)
