"""Who is looking at the admin, from Flask's signed session cookie, and the CSRF check.

The cookie is signed with a key derived from SAMBUNG_SECRET_KEY when a cookie is first read or
written (older keys still verify during a rotation), is HttpOnly and SameSite=Lax, and Secure
when the service is served over HTTPS (`Config.secure_cookies`). It holds the user's id, a CSRF
token, the language and, during the Moka connection, the OAuth state this browser started with.
Every request reloads the user from the event store, so a session is only as good as the user
behind it.

Every POST to the admin must carry the session's CSRF token (a form's hidden `csrf_token`, or the
`X-CSRF-Token` header for scripts); without it the request is refused with 400 before its view
runs. The pages accept only the session: a bearer token is ignored here, as the JSON API ignores
the session cookie.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from uuid import UUID

from flask import Flask, Request, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from gateway.admin.i18n import DEFAULT_LANGUAGE, LANGUAGES
from infra.bootstrap import Container
from infra.config import Config
from infra.secrets import derived_key
from infra.users import SignedIn, find_user

SESSION_PURPOSE = "admin session cookies"
SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class AdminSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, whose key is derived the first time a cookie is read or
    written rather than when the app is made: a request without the cookie (a health check, a
    webhook, an API call) never needs the key, so a process missing it still serves those."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            # Two threads may both derive the same keys here; either result is the same.
            app.config["SECRET_KEY_FALLBACKS"] = [
                derived_key(self.config, SESSION_PURPOSE, old)
                for old in self.config.old_secret_keys
            ]
            app.secret_key = derived_key(self.config, SESSION_PURPOSE)
        return super().get_signing_serializer(app)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def configure_sessions(app: Flask, container: Container) -> None:
    config = container.config
    app.session_interface = AdminSessions(config)
    app.config.update(
        SESSION_COOKIE_NAME="sambung_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok() -> bool:
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and hmac.compare_digest(str(expected), given)


def language() -> str:
    lang = session.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def current_user(container: Container) -> SignedIn | None:
    raw = session.get("uid")
    if not raw:
        return None
    try:
        user_id = UUID(str(raw))
    except ValueError:
        return None
    return find_user(container.log, user_id)


def sign_in(user: SignedIn) -> None:
    """A fresh session for the user: nothing from before signing in is kept but the language,
    so a session id planted before sign-in is worthless."""
    lang = language()
    session.clear()
    session.permanent = True
    session["uid"] = str(user.user_id)
    session["lang"] = lang
    csrf_token()


def sign_out() -> None:
    lang = language()
    session.clear()
    session["lang"] = lang


def user() -> SignedIn:
    found: SignedIn = g.admin_user
    return found
