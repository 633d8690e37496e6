"""The Jurnal API client the sync engine uses (`reference/jurnal-api.md` §5, §9, §12).

- Every attempt is signed afresh and first takes a slot in the shared budget (`limiter`): the
  credential's and the outgoing IP's, each a minute and an hour.
- A client `holding` a lease (a setting's posting lease) proves and extends it after the budget
  is granted, immediately before each request, and keeps it alive through every wait — for
  budget, after a 429, in backoff, while a lost answer settles — so no request goes out without
  it and no wait, however long, lets it lapse. The shared client is cached per company and used
  by many threads; `holding` answers a view of it, so the lease is never shared state.
- Reads, updates and deletes are retried on 429, 5xx, timeouts and dropped connections, with
  exponential backoff and jitter. A 429 holds every worker off until Jurnal's next window (it
  sends no `Retry-After`).
- A create is never re-posted blindly: after a timeout, dropped connection or 5xx the client waits
  for the first attempt to settle, then looks the document up by `custom_id`, and posts again only
  if it is not there. A 409 answers the existing document (when it carries our `custom_id`).
- Answers are parsed with `Decimal` for bare numbers; money strings stay strings (`to_money`).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests
from redis import Redis

from domain.jurnal_arithmetic import to_decimal

from .errors import (
    JurnalAuthError,
    JurnalDuplicate,
    JurnalError,
    JurnalNotFound,
    JurnalRateLimited,
    JurnalTransientError,
    JurnalUnknownOutcome,
    JurnalValidationError,
)
from .limiter import (
    IP_PER_HOUR,
    IP_PER_MINUTE,
    MINUTE_SECONDS,
    PER_HOUR,
    PER_MINUTE,
    SharedRateLimiter,
    jitter_margin,
)
from .resources import ResourceInfo, resource
from .signing import BearerAuth, HmacAuth

log = logging.getLogger(__name__)

API_PREFIX = "/public/jurnal/api/v1"
MAX_PAGE_SIZE = 200
# Invoices listed by transaction_date come back in an unstable order across pages (observed
# live); created_at is stable.
STABLE_SORT = {"sales_invoices": "created_at"}


def to_money(value: object) -> Decimal:
    """A money field of an answer (`"10692000.0"`, `972000`, `200000.00016`) as Decimal."""
    return to_decimal(value)


def plan_of(company: Mapping[str, Any]) -> str:
    """`basic`, `pro` or `enterprise` from `GET /companies/active` (§10); a trial counts as the
    plan it trials."""
    package = str(
        company.get("company_package")
        or company.get("company", {}).get("company_billing_details", {}).get("billing_package")
        or ""
    ).lower()
    if "enterprise" in package:
        return "enterprise"
    if "pro" in package:
        return "pro"
    return "basic"


class Lease(Protocol):
    """What a caller must still hold when each of its requests goes out."""

    @property
    def renew_every(self) -> float:
        """The longest the holder may go without `ensure_held`, in seconds."""
        ...

    def ensure_held(self) -> None:
        """Prove the lease is still held and extend it; raise if it is not."""
        ...


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    page: int
    total_pages: int
    total_count: int


@dataclass(frozen=True)
class CreateOutcome:
    document: dict[str, Any]
    created: bool  # False when Jurnal already had it (409)
    recovered: bool  # True when the first answer was lost and the lookup found it


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return format(o, "f")  # numeric strings are accepted everywhere (§3.5)
        if isinstance(o, date):
            return o.isoformat()
        return super().default(o)


class JurnalClient:
    def __init__(
        self,
        base_url: str,
        auth: HmacAuth | BearerAuth,
        redis: Redis,
        *,
        rate_limit_per_minute: int = PER_MINUTE,
        rate_limit_per_hour: int = PER_HOUR,
        ip_rate_limit_per_minute: int = IP_PER_MINUTE,
        ip_rate_limit_per_hour: int = IP_PER_HOUR,
        rate_window_seconds: float = MINUTE_SECONDS,
        limiter: SharedRateLimiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        settle_seconds: float = 5.0,
        catalog_ttl: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
        api_prefix: str = API_PREFIX,
    ) -> None:
        self.base_url = base_url.rstrip("/") + api_prefix
        self.auth = auth
        # Every credential of the install leaves through the same IP, as far as Sambung can
        # tell; one bucket per Jurnal host.
        self.credential_key = auth.rate_limit_key
        self.ip_key = f"ip:{urlsplit(base_url).netloc}"
        self.minute_seconds = rate_window_seconds
        self.limiter = limiter or SharedRateLimiter.for_jurnal(
            redis,
            credential=self.credential_key,
            ip=self.ip_key,
            per_minute=rate_limit_per_minute,
            per_hour=rate_limit_per_hour,
            ip_per_minute=ip_rate_limit_per_minute,
            ip_per_hour=ip_rate_limit_per_hour,
            minute_seconds=rate_window_seconds,
            clock=clock,
            sleep=sleep,
        )
        self.lease: Lease | None = None
        self.timeout = timeout
        self.max_attempts = max(max_attempts, 1)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.settle_seconds = settle_seconds
        self.catalog_ttl = catalog_ttl
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.session = session or requests.Session()
        self._catalogs: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._catalog_lock = threading.Lock()

    @classmethod
    def with_hmac(
        cls,
        base_url: str,
        client_id: str,
        client_secret: str,
        redis: Redis,
        *,
        clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> JurnalClient:
        auth = HmacAuth(client_id, client_secret, clock=clock)
        return cls(base_url, auth, redis, clock=clock, **options)

    def holding(self, lease: Lease) -> JurnalClient:
        """This client for a caller that holds `lease`: the same session, caches and budget,
        but every request first proves the lease, which stays alive through every wait."""
        view = copy.copy(self)
        view.lease = lease
        return view

    # -- reading ----------------------------------------------------------------------------

    def company(self) -> dict[str, Any]:
        """`GET /companies/active`: the credential's company, package and default accounts."""
        answer: dict[str, Any] = self._send("GET", "/companies/active")
        return answer

    def get(self, path: str, reference: str | int) -> dict[str, Any]:
        """By numeric id, or where Jurnal allows it by `custom_id` (invoices also by number)."""
        info = resource(path)
        return _unwrap(info, self._send("GET", f"/{info.path}/{_quoted(reference)}"))

    def find_by_custom_id(
        self, path: str, custom_id: str, *, fresh: bool = False
    ) -> dict[str, Any] | None:
        """The document with this `custom_id`, or None. A loaded catalog answers first unless
        `fresh`; customers, which Jurnal cannot fetch by custom id, are found by listing."""
        info = resource(path)
        if not fresh:
            cached = self._catalog_match(info, "custom_id", custom_id)
            if cached is not None:
                return cached
        if not info.get_by_custom_id:
            rows = self.catalog(path, refresh=True)
            return next((r for r in rows if str(r.get("custom_id")) == str(custom_id)), None)
        try:
            return self.get(path, custom_id)
        except JurnalNotFound:
            return None

    def find_by_name(self, path: str, name: str, *, refresh: bool = False) -> dict[str, Any] | None:
        """By name (display name for customers, number for transactions), case-insensitively,
        from the cached catalog; a miss reloads it once in case it went stale."""
        info = resource(path)
        found = self._match(self.catalog(path, refresh=refresh), info.name_field, name)
        if found is None and not refresh:
            found = self._match(self.catalog(path, refresh=True), info.name_field, name)
        return found

    def catalog(self, path: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        """Every document of a resource, cached for `catalog_ttl` seconds."""
        with self._catalog_lock:
            cached = self._catalogs.get(path)
            if cached and not refresh and self.clock() - cached[0] < self.catalog_ttl:
                return list(cached[1])
        rows = list(self.iterate(path))
        with self._catalog_lock:
            self._catalogs[path] = (self.clock(), rows)
        return list(rows)

    def list_page(
        self, path: str, page: int = 1, page_size: int = MAX_PAGE_SIZE, **params: Any
    ) -> Page:
        info = resource(path)
        query = {**params}
        if info.paged:
            query.update(page=page, page_size=min(page_size, MAX_PAGE_SIZE))
            if path in STABLE_SORT and "sort_key" not in query:
                query.update(sort_key=STABLE_SORT[path], sort_order="asc")
        answer = self._send("GET", f"/{info.path}", params=query)
        rows = [_row(info, row) for row in answer.get(info.plural_root) or []]
        return Page(
            rows=rows,
            page=int(answer.get("current_page") or page),
            total_pages=int(answer.get("total_pages") or 1),
            total_count=int(answer.get("total_count") or len(rows)),
        )

    def iterate(
        self, path: str, *, page_size: int = MAX_PAGE_SIZE, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Every row of a list, page after page."""
        page_number = 1
        while True:
            page = self.list_page(path, page_number, page_size, **params)
            yield from page.rows
            if not resource(path).paged or page_number >= page.total_pages or not page.rows:
                return
            page_number += 1

    def invoice_payments(self, reference: str | int) -> list[dict[str, Any]]:
        answer = self._send("GET", f"/sales_invoices/{_quoted(reference)}/receive_payments")
        return [_row(resource("receive_payments"), r) for r in answer.get("receive_payments", [])]

    # -- writing ----------------------------------------------------------------------------

    def create(self, path: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create once (see `create_document`) and answer the document."""
        return self.create_document(path, fields).document

    def create_document(self, path: str, fields: Mapping[str, Any]) -> CreateOutcome:
        """POST the object (without its root); never re-post before looking it up by its
        `custom_id` when an earlier attempt's outcome is unknown."""
        info = resource(path)
        custom_id = fields.get("custom_id")
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._send(
                    "POST", f"/{info.path}", body={info.singular: fields}, retry_unknown=False
                )
            except JurnalDuplicate as duplicate:
                return CreateOutcome(self._existing(info, duplicate, custom_id), False, False)
            except JurnalTransientError as unknown:
                if custom_id in (None, ""):
                    raise JurnalUnknownOutcome(
                        f"{path} create had no custom_id to look up: {unknown}",
                        status=unknown.status,
                        request=unknown.request,
                    ) from unknown
                log.warning("create %s %s: %s; looking it up", path, custom_id, unknown)
                self._pause(max(self.settle_seconds, self._backoff(attempt)))
                found = self.find_by_custom_id(path, str(custom_id), fresh=True)
                if found is not None:
                    self._remember(info, found)
                    return CreateOutcome(found, True, True)
                if attempt >= self.max_attempts:
                    raise  # known not to exist: safe to try again later
                continue
            document = _unwrap(info, answer)
            self._remember(info, document)
            return CreateOutcome(document, True, False)

    def update(self, path: str, reference: str | int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH: Jurnal takes the fields sent and keeps the rest; safe to repeat."""
        info = resource(path)
        answer = self._send(
            "PATCH", f"/{info.path}/{_quoted(reference)}", body={info.singular: fields}
        )
        document = _unwrap(info, answer)
        self._remember(info, document)
        return document

    def delete(self, path: str, reference: str | int) -> None:
        """DELETE; a retry after a lost answer that finds the document gone counts as done."""
        info = resource(path)
        self._send("DELETE", f"/{info.path}/{_quoted(reference)}", gone_is_done=True)
        with self._catalog_lock:
            if info.path in self._catalogs:
                loaded_at, rows = self._catalogs[info.path]
                kept = [
                    r
                    for r in rows
                    if str(r.get("id")) != str(reference)
                    and str(r.get("custom_id")) != str(reference)
                ]
                self._catalogs[info.path] = (loaded_at, kept)

    # -- transport --------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_unknown: bool = True,
        gone_is_done: bool = False,
    ) -> Any:
        """One logical request. 429 is always retried (the gateway refused it before Jurnal saw
        it); timeouts, dropped connections and 5xx only when `retry_unknown`."""
        url = self.base_url + path
        data = None if body is None else json.dumps(body, cls=_Encoder).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        label = f"{method} {path}"
        retried_unknown = False
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire(self._keep_alive, max_sleep=self._longest_sleep)
            if self.lease is not None:
                self.lease.ensure_held()  # after the grant, right before the request
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self.auth,
                    timeout=self.timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                failure: JurnalError = JurnalTransientError(
                    f"no answer ({type(exc).__name__})", request=label
                )
            else:
                if response.status_code == 429:
                    failure = JurnalRateLimited(_message(response), status=429, request=label)
                    self._hold_off_after(response)
                    if attempt < self.max_attempts:
                        log.info("%s: rate limited, waiting for Jurnal's next window", label)
                        continue
                    raise failure
                if response.status_code < 500:
                    try:
                        return _answer(response, label)
                    except JurnalNotFound:
                        if gone_is_done and retried_unknown:
                            return None
                        raise
                failure = JurnalTransientError(
                    _message(response),
                    status=response.status_code,
                    body=_body(response),
                    request=label,
                )
            if not retry_unknown or attempt == self.max_attempts:
                raise failure
            retried_unknown = True
            delay = self._backoff(attempt)
            log.info("%s: %s; retrying in %.2fs", label, failure, delay)
            self._pause(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential, with equal jitter so concurrent workers spread out."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _hold_off_after(self, response: requests.Response) -> None:
        """Jurnal's windows reset on the minute and the hour, plus the jitter margin. The
        credential's remaining counts tell which limit was hit: its hour, its minute, or (with
        room in both) the IP's; without them every bucket waits for the next minute."""
        minute = self.minute_seconds
        remaining_minute = _header_int(response, "X-RateLimit-Remaining-Minute")
        remaining_hour = _header_int(response, "X-RateLimit-Remaining-Hour")
        window, keys = minute, None
        if remaining_hour == 0:
            window, keys = minute * 60, [self.credential_key]
        elif remaining_minute == 0:
            keys = [self.credential_key]
        elif remaining_minute is not None and remaining_hour is not None:
            keys = [self.ip_key]
        until = math.floor(self.clock() / window + 1) * window + jitter_margin(minute)
        self.limiter.hold_off(until, keys)

    @property
    def _longest_sleep(self) -> float:
        return math.inf if self.lease is None else self.lease.renew_every

    def _keep_alive(self) -> None:
        if self.lease is not None:
            self.lease.ensure_held()

    def _pause(self, seconds: float) -> None:
        """Sleep, keeping the lease (if any) alive."""
        while seconds > 0:
            chunk = min(seconds, self._longest_sleep)
            self._keep_alive()
            self.sleep(chunk)
            seconds -= chunk

    # -- helpers ----------------------------------------------------------------------------

    def _existing(
        self, info: ResourceInfo, duplicate: JurnalDuplicate, custom_id: object
    ) -> dict[str, Any]:
        """The document a 409 points at — if it is ours. A taken `transaction_no` on another
        document is a real conflict and is raised."""
        if custom_id in (None, ""):
            raise duplicate
        document = (
            self.get(info.path, duplicate.existing_id)
            if duplicate.existing_id is not None
            else self.find_by_custom_id(info.path, str(custom_id), fresh=True)
        )
        if document is None or str(document.get("custom_id")) != str(custom_id):
            raise duplicate
        self._remember(info, document)
        return document

    def _remember(self, info: ResourceInfo, document: dict[str, Any]) -> None:
        with self._catalog_lock:
            if info.path not in self._catalogs:
                return
            loaded_at, rows = self._catalogs[info.path]
            kept = [r for r in rows if r.get("id") != document.get("id")]
            self._catalogs[info.path] = (loaded_at, [*kept, document])

    def _catalog_match(self, info: ResourceInfo, field: str, value: str) -> dict[str, Any] | None:
        with self._catalog_lock:
            cached = self._catalogs.get(info.path)
            if not cached or self.clock() - cached[0] >= self.catalog_ttl:
                return None
            rows = cached[1]
        return next((r for r in rows if str(r.get(field)) == str(value)), None)

    @staticmethod
    def _match(rows: list[dict[str, Any]], field: str, value: str) -> dict[str, Any] | None:
        wanted = value.casefold()
        return next((r for r in rows if str(r.get(field, "")).casefold() == wanted), None)


def _quoted(reference: str | int) -> str:
    # A custom id may hold `/` or `#`; both must reach Jurnal encoded (§9).
    return quote(str(reference), safe="")


def _unwrap(info: ResourceInfo, answer: Any) -> dict[str, Any]:
    """Single answers come under their root, or bare (payment methods, product units)."""
    if isinstance(answer, dict) and isinstance(answer.get(info.single_root), dict):
        document: dict[str, Any] = answer[info.single_root]
        return document
    if isinstance(answer, dict):
        return answer
    raise JurnalError(f"unexpected answer for {info.path}: {answer!r}")


def _row(info: ResourceInfo, row: Any) -> dict[str, Any]:
    """List rows may be wrapped in their singular root too (§12)."""
    if isinstance(row, dict) and isinstance(row.get(info.singular), dict):
        inner: dict[str, Any] = row[info.singular]
        return inner
    return row if isinstance(row, dict) else {"value": row}


def _header_int(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def _body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return response.text


def _message(response: requests.Response) -> str:
    body = _body(response)
    if isinstance(body, dict):
        for key in ("message", "errors", "error"):
            if body.get(key):
                return str(body[key])
    return f"HTTP {response.status_code}" + (f": {body}" if isinstance(body, str) and body else "")


def _answer(response: requests.Response, label: str) -> Any:
    status = response.status_code
    body = _body(response)
    if 200 <= status < 300:
        return body
    message = _message(response)
    if status in (401, 403):
        raise JurnalAuthError(message, status=status, body=body, request=label)
    if status == 409:
        existing = body.get("id") if isinstance(body, dict) else None
        raise JurnalDuplicate(
            int(existing) if existing is not None else None, status=status, body=body, request=label
        )
    if status == 404 or (status == 422 and _is_not_found(body)):
        raise JurnalNotFound(message, status=status, body=body, request=label)
    if status in (400, 422):
        messages, fields = _validation(body)
        raise JurnalValidationError(messages, fields, status=status, body=body, request=label)
    raise JurnalError(message, status=status, body=body, request=label)


def _is_not_found(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    errors = body.get("errors", body.get("error"))
    texts = errors if isinstance(errors, list) else [errors]
    return any(isinstance(t, str) and "not found" in t.lower() for t in texts)


def _validation(body: Any) -> tuple[list[str], dict[str, Any]]:
    """`error_full_messages` when present, else whatever `errors`/`error` or the keys say."""
    if not isinstance(body, dict):
        return ([str(body)] if body else []), {}
    fields = {k: v for k, v in body.items() if k not in ("id", "error_full_messages")}
    full = body.get("error_full_messages")
    if isinstance(full, list) and full:
        return [str(m) for m in full], fields
    messages: list[str] = []
    for key, value in fields.items():
        values = value if isinstance(value, list) else [value]
        prefix = "" if key in ("errors", "error", "message") else f"{key} "
        messages += [f"{prefix}{v}" for v in values]
    return messages, fields
