"""Connecting the outside accounts a setting joins: a Jurnal company (its API credential) and a
Moka business (its OAuth tokens). Each use case asks the other side first and stores only what
it confirmed: a Jurnal credential that `companies/active` accepted, with the package it reports;
a Moka connection whose profile and outlets the tokens could read.

Also here: the clients built from stored connections, and the `TokenStore` that keeps a Moka
connection's rotating tokens sealed in the event store (the Moka client saves each refreshed
pair through it before using it).

Failures of the other side are typed for the edge: a refused credential or token is the
input's fault (`CompanyInvalid` / `MokaConnectionInvalid`, 422, naming the field); an
unreachable or failing service is `UpstreamUnavailable` (502).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import requests

from clients.jurnal import JurnalAuthError, JurnalClient, JurnalError, plan_of
from clients.moka import (
    InMemoryTokenStore,
    MokaAuthError,
    MokaClient,
    MokaError,
    MokaScopeError,
    RetryPolicy,
    TokenSet,
)
from domain.chart import Chart, chart_from_jurnal
from domain.errors import CompanyInvalid, MokaConnectionInvalid
from domain.settings import Company, MokaConnection
from infra.bootstrap import Container
from infra.eventlog import EventLog

log = logging.getLogger(__name__)

# Moka's documented token lifetime (reference §2): 180 days.
MOKA_TOKEN_LIFETIME = 15_552_000
OAUTH_STATE_TTL = 15 * 60
CALLBACK_PATH = "/api/v1/moka/callback"
_STATE_KEY = "sambung:moka-oauth-state:"
# Someone is waiting on these answers: fail fast rather than back off for minutes.
INTERACTIVE_RETRY = RetryPolicy(attempts=2, max_delay=2.0)
INTERACTIVE_TIMEOUT = 15.0

T = TypeVar("T")


class UpstreamUnavailable(Exception):
    """Jurnal or Moka could not be reached or failed; nothing was stored."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


# -- Jurnal -----------------------------------------------------------------------------------


def jurnal_client(
    container: Container, client_id: str, client_secret: str, **options: Any
) -> JurnalClient:
    config = container.config
    return JurnalClient.with_hmac(
        config.jurnal_base_url,
        client_id,
        client_secret,
        container.redis,
        rate_limit_per_minute=config.jurnal_rate_limit_per_minute,
        rate_limit_per_hour=config.jurnal_rate_limit_per_hour,
        ip_rate_limit_per_minute=config.jurnal_ip_rate_limit_per_minute,
        ip_rate_limit_per_hour=config.jurnal_ip_rate_limit_per_hour,
        rate_window_seconds=config.jurnal_rate_window_seconds,
        **{"settle_seconds": config.jurnal_settle_seconds, **options},
    )


def register_company(
    container: Container, *, name: str, jurnal_client_id: str, jurnal_client_secret: str
) -> Company:
    """Check the credential with `GET /companies/active`, then store the company with the
    package Jurnal reports."""
    client = jurnal_client(
        container,
        jurnal_client_id,
        jurnal_client_secret,
        max_attempts=2,
        timeout=INTERACTIVE_TIMEOUT,
    )
    try:
        active = _from_jurnal(client.company)
    finally:
        client.session.close()
    company_id = container.log.register_company(
        name=name,
        jurnal_client_id=jurnal_client_id,
        jurnal_client_secret=jurnal_client_secret,
        package=plan_of(active),
    )
    company = container.log.get_company(company_id)
    log.info(
        "company registered",
        extra={"company_id": str(company_id), "jurnal_client_id": jurnal_client_id,
               "package": company.package.value},
    )  # fmt: skip
    return company


def company_chart(container: Container, company_id: UUID) -> Chart:
    """The company's chart of accounts and default accounts, read from Jurnal now (a setting's
    accounts are checked against it when the setting is made or changed)."""
    credentials = container.log.jurnal_credentials(company_id)
    client = jurnal_client(
        container,
        credentials.client_id,
        credentials.client_secret,
        max_attempts=2,
        timeout=INTERACTIVE_TIMEOUT,
    )
    try:
        active = _from_jurnal(client.company)
        rows = _from_jurnal(lambda: list(client.iterate("accounts")))
    finally:
        client.session.close()
    return chart_from_jurnal(rows, active)


