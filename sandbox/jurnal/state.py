"""The Jurnal sandbox's whole state: companies and their documents, credentials, faults, rate
limits and request counters, behind one lock because the server runs threaded.

Tests build a `JurnalSandbox`, hand it to `create_app`, and inspect or steer it directly or
through the `/_sandbox/` control API.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Invalid
from .faults import Faults
from .limits import (
    IP_PER_HOUR,
    IP_PER_MINUTE,
    MINUTE_SECONDS,
    PER_HOUR,
    PER_MINUTE,
    Limits,
    RateLimiter,
)
from .resources.base import Context
from .seed import check_chart, seed_company
from .store import Company

DEFAULT_CLIENT_ID = "sandbox-jurnal-client"
DEFAULT_CLIENT_SECRET = "sandbox-jurnal-secret"
DEFAULT_COMPANY_NAME = "Sambung Sandbox"
DEFAULT_PACKAGE = "Enterprise"
FIRST_ID = 1001


class JurnalSandbox:
    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        rate_limit_per_minute: int = PER_MINUTE,
        rate_limit_per_hour: int = PER_HOUR,
        ip_rate_limit_per_minute: int | None = IP_PER_MINUTE,
        ip_rate_limit_per_hour: int | None = IP_PER_HOUR,
        rate_window_seconds: float = MINUTE_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        seed: int = 0,
        timezone: str = "Asia/Jakarta",
        chart: str = "id",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.sleep = sleep
        self.zone = ZoneInfo(timezone)
        self._default_credential = (client_id, client_secret)
        self._initial_limits = _changed_limits(
            Limits(),
            {
                "rate_limit_per_minute": rate_limit_per_minute,
                "rate_limit_per_hour": rate_limit_per_hour,
                "ip_rate_limit_per_minute": ip_rate_limit_per_minute,
                "ip_rate_limit_per_hour": ip_rate_limit_per_hour,
            },
        )
        self._seed = seed
        self._default_chart = check_chart(chart)
        self.limiter = RateLimiter(clock, rate_window_seconds)
        self.reset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> JurnalSandbox:
        """The standalone sandbox: its default Enterprise company's credential comes from
        `SANDBOX_JURNAL_CLIENT_ID` and `SANDBOX_JURNAL_CLIENT_SECRET`, its chart from
        `SANDBOX_JURNAL_CHART` (`id`, the default, or `en`), the length of its minute from
        `JURNAL_RATE_WINDOW_SECONDS` (as Sambung's own budget does); the limits are Jurnal's
        documented ones."""
        env = os.environ if environ is None else environ
        options.setdefault("rate_window_seconds", window_from_env(env))
        return cls(
            client_id=env.get("SANDBOX_JURNAL_CLIENT_ID") or DEFAULT_CLIENT_ID,
            client_secret=env.get("SANDBOX_JURNAL_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET,
            chart=env.get("SANDBOX_JURNAL_CHART") or "id",
            **options,
        )

    # -- lifecycle --------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the boot state: the default company freshly seeded, no faults, the limits
        the sandbox was built with, no requests counted."""
        with self.lock:
            self._ids = itertools.count(FIRST_ID)
            self._company_ids = itertools.count(1)
            self.companies: dict[int, Company] = {}
            self.faults = Faults()
            self.faults_left: int | None = None
            self.limits = self._initial_limits
            self.rng = random.Random(self._seed)
            self.limiter.clear()
            self.requests: Counter[str] = Counter()
            client_id, secret = self._default_credential
            self.default_company = self.add_company(
                DEFAULT_COMPANY_NAME, DEFAULT_PACKAGE, client_id, secret, chart=self._default_chart
            )

    def add_company(
        self,
        name: str,
        package: str,
        client_id: str,
        client_secret: str,
        *,
        access_token: str | None = None,
        gating: str = "refuse",
        chart: str = "id",
        rules: Mapping[str, Any] | None = None,
    ) -> Company:
        if gating not in ("refuse", "ignore"):
            raise Invalid.field("gating", "(Must be refuse or ignore)")
        check_chart(chart)
        if not client_id or not client_secret:
            raise Invalid.field("client_id", "(A credential needs a client id and a secret)")
        with self.lock:
            for company in self.companies.values():
                if company.client_id == client_id:
                    raise Invalid.field("client_id", "(has already been taken)")
                if access_token and company.access_token == access_token:
                    raise Invalid.field("access_token", "(has already been taken)")
            company = Company(
                id=next(self._company_ids),
                name=name,
                package=package,
                client_id=client_id,
                client_secret=client_secret,
                access_token=access_token,
                gating=gating,
                chart=chart,
            )
            set_rules(company, rules or {})
            self.companies[company.id] = company
            seed_company(Context(self, company))
            return company

    # -- lookups ----------------------------------------------------------------------------

    def company(self, company_id: int) -> Company:
        found = self.companies.get(company_id)
        if found is None:
            raise Invalid.field("company", "(Company not found)")
        return found

    def company_by_client_id(self, client_id: str) -> Company | None:
        return next((c for c in self.companies.values() if c.client_id == client_id), None)

    def company_by_token(self, token: str) -> Company | None:
        return next((c for c in self.companies.values() if c.access_token == token), None)

    def context(self, company: Company) -> Context:
        return Context(self, company)

    # -- shared services --------------------------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    def roll(self, rate: float, method: str) -> bool:
        """One throw of the seeded fault dice for a request, within the faults' method filter
        and remaining limit."""
        if rate <= 0:
            return False
        with self.lock:
            faults = self.faults
            if not faults.applies_to(method) or self.faults_left == 0:
                return False
            fired = self.rng.random() < rate
            if fired and self.faults_left is not None:
                self.faults_left -= 1
            return fired

    def set_faults(self, settings: dict[str, Any]) -> None:
        with self.lock:
            self.faults = self.faults.changed(settings)
            self.faults_left = self.faults.limit
            if "seed" in settings:
                self.rng = random.Random(settings["seed"])
            self.limits = _changed_limits(self.limits, settings)

    def count_request(self, outcome: str) -> None:
        with self.lock:
            self.requests[outcome] += 1

    # -- reading the state ------------------------------------------------------------------

    def state(self, *, with_custom_ids: bool = False) -> dict[str, Any]:
        with self.lock:
            totals: Counter[str] = Counter()
            companies = {}
            for company in self.companies.values():
                counts = company.counts()
                totals.update(counts)
                entry: dict[str, Any] = {
                    "name": company.name,
                    "package": company.package,
                    "plan": company.plan,
                    "client_id": company.client_id,
                    "chart": company.chart,
                    **rules_of(company),
                    "counts": counts,
                }
                if with_custom_ids:
                    entry["custom_ids"] = {
                        name: collection.custom_id_counts()
                        for name, collection in company.collections.items()
                    }
                companies[str(company.id)] = entry
            return {
                "counts": {name: totals[name] for name in sorted(totals)},
                "requests": dict(sorted(self.requests.items())),
                "faults": {**self.faults.as_dict(), "left": self.faults_left},
                "limits": {**vars(self.limits), "rate_window_seconds": self.limiter.minute},
                "companies": companies,
            }


def window_from_env(env: Mapping[str, str]) -> float:
    """`JURNAL_RATE_WINDOW_SECONDS`: a positive number of seconds, 60 when unset."""
    raw = env.get("JURNAL_RATE_WINDOW_SECONDS")
    if not raw:
        return MINUTE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"JURNAL_RATE_WINDOW_SECONDS must be a positive number, not {raw!r}")
    return value


