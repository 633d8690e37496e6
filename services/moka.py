"""Connecting a Moka business (its OAuth tokens): by the merchant's browser (authorization URL,
then the callback with a code) or with tokens an operator brings. Each way reads the profile and
outlets with the tokens first and stores only a connection that could read them.

A refused or short-scoped token is the input's fault (`MokaConnectionInvalid`, naming the
field); an unreachable or failing Moka is `UpstreamUnavailable`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import requests

from clients.moka import (
    InMemoryTokenStore,
    MokaAuthError,
    MokaClient,
    MokaError,
    MokaScopeError,
    RetryPolicy,
)
from domain.errors import MokaConnectionInvalid
from domain.settings import MokaConnection
from infra.bootstrap import Container
from infra.moka_tokens import ConnectionTokenStore, token_set
from services.errors import upstream_unavailable

log = logging.getLogger(__name__)

OAUTH_STATE_TTL = 15 * 60
CALLBACK_PATH = "/api/v1/moka/callback"
_STATE_KEY = "sambung:moka-oauth-state:"
# Someone is waiting on these answers: fail fast rather than back off for minutes.
INTERACTIVE_RETRY = RetryPolicy(attempts=2, max_delay=2.0)
INTERACTIVE_TIMEOUT = 15.0


def connection_view(connection: MokaConnection) -> dict[str, Any]:
    return {
        "id": connection.id,
        "company_id": connection.company_id,
        "email": connection.email,
        "business_id": connection.business_id,
        "outlets": outlet_list(connection.outlets),
    }


def outlet_list(outlets: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"id": outlet_id, "name": name} for outlet_id, name in outlets.items()]


def callback_code(query: Mapping[str, Any]) -> str:
    """The code of Moka's OAuth callback; without one, Moka says why (the merchant denied)."""
    if not query.get("code"):
        denied = query.get("error") or "no code"
        raise MokaConnectionInvalid(
            {"code": f"is missing: Moka answered {denied}; connect Moka again"}
        )
    return str(query["code"])


def connect_moka_with_tokens(
    container: Container,
    *,
    company_id: UUID,
    access_token: str,
    refresh_token: str,
    expires_at: datetime | None = None,
) -> MokaConnection:
    """Connect without a browser (operators, migrations): read the profile and outlets with
    the tokens, then store the connection."""
    container.log.get_company(company_id)
    store = InMemoryTokenStore(token_set(access_token, refresh_token, expires_at))
    with _moka_errors("access_token"):
        return _connect(container, company_id, store)


def authorization_url(
    container: Container, company_id: UUID, callback_path: str = CALLBACK_PATH
) -> str:
    """Where to send the merchant's browser to allow access. The `state` remembers the company
    for the callback, once, for `OAUTH_STATE_TTL` seconds. The admin UI has its own callback
    (`callback_path`), registered with Moka beside the API's."""
    container.log.get_company(company_id)
    state = secrets.token_urlsafe(24)
    container.redis.set(_STATE_KEY + state, str(company_id), ex=OAUTH_STATE_TTL)
    client = container.moka_client(InMemoryTokenStore())
    return client.authorization_url(redirect_uri(container, callback_path), state=state)


def company_of_state(container: Container, state: str) -> UUID:
    """The company a `state` was issued for; it cannot be used twice."""
    company_id = container.redis.getdel(_STATE_KEY + state)
    if company_id is None:
        raise MokaConnectionInvalid({"state": "is unknown or expired; start connecting again"})
    return UUID(company_id.decode() if isinstance(company_id, bytes) else company_id)


def complete_authorization(
    container: Container, company_id: UUID, code: str, callback_path: str = CALLBACK_PATH
) -> MokaConnection:
    """The OAuth callback: trade the code for tokens and store the connection."""
    container.log.get_company(company_id)
    store = InMemoryTokenStore()
    client = container.moka_client(store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT)
    with _moka_errors("code"):
        client.exchange_code(code, redirect_uri(container, callback_path))
        return _connect(container, company_id, store, client)


def redirect_uri(container: Container, callback_path: str = CALLBACK_PATH) -> str:
    return container.config.public_url + callback_path


def company_connections(container: Container, company_id: UUID) -> list[MokaConnection]:
    return container.log.list_moka_connections(company_id)


def live_outlets(container: Container, connection_id: UUID) -> dict[str, str]:
    """The business's outlets as Moka lists them now; a change is remembered on the connection
    (so that a setting may take an outlet opened since connecting)."""
    connection = container.log.get_moka_connection(connection_id)
    store = ConnectionTokenStore(container.log, connection_id)
    client = container.moka_client(store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT)
    with _moka_errors("moka_connection_id"):
        outlets = _outlets(client, connection.business_id)
    if outlets != connection.outlets:
        tokens = container.log.moka_tokens(connection_id)
        container.log.connect_moka(
            company_id=connection.company_id,
            email=connection.email,
            business_id=connection.business_id,
            outlets=outlets,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
        )
    return outlets


def _connect(
    container: Container,
    company_id: UUID,
    store: InMemoryTokenStore,
    client: MokaClient | None = None,
) -> MokaConnection:
    client = client or container.moka_client(
        store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT
    )
    profile = client.profile()
    business_id = str(profile["business_id"])
    outlets = _outlets(client, business_id)
    tokens = store.load()
    assert tokens is not None  # the store was given tokens, or the exchange saved them
    connection_id = container.log.connect_moka(
        company_id=company_id,
        email=str(profile.get("email") or ""),
        business_id=business_id,
        outlets=outlets,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
    )
    log.info(
        "Moka connected",
        extra={"company_id": str(company_id), "moka_connection_id": str(connection_id),
               "moka_business_id": business_id, "moka_outlet_ids": sorted(outlets)},
    )  # fmt: skip
    return container.log.get_moka_connection(connection_id)


def _outlets(client: MokaClient, business_id: str) -> dict[str, str]:
    return {
        str(outlet["id"]): str(outlet.get("name") or "")
        for outlet in client.outlets(int(business_id))
        if not outlet.get("is_deleted")
    }


@contextmanager
def _moka_errors(field: str) -> Iterator[None]:
    try:
        yield
    except MokaScopeError:
        raise MokaConnectionInvalid(
            {field: "lacks a scope Sambung needs (profile, library, customer, transaction)"}
        ) from None
    except MokaAuthError:
        raise MokaConnectionInvalid({field: "was refused by Moka; connect Moka again"}) from None
    except (MokaError, requests.RequestException) as error:
        raise upstream_unavailable("Moka", error) from None
