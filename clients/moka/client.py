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
   A refresh token Moka refused is never sent again by this client: one refusal per client,
   never a loop.
5. *A lost answer.* When `/oauth/token` commits the rotation and the answer is lost (the
   "commit then drop" fault), the request is retried: under revoke-on-use the old refresh
   token still works and the connection recovers; under strict rotation the retry gets
   `invalid_grant`, and (3) applies: the old access token serves until it expires, and the
   connection is flagged for re-authorisation with a message for the merchant.
4. *One refresh at a time.* Refreshes run under `refresh_lock` (per client by default; pass a
   lock shared across processes, such as the setting's Redis lock, when several workers share a
   connection) and re-read the store first: if another worker already rotated, its tokens are
   used. After `invalid_grant` the store is re-read once more for the same reason.

**Paging.** `iter_latest_transactions` pages by keyset itself: every page is the original
request (so `time_filter` and `reorder_type` ride along, which Moka's `next_url` drops, §4.2)
with the window narrowed to the last row's time — `until` under DESC, `since` under ASC —
inclusively, deduping by `id`, so that no row is skipped or repeated. `next_url` and
`completed` only say whether more follows; an empty page ends it too. Page lists walk to
`total_pages`; customers and invoices, whose totals and `completed` cannot be trusted (§4.1),
walk until an empty page. A page that brings nothing new ends any walk, so a server that
ignores `page` cannot loop it.

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
from datetime import UTC, date, datetime, timedelta
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
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REAUTHORIZE_MESSAGE = (
    "Koneksi Moka harus diotorisasi ulang: hubungkan Moka lagi dari halaman pengaturan. / "
    "Moka refused the stored refresh token (invalid_grant): connect Moka again."
)
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
        return _epoch_text((moment - EPOCH) // timedelta(microseconds=1))
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
        self._refused_refresh_token: str | None = None
        self._announced: MokaReauthorizationRequired | None = None
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
                REAUTHORIZE_MESSAGE,
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
        if self.on_reauthorization_required is not None and exc is not self._announced:
            self._announced = exc
            self.on_reauthorization_required(exc)

    def _refresh(self, stale: TokenSet) -> TokenSet:
        with self.refresh_lock:
            current = self.store.load() or stale
            if current.refresh_token != stale.refresh_token:
                return current  # another worker rotated while we waited for the lock
            if current.refresh_token == self._refused_refresh_token:
                # Refused once already: asking again cannot help, and must not loop.
                assert self.reauthorization_required is not None
                raise self.reauthorization_required
            try:
                body = self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
                )
            except MokaReauthorizationRequired as exc:
                latest = self.store.load()
                if latest is not None and latest.refresh_token != current.refresh_token:
                    return latest
                self._refused_refresh_token = current.refresh_token
                self.reauthorization_required = exc
                raise
            tokens = TokenSet.from_response(body, self.clock())
            self.store.save(tokens)  # before the new access token is ever used
            self.reauthorization_required = None
            self._refused_refresh_token = None
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
        # Customers come without totals: walk to the first empty page.
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
        self,
        path: str,
        key: str,
        fallbacks: tuple[str, ...],
        params: Json,
        per_page: int,
        *,
        trust_totals: bool = True,
    ) -> Iterator[Json]:
        """Walk `page` 1, 2… to `total_pages` (when `trust_totals` and the body has them), else
        to the first empty page: a short page proves nothing, because the server may cap
        `per_page` below what was asked (customers, §4.1)."""
        page, seen = 1, set()
        while True:
            data = self.get(path, {**params, "page": page, "per_page": per_page})["data"]
            rows = data.get(key)
            for other in fallbacks:
                rows = rows if rows is not None else data.get(other)
            rows = rows or []
            new = [row for row in rows if _row_key(row) not in seen]
            seen.update(_row_key(row) for row in new)
            yield from new
            total_pages = data.get("total_pages") if trust_totals else None
            if not new or (total_pages is not None and page >= int(total_pages)):
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
        `updated_at`, edits and invoice payments are seen (refunds only where Moka moves their
        sale, §8.4); pass `created_at` to re-scan a trailing window of sales."""
        if version not in (3, 4):
            raise ValueError("latest transactions exist as v3 and v4")
        ascending = reorder_type.upper() == "ASC"
        params: Json = {
            "per_page": per_page,
            "since": epoch_param(since),
            "time_filter": time_filter,
            "reorder_type": "ASC" if ascending else "DESC",
        }
        if until is not None:
            params["until"] = epoch_param(until)
        url = f"{self.base_url}/v{version}/outlets/{outlet_id}/reports/get_latest_transactions"
        seen: set[str] = set()
        while True:
            data = self.get(url, params)["data"]
            payments = data.get("payments") or []
            for payment in payments:
                if payment.get("id") not in seen:
                    seen.add(payment.get("id"))
                    yield payment
            next_url = data.get("next_url") or ""
            if data.get("completed") or not payments or not next_url:
                return
            if ascending and "until" not in params:
                # Pin the window's end where the server put it, so that sales made while we
                # page wait for the next pull instead of shifting the pages (under DESC the
                # narrowed `until` already shuts them out).
                server_until = dict(parse_qsl(urlsplit(next_url).query)).get("until")
                if server_until:
                    params = {**params, "until": server_until}
            narrowed = self._next_window(params, payments, time_filter, ascending)
            if narrowed is None:
                return
            params = narrowed

    @staticmethod
    def _next_window(
        params: Json, payments: list[Json], time_filter: str, ascending: bool
    ) -> Json | None:
        """The same request with the window narrowed to the page's last row, inclusively (the
        rows of that instant may straddle pages; they are deduped). When a whole page shares
        one instant, step past it, as Moka's own cursor does. None when the page had no times."""
        moments = [_micros(p.get(time_filter)) for p in payments]
        known = [m for m in moments if m is not None]
        if not known:
            return None
        edge = max(known) if ascending else min(known)
        if edge == (min(known) if ascending else max(known)):
            edge += 1 if ascending else -1
        bound = "since" if ascending else "until"
        previous = params.get(bound)
        narrowed = {**params, bound: _epoch_text(edge)}
        if previous is not None and narrowed[bound] == previous:
            return None  # no progress: the server ignored the window
        return narrowed

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
        params: Json = {"time_filter": time_filter, "reorder_type": reorder_type}
        if start is not None:
            params["start"] = start.strftime("%d/%m/%Y")
        if end is not None:
            params["end"] = end.strftime("%d/%m/%Y")
        # `completed: true` and `next_url: ""` come on every page (§4.1): walk to an empty page.
        yield from self._iter_pages(
            f"/v3/outlets/{outlet_id}/reports/invoices",
            "invoices",
            (),
            params,
            per_page,
            trust_totals=False,
        )

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


def _row_key(row: Any) -> Any:
    return row.get("id") or row.get("uuid") if isinstance(row, dict) else id(row)


def _micros(value: Any) -> int | None:
    """A Moka timestamp as integer epoch microseconds (exact, unlike a float)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return (moment - EPOCH) // timedelta(microseconds=1)


def _epoch_text(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{seconds}.{fraction:06d}"
