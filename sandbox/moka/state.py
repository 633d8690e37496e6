"""The Moka sandbox's state: businesses with their outlets, library, customers and payments;
OAuth grants and tokens; switches and faults. Every method takes one lock, so the Flask
threads, the control API and the tests can share one `MokaSandbox`.

Switches where the real API is unknown (reference §15) live in `Settings`, each documented.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sandbox.moka.formats import WIB
from sandbox.moka.generator import GeneratedOutlet, generate_outlet
from sandbox.moka.inconsistencies import break_payments
from sandbox.moka.payments import Ids, PaymentContext
from sandbox.moka.refunds import apply_refund_bump
from sandbox.moka.webhooks import WebhookDispatcher, WebhookPolicy

Json = dict[str, Any]

DEFAULT_CLIENT_ID = "sandbox-moka-client"
DEFAULT_CLIENT_SECRET = "sandbox-moka-secret"
DEFAULT_WEBHOOK_SECRET = "sandbox-webhook-secret"
ALL_SCOPES = ("profile", "report", "customer", "library", "transaction")
APP_SCOPES = (*ALL_SCOPES, "checkout", "checkout_api", "sales_type")
CODE_LIFETIME = 600


class ApiError(Exception):
    """An error in Moka's envelope (reference §3): `data` is `{}` or, for some, `null`."""

    def __init__(self, status: int, message: str, error_type: str, *, null_data: bool = False):
        super().__init__(message)
        self.status, self.message, self.error_type, self.null_data = (
            status,
            message,
            error_type,
            null_data,
        )

    def body(self) -> Json:
        return {
            "data": None if self.null_data else {},
            "meta": {
                "code": self.status,
                "error_message": self.message,
                "error_type": self.error_type,
            },
        }


def invalid_token() -> ApiError:
    return ApiError(401, "The access token is invalid", "Doorkeeper::OAuth::InvalidTokenResponse")


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "ApiErrors::ResourceNotFoundError")


def unprocessable(message: str) -> ApiError:
    return ApiError(422, message, "Exception")


def missing_param(name: str) -> ApiError:
    return ApiError(
        400, f"param is missing or the value is empty: {name}", "ActionController::ParameterMissing"
    )