RULES = ("strict_names", "tax_account_defaults")


def set_rules(company: Company, rules: Mapping[str, Any]) -> None:
    """The company's switches for behaviour the reference leaves open (see `store.Company`)."""
    for name, value in rules.items():
        if name not in RULES:
            continue
        if not isinstance(value, bool):
            raise Invalid.field(name, "(Must be true or false)")
        setattr(company, name, value)


def rules_of(company: Company) -> dict[str, bool]:
    return {name: getattr(company, name) for name in RULES}


LIMIT_SETTINGS = {
    "rate_limit_per_minute": "per_minute",
    "rate_limit_per_hour": "per_hour",
    "ip_rate_limit_per_minute": "ip_per_minute",
    "ip_rate_limit_per_hour": "ip_per_hour",
    "monthly_limit": "monthly",
}


def _changed_limits(limits: Limits, settings: dict[str, Any]) -> Limits:
    """Credential limits must be positive; the IP and monthly limits may be null (off)."""
    values = vars(limits).copy()
    for setting, attribute in LIMIT_SETTINGS.items():
        if setting not in settings:
            continue
        value = settings[setting]
        optional = attribute not in ("per_minute", "per_hour")
        if value is None and optional:
            values[attribute] = None
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            values[attribute] = value
        else:
            raise Invalid.field(setting, "(Must be a positive whole number)")
    return Limits(**values)
