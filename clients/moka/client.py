"""`MokaClient`: Moka's API over `requests` for one connection (one merchant's authorisation).

**Tokens and crashes.** Moka rotates refresh tokens: each works once (reference §2). A client
that refreshes and then dies before saving the new pair would hold a dead refresh token. The
client is built so that this cannot lock a connection out:

1. *Persist before use.* A refreshed `TokenSet` is saved through the injected `TokenStore`
   before its access token is used for any call. If `save` fails, the error propagates and the
   new tokens are never used.
2. *Revoke on use.* With Doorkeeper's `refresh_token_revoked_on_use` (a switch of the sandbox,
   `Settings.refresh_token_revoked_on_use`), a used refresh token stays valid until the access
   token it produced is first used. Because of (1), a crash anywhere between the refresh request
   and the end of `save` leaves the stored refresh token valid, and the next run refreshes again.
3. *Refresh early.* Tokens are refreshed `refresh_margin` (default a day, at most half the
   lifetime) before they expire. If the server rotates strictly and a crash hit the window
   anyway, the refresh then fails with `invalid_grant` while the stored access token still
   works: the client keeps using it, records `reauthorization_required` and calls
   `on_reauthorization_required`, so the merchant can reconnect before the connection stops.
   Only when the access token itself is refused does `MokaReauthorizationRequired` surface.
4. *One refresh at a time.* Refreshes run under `refresh_lock` (per client by default; pass a
   lock shared across processes, such as the setting's Redis lock, when several workers share a
   connection) and re-read the store first: if another worker already rotated, its tokens are
   used. After `invalid_grant` the store is re-read once more for the same reason.

**Paging.** `iter_latest_transactions` follows `next_url` (rebased on `base_url`, with the
requested version, without the embedded `access_token`), dedupes by `id` and stops on
`completed`, an empty page, or an empty or repeated `next_url`. Page lists walk to
`total_pages`, or, without totals (customers), to the first short page.

**Retries.** 429, 5xx, timeouts and connection errors are retried with full-jitter backoff
(0.5, 1, 2, 4 s…, capped at 30 s; `Retry-After` honoured) before a typed error is raised; a 401
triggers one refresh and one retry.

**Money.** Bodies are parsed with `parse_float=Decimal`, and integer amounts in money fields
become `Decimal` too, so that callers never see a float.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from clients.moka.errors import (
    MokaAuthError,
    MokaError,
    MokaGone,
    MokaNotFound,
    MokaOutletExpired,
    MokaRateLimited,
    MokaReauthorizationRequired,
    MokaRequestError,
    MokaScopeError,
    MokaTransientError,
)
from clients.moka.tokens import TokenSet, TokenStore

Json = dict[str, Any]
DEFAULT_SCOPES = "profile report customer library transaction"
LIBRARY_KEYS = {
    # path segment → (array key, fallbacks): the example's key first, then the schema's.
    "items": ("items", ("item",)),
    "categories": ("category", ("categories",)),
    "modifiers": ("modifier", ("modifiers",)),
    "discounts": ("discount", ("discounts",)),
    "taxes": ("tax", ("taxes",)),
    "gratuities": ("gratuity", ("gratuities",)),
    "sales_type": ("results", ("sales_types",)),
}
COUNT_KEYS = {"total_pages", "total_count", "total_number_of_transactions"}
MONEY_KEYS = {
    "amount",
    "price",
    "cogs",
    "subtotal",
    "discounts",
    "gratuities",
    "taxes",
    "tendered",
    "change",
    "collected",
    "refunds",
    "total",
    "taxable_amount",
    "discount_cash",
    "discount_percentage",
    "item_discount",
    "item_price_discount_gratuity",
    "amount_pay",
    "amount_change",
    "invoice_deposit_amount",
    "rounding_amount",
    "redemption",
}


def is_money_key(key: str) -> bool:
    if key in COUNT_KEYS:
        return False
    return (
        key in MONEY_KEYS
        or key.startswith("total_")
        or key.endswith(
            ("_amount", "_price", "_sales", "_price_library", "_price_quantity", "_price_discount")
        )
    )


def decimalize(value: Any, key: str = "") -> Any:
    """Integers under money keys become `Decimal` (floats already are, via `parse_float`)."""
    if isinstance(value, dict):
        return {k: decimalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [decimalize(v, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and is_money_key(key):
        return Decimal(value)
    return value


def parse_body(text: str) -> Any:
    """A Moka body with `Decimal` money."""
    return decimalize(json.loads(text, parse_float=Decimal))


def epoch_param(moment: datetime | float | int | Decimal) -> str:
    """`since`/`until` as Moka takes them: epoch seconds, to the microsecond."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("since/until must be timezone-aware")
        moment = Decimal(str(moment.timestamp()))
    return f"{Decimal(str(moment)):.6f}"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, rng: random.Random, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_delay)
            except ValueError:
                pass
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class MokaClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = 86_400.0,
        refresh_lock: AbstractContextManager[Any] | None = None,
        on_reauthorization_required: Callable[[MokaReauthorizationRequired], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.store = token_store
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep, self.clock = sleep, clock
        self.refresh_margin = refresh_margin
        self.refresh_lock = refresh_lock or threading.Lock()
        self.on_reauthorization_required = on_reauthorization_required
        self.reauthorization_required: MokaReauthorizationRequired | None = None
        self.rng = rng or random.Random()

    # -- OAuth ------------------------------------------------------------------------------

    def authorization_url(
        self, redirect_uri: str, state: str | None = None, scope: str | None = DEFAULT_SCOPES
    ) -> str:
        params = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
        }
        if scope:
            params["scope"] = scope
        if state:
            params["state"] = state
        return f"{self.base_url}/oauth/authorize?{urlencode(params)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade the callback's `code` for tokens and save them."""
        body = self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        tokens = TokenSet.from_response(body, self.clock())
        self.store.save(tokens)
        self.reauthorization_required = None
        return tokens

    def refresh(self) -> TokenSet:
        """Rotate now (normally automatic). Returns the saved tokens."""
        current = self.store.load()
        if current is None:
            raise MokaAuthError("This connection has no Moka tokens: connect Moka first")
        return self._refresh(current)

    def revoke(self) -> None:
        tokens = self.store.load()
        if tokens is not None:
            self._post_oauth("/oauth/revoke", {"token": tokens.access_token})

    def _token_request(self, fields: Json) -> Json:
        response = self._post_oauth("/oauth/token", fields)
        body = response.json()
        if not isinstance(body, dict) or "access_token" not in body:
            raise MokaAuthError("The token endpoint answered without tokens", body=body)
        return body

    def _post_oauth(self, path: str, fields: Json) -> requests.Response:
        payload = {"client_id": self.client_id, "client_secret": self.client_secret, **fields}
        response = self._send("POST", f"{self.base_url}{path}", json_body=payload)
        if response.status_code < 400:
            return response
        try:
            error = response.json().get("error")
        except ValueError:
            error = None
        # Doorkeeper answers invalid_grant with 400 or 401: branch on the error, not the status.
        if error == "invalid_grant":
            raise MokaReauthorizationRequired(
                "Moka refused the grant: the merchant must connect Moka again",
                status=response.status_code,
                error_type=error,
                body=response.text,
            )
        raise MokaAuthError(
            f"Moka's token endpoint refused the request ({error or 'unknown'})",
            status=response.status_code,
            error_type=error,
            body=response.text,
        )

    def _tokens(self) -> TokenSet:
        tokens = self.store.load()
        if tokens is None:
            raise MokaAuthError("This connection has no Moka tokens: connect Moka first")
        margin = min(self.refresh_margin, tokens.expires_in / 2)
        if tokens.seconds_left(self.clock()) > margin:
            return tokens
        try:
            return self._refresh(tokens)
        except MokaReauthorizationRequired as exc:
            if tokens.seconds_left(self.clock()) <= 0:
                raise
            # The access token still works: carry on and let the merchant reconnect meanwhile.
            self._flag_reauthorization(exc)
            return tokens

    def _flag_reauthorization(self, exc: MokaReauthorizationRequired) -> None:
        self.reauthorization_required = exc
        if self.on_reauthorization_required is not None:
            self.on_reauthorization_required(exc)

    def _refresh(self, stale: TokenSet) -> TokenSet:
        with self.refresh_lock:
            current = self.store.load() or stale
            if current.refresh_token != stale.refresh_token:
                return current  # another worker rotated while we waited for the lock
            try:
                body = self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
                )
            except MokaReauthorizationRequired:
                latest = self.store.load()
                if latest is not None and latest.refresh_token != current.refresh_token:
                    return latest
                raise
            tokens = TokenSet.from_response(body, self.clock())
            self.store.save(tokens)  # before the new access token is ever used
            self.reauthorization_required = None
            return tokens

    # -- requests ---------------------------------------------------------------------------

    def get(self, path_or_url: str, params: Json | None = None) -> Any:
        """GET a Moka path (or an absolute URL on `base_url`) with auth, retries and typed
        errors; returns the parsed body with `Decimal` money."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"
        tokens = self._tokens()
        response = self._send("GET", url, params=params, token=tokens.access_token)
        if response.status_code == 401:
            tokens = self._refresh_after_401(tokens)
            response = self._send("GET", url, params=params, token=tokens.access_token)
        self._raise_for(response)
        return parse_body(response.text)

    def _refresh_after_401(self, used: TokenSet) -> TokenSet:
        try:
            return self._refresh(used)
        except MokaReauthorizationRequired as exc:
            self._flag_reauthorization(exc)
            raise

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Json | None = None,
        token: str | None = None,
        json_body: Json | None = None,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise MokaTransientError(f"Moka did not answer: {exc}") from exc
                self.sleep(self.retry.delay(attempt, self.rng, None))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    return response
                self.sleep(self.retry.delay(attempt, self.rng, response.headers.get("Retry-After")))
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _raise_for(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        message, error_type, body = f"Moka answered {status}", None, response.text
        try:
            meta = (response.json() or {}).get("meta") or {}
            message = meta.get("error_message") or message
            error_type = meta.get("error_type")
        except (ValueError, AttributeError):
            pass
        kind: type[MokaError] = MokaRequestError
        if status == 401:
            kind = MokaAuthError
        elif status == 403:
            expired = error_type == "ApiErrors::OutletExpiredError" or "has been expired" in message
            kind = MokaOutletExpired if expired else MokaScopeError
        elif status == 404:
            kind = MokaNotFound
        elif status == 410:
            kind = MokaGone
        elif status == 429:
            kind = MokaRateLimited
        elif status >= 500:
            kind = MokaTransientError
        raise kind(message, status=status, error_type=error_type, body=body)

    # -- master data ------------------------------------------------------------------------

    def profile(self) -> Json:
        """The bare user object: `business_id`, `outlet_ids`, `outlet_names`…"""
        body: Json = self.get("/v1/profile/self")
        return body

    def business(self) -> Json:
        data = self.get("/v1/businesses")["data"]
        found: Json = data["business"]
        return found

    def outlets(self, business_id: int) -> list[Json]:
        found: list[Json] = self.get(f"/v1/businesses/{business_id}/outlets")["data"]["outlets"]
        return found

    def checkout_settings(self, business_id: int) -> Json:
        found: Json = self.get(f"/v1/businesses/{business_id}/checkout_settings")["data"]
        return found

    def iter_customers(
        self,
        business_id: int,
        *,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        include_deleted: bool = False,
        per_page: int = 100,
    ) -> Iterator[Json]:
        params = self._window(since, until, include_deleted)
        yield from self._iter_pages(
            f"/v1/businesses/{business_id}/customers", "customers", (), params, per_page
        )

    def iter_library(
        self,
        outlet_id: int,
        kind: str,
        *,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        include_deleted: bool = False,
        per_page: int = 100,
    ) -> Iterator[Json]:
        """`kind`: items, categories, modifiers, discounts, taxes, gratuities or sales_type."""
        key, fallbacks = LIBRARY_KEYS[kind]
        params = self._window(since, until, include_deleted)
        yield from self._iter_pages(
            f"/v1/outlets/{outlet_id}/{kind}", key, fallbacks, params, per_page
        )

    def iter_items(self, outlet_id: int, **window: Any) -> Iterator[Json]:
        return self.iter_library(outlet_id, "items", **window)

    @staticmethod
    def _window(since: Any, until: Any, include_deleted: bool) -> Json:
        params: Json = {}
        if since is not None:
            params["since"] = epoch_param(since)
        if until is not None:
            params["until"] = epoch_param(until)
        if include_deleted:
            params["include_deleted"] = "true"
        return params

    def _iter_pages(
        self, path: str, key: str, fallbacks: tuple[str, ...], params: Json, per_page: int
    ) -> Iterator[Json]:
        page = 1
        while True:
            data = self.get(path, {**params, "page": page, "per_page": per_page})["data"]
            rows = data.get(key)
            for other in fallbacks:
                rows = rows if rows is not None else data.get(other)
            rows = rows or []
            yield from rows
            total_pages = data.get("total_pages")
            if not rows or (total_pages is not None and page >= int(total_pages)):
                return
            if total_pages is None and len(rows) < per_page:
                return
            page += 1

    # -- transactions -----------------------------------------------------------------------

    def iter_latest_transactions(
        self,
        outlet_id: int,
        *,
        since: datetime | float,
        until: datetime | float | None = None,
        time_filter: str = "updated_at",
        reorder_type: str = "ASC",
        per_page: int = 50,
        version: int = 3,
    ) -> Iterator[Json]:
        """Payments whose `time_filter` falls in [since, until], each once. With the default
        `updated_at`, edits, invoice payments and refunds (which move their sale) are seen;
        pass `created_at` for the nightly re-scan of a trailing window."""
        if version not in (3, 4):
            raise ValueError("latest transactions exist as v3 and v4")
        params: Json = {
            "per_page": per_page,
            "since": epoch_param(since),
            "time_filter": time_filter,
            "reorder_type": reorder_type,
        }
        if until is not None:
            params["until"] = epoch_param(until)
        url = f"{self.base_url}/v{version}/outlets/{outlet_id}/reports/get_latest_transactions"
        seen_ids: set[str] = set()
        seen_urls: set[str] = set()
        while True:
            data = self.get(url, params)["data"]
            payments = data.get("payments") or []
            for payment in payments:
                if payment.get("id") not in seen_ids:
                    seen_ids.add(payment.get("id"))
                    yield payment
            next_url = data.get("next_url") or ""
            if data.get("completed") or not payments or not next_url or next_url in seen_urls:
                return
            seen_urls.add(next_url)
            url, params = self._rebase(next_url, version)

    def _rebase(self, next_url: str, version: int) -> tuple[str, Json]:
        """`next_url` on our base URL and version, without the embedded token (a refresh may
        have replaced it; the Bearer header carries the current one)."""
        parts = urlsplit(next_url)
        segments = parts.path.split("/")
        if len(segments) > 1 and segments[1].startswith("v") and segments[1][1:].isdigit():
            segments[1] = f"v{version}"
        params = {
            k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"
        }
        return f"{self.base_url}{'/'.join(segments)}", params

    def iter_invoices(
        self,
        outlet_id: int,
        *,
        start: date | None = None,
        end: date | None = None,
        time_filter: str = "updated_at",
        reorder_type: str = "ASC",
        per_page: int = 100,
    ) -> Iterator[Json]:
        """Raw invoice rows. The amount due is subtotal + gratuities + taxes (reference §9.2)."""
        params: Json = {
            "time_filter": time_filter,
            "reorder_type": reorder_type,
            "per_page": per_page,
        }
        if start is not None:
            params["start"] = start.strftime("%d/%m/%Y")
        if end is not None:
            params["end"] = end.strftime("%d/%m/%Y")
        page, seen = 1, set()
        while True:
            data = self.get(f"/v3/outlets/{outlet_id}/reports/invoices", {**params, "page": page})[
                "data"
            ]
            rows = data.get("invoices") or []
            for row in rows:
                if row.get("id") not in seen:
                    seen.add(row.get("id"))
                    yield row
            if data.get("completed", True) or not rows or not data.get("next_url"):
                return
            page += 1

    def invoice(self, outlet_id: int, invoice_id: str) -> Json:
        found: Json = self.get(f"/v3/outlets/{outlet_id}/invoices/{invoice_id}")["data"]
        return found

    def sales_summary(self, outlet_id: int, start: date, end: date) -> Json:
        return self._report(outlet_id, "sales_summary", start, end)

    def payment_methods(self, outlet_id: int, start: date, end: date) -> Json:
        return self._report(outlet_id, "payment_methods", start, end)

    def _report(self, outlet_id: int, name: str, start: date, end: date) -> Json:
        params = {"start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")}
        found: Json = self.get(f"/v2/outlets/{outlet_id}/reports/{name}", params)["data"]
        return found