class OAuthError(Exception):
    """A plain OAuth error body (no `meta`), e.g. `invalid_grant`."""

    DESCRIPTIONS = {
        "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not "
        "match the redirection URI used in the authorization request, or was issued to another "
        "client.",
        "invalid_client": "Client authentication failed due to unknown client, no client "
        "authentication included, or unsupported authentication method.",
        "unsupported_grant_type": "The authorization grant type is not supported by the "
        "authorization server.",
        "invalid_request": "The request is missing a required parameter, includes an unsupported "
        "parameter value, or is otherwise malformed.",
        "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    }

    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error, self.status = error, status

    def body(self) -> Json:
        return {"error": self.error, "error_description": self.DESCRIPTIONS[self.error]}


@dataclass
class Settings:
    """Switches for behaviour the reference marks unknown or inferred."""

    # Access-token lifetime in seconds (Moka: 180 days); tests shorten it.
    token_lifetime: int = 15_552_000
    # Doorkeeper's `refresh_token_revoked_on_use`: when on, a used refresh token stays valid
    # until the access token it produced is first used, so a client that lost the response
    # (or crashed before saving it) can refresh again. Off: revoked at once (reference §2).
    refresh_token_revoked_on_use: bool = False
    # Whether refreshing kills the previous access token (reference: probably not).
    revoke_access_token_on_refresh: bool = False
    # Invoices also appear in get_latest_transactions under their own UUID (§8.5).
    invoices_in_latest_transactions: bool = True
    # A refund moves its sale's `updated_at`, so that an `updated_at` window sees it. The
    # official example suggests it does not (§8.4), so by default it does not.
    refunds_bump_sale_updated_at: bool = False
    # `next_url` of latest transactions keeps every parameter the caller sent. Off (the
    # default), it carries only the official example's parameters (§4.2: per_page,
    # mobile_device, since, until, access_token), so `time_filter` and `reorder_type` are lost
    # by a client that follows it verbatim.
    next_url_keeps_filters: bool = False
    # `/v3/reports/invoices` answers `completed: true` and `next_url: ""` on every page although
    # it pages, as its example does (§4.1). On: `completed` and `next_url` tell the truth.
    invoices_report_paging_hints: bool = False
    # The sandbox's own invention (§8.5): later payments of an invoice appear as records in the
    # v3 payment's `invoice_payment_records` and the detail's `payment_records`. Off: only
    # `invoice_status`, `amount_pay` and `updated_at` show that an invoice was paid.
    invoice_payment_records: bool = True
    # A till that works offline: new payments reach the server (and the API) this many minutes
    # after their own `created_at`/`updated_at`; `synchronized_at` shows when.
    offline_delay_minutes: int = 0
    default_per_page: int = 50
    max_per_page: int = 1000
    # Customers come without totals (§4.1) and the server caps their page lower than asked.
    customers_max_per_page: int = 50
    # Default `time_filter` of get_latest_transactions, unknown in Moka (§4.2).
    default_time_filter: str = "created_at"
    # Optional per-token request limit per minute, answered with the sync-bills 429 (§11).
    rate_limit_per_minute: int | None = None

    def update(self, changes: Mapping[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}")
            setattr(self, key, value)


@dataclass
class Faults:
    """Injected faults on API calls (not `/_sandbox`; on `/oauth` only the dropped answer)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    duplicate_webhook_rate: float = 0.0
    reorder_webhook_rate: float = 0.0
    # "Commit then drop the response" on `/oauth/token`: the next this-many successful answers
    # (new tokens issued, the old refresh token used up) never reach the client.
    drop_token_responses: int = 0


@dataclass
class OutletState:
    outlet: Json
    context: PaymentContext
    checkout_settings: Json
    categories: dict[int, Json]
    items: dict[int, Json]
    modifiers: dict[int, Json]
    discounts: dict[int, Json]
    taxes: dict[int, Json]
    gratuities: dict[int, Json]
    sales_types: dict[int, Json]
    payments: dict[str, Json] = field(default_factory=dict)
    expired: bool = False
    # Payments from a till that works offline: not on the server until this moment.
    arrives_at: dict[str, datetime] = field(default_factory=dict)

    def held(self, payment_id: str, now: datetime) -> bool:
        arrival = self.arrives_at.get(payment_id)
        return arrival is not None and arrival > now

    def served_payments(self, now: datetime) -> list[Json]:
        """The payments the server has received by `now`."""
        return [p for p in self.payments.values() if not self.held(p["id"], now)]

    @property
    def id(self) -> int:
        return int(self.outlet["id"])


@dataclass
class BusinessState:
    business: Json
    user: Json
    password: str
    customers: dict[int, Json]
    outlets: dict[int, OutletState]

    @property
    def id(self) -> int:
        return int(self.business["id"])


@dataclass
class AccessToken:
    token: str
    refresh_token: str
    business_id: int
    scopes: tuple[str, ...]
    created_at: int
    expires_in: int
    previous_refresh_token: str | None = None
    revoked: bool = False
    used: bool = False
    requests: list[float] = field(default_factory=list)

    def response(self) -> Json:
        return {
            "access_token": self.token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": " ".join(self.scopes),
            "created_at": self.created_at,
        }


@dataclass
class RefreshToken:
    token: str
    access_token: str
    revoked: bool = False
    # Under revoke-on-use: pairs minted from this token that were never used.
    unused_children: list[str] = field(default_factory=list)


@dataclass
class Grant:
    code: str
    client_id: str
    redirect_uri: str
    business_id: int
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


class MokaSandbox:
    """All state of one Moka fake. Safe to share between threads."""

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        settings: Settings | None = None,
        webhook_policy: WebhookPolicy | None = None,
        seed: int = 0,
        now: Callable[[], datetime] | None = None,
        redirect_uris: tuple[str, ...] = (),
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.webhook_secret = webhook_secret
        self.redirect_uris = redirect_uris
        self._initial_settings = settings or Settings()
        self.settings = Settings(**asdict(self._initial_settings))
        self.faults = Faults()
        self.now = now or (lambda: datetime.now(WIB))
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.lock = threading.RLock()
        self.webhooks = WebhookDispatcher(webhook_policy, rng=random.Random(seed + 1), now=self.now)
        self.businesses: dict[int, BusinessState] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.grants: dict[str, Grant] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> MokaSandbox:
        env = os.environ if environ is None else environ
        return cls(
            client_id=env.get("SANDBOX_MOKA_CLIENT_ID") or DEFAULT_CLIENT_ID,
            client_secret=env.get("SANDBOX_MOKA_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET,
            webhook_secret=env.get("MOKA_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET,
            **overrides,
        )

    @contextmanager
    def locked(self) -> Iterator[MokaSandbox]:
        with self.lock:
            yield self

    def epoch_now(self) -> float:
        return self.now().timestamp()

    # -- data -------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.businesses.clear()
            self.tokens.clear()
            self.refresh_tokens.clear()
            self.grants.clear()
            self.settings = Settings(**asdict(self._initial_settings))
            self.faults = Faults()
            self.webhooks.reset()
            self.apply_faults()

    def seed(
        self,
        seed: int,
        *,
        products: int = 430,
        customers: int = 130,
        days: int = 30,
        transactions_per_day: int = 100,
        start_date: date | None = None,
        inconsistent_rate: float = 0.0,
        email: str | None = None,
        password: str | None = None,
        **shape: Any,
    ) -> Json:
        """Generate an outlet (`shape`: the generator's `refund_rate`, `invoice_rate`,
        `deleted_products`), install it (replacing a business with the same id) and issue a
        token pair for its owner, as if the owner had connected the sandbox's app."""
        # The inconsistency switch is applied here, for all five kinds of §9.2.
        generated = generate_outlet(
            seed,
            products=products,
            customers=customers,
            days=days,
            transactions_per_day=transactions_per_day,
            start_date=start_date,
            email=email,
            **({"password": password} if password else {}),
            **shape,
        )
        with self.lock:
            broken = break_payments(
                generated.payments, random.Random(seed ^ 0x92), inconsistent_rate
            )
            if self.settings.refunds_bump_sale_updated_at:
                for payment in generated.payments:
                    for refund in payment["payment_refunds"]:
                        apply_refund_bump(payment, refund)
            business = self.install(generated)
            token = self.issue_tokens(business.id, ALL_SCOPES)
            return {
                "business_id": business.id,
                "outlet_ids": list(business.outlets),
                "email": generated.email,
                "password": generated.password,
                "access_token": token.token,
                "refresh_token": token.refresh_token,
                "inconsistent": broken,
            }

    def install(self, generated: GeneratedOutlet) -> BusinessState:
        def by_id(rows: list[Json]) -> dict[int, Json]:
            return {int(row["id"]): row for row in rows}

        outlet = OutletState(
            outlet=generated.outlet,
            context=generated.context,
            checkout_settings=generated.checkout_settings,
            categories=by_id(generated.categories),
            items=by_id(generated.items),
            modifiers=by_id(generated.modifiers),
            discounts=by_id(generated.discounts),
            taxes=by_id(generated.taxes),
            gratuities=by_id(generated.gratuities),
            sales_types=by_id(generated.sales_types),
            payments={p["id"]: p for p in generated.payments},
        )
        business = BusinessState(
            business=generated.business,
            user=generated.user,
            password=generated.password,
            customers=by_id(generated.customers),
            outlets={outlet.id: outlet},
        )
        with self.lock:
            self.businesses[business.id] = business
        return business

    def business(self, business_id: int) -> BusinessState:
        found = self.businesses.get(business_id)
        if found is None:
            raise not_found(f"Business {business_id} is not found")
        return found

    def outlet(self, outlet_id: int) -> tuple[BusinessState, OutletState]:
        for business in self.businesses.values():
            if outlet_id in business.outlets:
                return business, business.outlets[outlet_id]
        raise not_found(f"Outlet {outlet_id} is not found")

    def user_with(self, email: str, password: str) -> BusinessState | None:
        for business in self.businesses.values():
            if business.user["email"].lower() == email.strip().lower() and secrets.compare_digest(
                business.password, password
            ):
                return business
        return None

    # -- OAuth ------------------------------------------------------------------------------

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if client_id != self.client_id or not secrets.compare_digest(
            (client_secret or "").encode(), self.client_secret.encode()
        ):
            raise OAuthError("invalid_client", 401)

    def redirect_allowed(self, redirect_uri: str) -> bool:
        if not redirect_uri.startswith(("http://", "https://")):
            return False
        return not self.redirect_uris or redirect_uri in self.redirect_uris

    def grant(self, redirect_uri: str, business_id: int, scopes: tuple[str, ...]) -> str:
        with self.lock:
            code = secrets.token_hex(32)
            self.grants[code] = Grant(
                code, self.client_id, redirect_uri, business_id, scopes, time.time() + CODE_LIFETIME
            )
            return code

    def exchange_code(self, code: str, redirect_uri: str | None) -> Json:
        with self.lock:
            grant = self.grants.get(code)
            if (
                grant is None
                or grant.used
                or grant.expires_at < time.time()
                or grant.redirect_uri != redirect_uri
            ):
                raise OAuthError("invalid_grant", 401)
            grant.used = True
            return self.issue_tokens(grant.business_id, grant.scopes).response()

    def issue_tokens(
        self, business_id: int, scopes: tuple[str, ...], previous: str | None = None
    ) -> AccessToken:
        with self.lock:
            token = AccessToken(
                token=secrets.token_hex(32),
                refresh_token=secrets.token_hex(32),
                business_id=business_id,
                scopes=scopes,
                created_at=int(self.epoch_now()),
                expires_in=self.settings.token_lifetime,
                previous_refresh_token=previous,
            )
            self.tokens[token.token] = token
            self.refresh_tokens[token.refresh_token] = RefreshToken(
                token.refresh_token, token.token
            )
            return token

    def refresh(self, refresh_token: str) -> Json:
        with self.lock:
            record = self.refresh_tokens.get(refresh_token)
            if record is None or record.revoked:
                raise OAuthError("invalid_grant", 401)
            old = self.tokens[record.access_token]
            # Whatever token this one replaced is finished once its successor is refreshed.
            self._revoke_refresh(old.previous_refresh_token)
            if self.settings.refresh_token_revoked_on_use:
                # Pairs minted from this token but never used were lost by the client: void them.
                for child in record.unused_children:
                    self._revoke_access(child)
                new = self.issue_tokens(old.business_id, old.scopes, previous=refresh_token)
                record.unused_children = [new.token]
            else:
                record.revoked = True
                new = self.issue_tokens(old.business_id, old.scopes)
            if self.settings.revoke_access_token_on_refresh:
                old.revoked = True
            return new.response()

    def _revoke_refresh(self, refresh_token: str | None) -> None:
        if refresh_token and refresh_token in self.refresh_tokens:
            self.refresh_tokens[refresh_token].revoked = True

    def _revoke_access(self, access_token: str) -> None:
        token = self.tokens.get(access_token)
        if token is not None:
            token.revoked = True
            self._revoke_refresh(token.refresh_token)

    def revoke(self, token_value: str) -> None:
        """RFC 7009: an access or refresh token, with its pair; unknown tokens are ignored."""
        with self.lock:
            if token_value in self.tokens:
                self._revoke_access(token_value)
            elif token_value in self.refresh_tokens:
                self._revoke_access(self.refresh_tokens[token_value].access_token)

    def valid_token(self, token_value: str | None) -> AccessToken:
        """The live access token, marking it used (which, under revoke-on-use, finishes the
        rotation that produced it)."""
        with self.lock:
            token = self.tokens.get(token_value or "")
            if (
                token is None
                or token.revoked
                or token.created_at + token.expires_in <= self.epoch_now()
            ):
                raise invalid_token()
            if not token.used:
                token.used = True
                if token.previous_refresh_token:
                    previous = self.refresh_tokens.get(token.previous_refresh_token)
                    self._revoke_refresh(token.previous_refresh_token)
                    if previous is not None:
                        previous.unused_children = []
            return token

    def expire_tokens(self, access_token: str | None = None) -> int:
        """Age access tokens past their lifetime (all, or one): the "token expiry" fault."""
        with self.lock:
            chosen = [t for t in self.tokens.values() if access_token in (None, t.token)]
            for token in chosen:
                token.created_at = int(self.epoch_now()) - token.expires_in - 1
            return len(chosen)

    # -- faults -----------------------------------------------------------------------------

    def set_faults(self, changes: Mapping[str, Any]) -> Faults:
        with self.lock:
            known = {f.name for f in fields(Faults)}
            unknown = set(changes) - known
            if unknown:
                raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
            self.faults = Faults(**{**asdict(self.faults), **changes})
            self.apply_faults()
            return self.faults

    def apply_faults(self) -> None:
        policy = self.webhooks.policy
        policy.duplicate_rate = self.faults.duplicate_webhook_rate
        policy.reorder_rate = self.faults.reorder_webhook_rate

    def take_token_drop(self) -> bool:
        """Whether to drop this token answer (counting down `Faults.drop_token_responses`)."""
        with self.lock:
            if self.faults.drop_token_responses <= 0:
                return False
            self.faults.drop_token_responses -= 1
            return True

    def roll(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    def over_rate_limit(self, token: AccessToken) -> bool:
        limit = self.settings.rate_limit_per_minute
        if not limit:
            return False
        with self.lock:
            now = time.monotonic()
            token.requests = [t for t in token.requests if now - t < 60] + [now]
            return len(token.requests) > limit
