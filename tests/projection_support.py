"""Helpers for the projection tests: a setting, Moka payments, and the sync engine simulated
faithfully through the EventLog API (request a run, record each outcome with the run's id,
finish with the counts the engine would report)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.log import DocumentKind, RunStatus, run_status
from infra.bootstrap import Container
from infra.eventlog import EventLog
from infra.readmodel_schema import TABLES, TRACKING_TABLE

WIB = timezone(timedelta(hours=7))
DAY = date(2024, 5, 2)
NEXT_DAY = date(2024, 5, 3)
# A payment failure's cause, as the engine words it.
OVO = "no deposit account mapped for OVO"


def make_setting(
    log: EventLog, *, outlet_id: str = "4522", name: str = "Outlet Jakarta Selatan", **fields: Any
) -> UUID:
    company = log.register_company(
        name=f"PT {name}",
        jurnal_client_id="client-id",
        jurnal_client_secret="jurnal-secret",
        package="Enterprise",
    )
    connection = log.connect_moka(
        company_id=company,
        email="owner@example.com",
        business_id=9,
        outlets={int(outlet_id): name},
        access_token="moka-access",
        refresh_token="moka-refresh",
    )
    values = {
        "start_date": date(2024, 5, 1),
        "default_customer": "Pelanggan Umum",
        "sales_account": "4-40000",
        "purchase_account": "5-50000",
        **fields,
    }
    return log.create_setting(
        company_id=company,
        moka_connection_id=connection,
        outlet_id=outlet_id,
        name=name,
        **values,
    )


def synced_setting(log: EventLog, **fields: Any) -> UUID:
    """A setting whose master data has synced once (empty), so transaction runs are allowed."""
    setting_id = make_setting(log, **fields)
    EngineRun(log, setting_id, kind="master_data").finish()
    return setting_id


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), WIB).isoformat()


def sale(
    number: int,
    *,
    day: date = DAY,
    hour: int = 10,
    total: str = "92000",
    tax: str = "9200",
    payment_type: str = "cash",
    refunds: Sequence[dict[str, Any]] = (),
    updated_minute: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """A v3 payment with the header fields reconciliation reads; amounts as Moka's floats."""
    return {
        "id": f"pay-{number}",
        "payment_no": f"P{number:05d}",
        "created_at": at(day, hour),
        "updated_at": at(day, hour, updated_minute),
        "payment_type": payment_type,
        "subtotal": float(Decimal(total) - Decimal(tax)),
        "taxes": float(Decimal(tax)),
        "total_collected": float(Decimal(total)),
        "payment_refunds": list(refunds),
        **fields,
    }


def refund(number: int, *, day: date = DAY, hour: int = 15, total: str, tax: str) -> dict[str, Any]:
    """A nested refund, signed as Moka signs it (negative money, positive refund_amount)."""
    return {
        "uuid": f"refund-{number}",
        "created_at": at(day, hour),
        "total_collected_amount": -float(Decimal(total)),
        "total_tax_amount": -float(Decimal(tax)),
        "refund_amount": float(Decimal(total)),
    }


def invoice_amounts(payment: dict[str, Any], **changes: str) -> dict[str, str]:
    """What a faithful engine records for the sale's invoice: Jurnal's total and tax equal to
    Moka's, paid at creation unless Moka sold it on an invoice."""
    total = str(Decimal(str(payment["total_collected"])))
    amounts = {
        "total": total,
        "tax": str(Decimal(str(payment["taxes"]))),
        "paid": "0" if payment["payment_type"] == "invoice" else total,
        "business_date": datetime.fromisoformat(payment["created_at"]).date().isoformat(),
    }
    return {**amounts, **changes}


def return_amounts(refund_row: dict[str, Any]) -> dict[str, str]:
    return {
        "total": str(Decimal(str(refund_row["refund_amount"]))),
        "tax": str(-Decimal(str(refund_row["total_tax_amount"]))),
        "business_date": datetime.fromisoformat(refund_row["created_at"]).date().isoformat(),
    }


class EngineRun:
    """One run as the sync engine records it."""

    def __init__(
        self, log: EventLog, setting_id: UUID, kind: str = "transactions", method: str = "Manual"
    ) -> None:
        self.log = log
        self.setting_id = setting_id
        self.run_id = log.request_run(setting_id, kind, method).run_id
        self.counts: dict[str, dict[str, int]] = {}

    def _count(self, kind: str, synced: bool) -> None:
        count = self.counts.setdefault(DocumentKind(kind).summary_key, {"synced": 0, "total": 0})
        count["total"] += 1
        count["synced"] += int(synced)

    def posted(
        self,
        kind: str,
        reference: str,
        resolves: int,
        *,
        custom_id: str | None = None,
        amounts: dict[str, str] | None = None,
        jurnal_id: str | None = None,
    ) -> int:
        self._count(kind, True)
        return self.log.record_posted(
            self.setting_id,
            kind=kind,
            custom_id=custom_id or f"moka-{kind}-{reference}",
            jurnal_id=jurnal_id or f"j-{kind}-{reference}",
            moka_reference=reference,
            resolves=resolves,
            run_id=self.run_id,
            amounts=amounts,
        )

    def failed(
        self,
        kind: str,
        reference: str,
        resolves: int,
        message: str,
        *,
        error_class: str = "MappingError",
        custom_id: str | None = None,
    ) -> int:
        self._count(kind, False)
        return self.log.record_failed(
            self.setting_id,
            kind=kind,
            custom_id=custom_id or f"moka-{kind}-{reference}",
            error_class=error_class,
            message=message,
            retryable=False,
            moka_reference=reference,
            resolves=resolves,
            run_id=self.run_id,
        )

    def finish(self, *, error: str | None = None) -> RunStatus:
        status = run_status(self.counts, aborted=error is not None)
        self.log.finish_run(self.run_id, status=status, counts=self.counts, error=error)
        return status


def canonical_dump(container: Container) -> str:
    """Every row of every view, in a fixed order, as one string."""
    db = container.views.db()
    dump = {}
    for table in (*TABLES, TRACKING_TABLE):
        rows = db.all(f"SELECT * FROM {table}")
        dump[table] = sorted(rows, key=lambda row: json.dumps(row, default=str))
    return json.dumps(dump, default=str, sort_keys=True)