def _from_jurnal(call: Callable[[], T]) -> T:
    try:
        return call()
    except JurnalAuthError:
        raise CompanyInvalid(
            {"jurnal_client_secret": "was refused by Jurnal; check the client id and secret"}
        ) from None
    except (JurnalError, requests.RequestException) as error:
        raise UpstreamUnavailable("jurnal", _upstream_message("Jurnal", error)) from None


def jurnal_catalogs(
    container: Container, company_id: UUID, paths: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of some of the company's Jurnal lists (accounts, tags...), read now, for a
    person waiting on a form."""
    credentials = container.log.jurnal_credentials(company_id)
    client = jurnal_client(
        container,
        credentials.client_id,
        credentials.client_secret,
        max_attempts=2,
        timeout=INTERACTIVE_TIMEOUT,
    )
    try:
        return _from_jurnal(lambda: {path: list(client.iterate(path)) for path in paths})
    finally:
        client.session.close()


# -- Moka -------------------------------------------------------------------------------------


def moka_client(container: Container, store: Any, **options: Any) -> MokaClient:
    config = container.config
    return MokaClient(
        config.moka_base_url, config.moka_client_id, config.moka_client_secret, store, **options
    )


class ConnectionTokenStore:
    """A Moka connection's tokens, sealed in the event store (a `clients.moka.TokenStore`)."""

    def __init__(self, log: EventLog, connection_id: UUID) -> None:
        self.log = log
        self.connection_id = connection_id

    def load(self) -> TokenSet | None:
        tokens = self.log.moka_tokens(self.connection_id)
        return _token_set(tokens.access_token, tokens.refresh_token, tokens.expires_at)

    def save(self, tokens: TokenSet) -> None:
        self.log.store_moka_tokens(
            self.connection_id,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
        )


def _token_set(access: str, refresh: str, expires_at: datetime | None) -> TokenSet:
    # Only the expiry is stored; Moka's fixed lifetime gives back when the pair was made. With
    # no expiry known, the tokens are taken as fresh and a 401 makes the client refresh.
    ends = expires_at or datetime.fromtimestamp(
        datetime.now(UTC).timestamp() + MOKA_TOKEN_LIFETIME, UTC
    )
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        created_at=int(ends.timestamp()) - MOKA_TOKEN_LIFETIME,
        expires_in=MOKA_TOKEN_LIFETIME,
    )


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
    store = InMemoryTokenStore(_token_set(access_token, refresh_token, expires_at))
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
    client = moka_client(container, InMemoryTokenStore())
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
    client = moka_client(container, store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT)
    with _moka_errors("code"):
        client.exchange_code(code, redirect_uri(container, callback_path))
        return _connect(container, company_id, store, client)


def redirect_uri(container: Container, callback_path: str = CALLBACK_PATH) -> str:
    return container.config.public_url + callback_path


def live_outlets(container: Container, connection_id: UUID) -> dict[str, str]:
    """The business's outlets as Moka lists them now; a change is remembered on the connection
    (so that a setting may take an outlet opened since connecting)."""
    connection = container.log.get_moka_connection(connection_id)
    store = ConnectionTokenStore(container.log, connection_id)
    client = moka_client(container, store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT)
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
    client = client or moka_client(
        container, store, retry=INTERACTIVE_RETRY, timeout=INTERACTIVE_TIMEOUT
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
        raise UpstreamUnavailable("moka", _upstream_message("Moka", error)) from None


def _upstream_message(service: str, error: Exception) -> str:
    # The status only: an upstream body or URL could echo a credential back.
    status = getattr(error, "status", None)
    answered = f"answered {status}" if status else "could not be reached"
    return f"{service} {answered}; try again later"
