"""Replacing a company's Jurnal API credential, and resuming what the old one blocked.

The new credential is checked with Jurnal (`companies/active`) before anything is stored: a
refused one is the input's fault (`CompanyInvalid`, 422 naming `jurnal_client_secret`), an
unreachable Jurnal is `UpstreamUnavailable` (502), and in both cases the old credential stays.

Once it is stored, every live setting of the company resumes: its poster's hold (set while
Jurnal refused the old credential) is lifted and the poster woken, so the sales waiting in the
log post; a setting whose last run ended on the refused credential runs that sync again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from clients.jurnal import plan_of
from domain.audit import Action
from domain.errors import MasterDataNotSynced
from domain.log import RunKind
from domain.notifications import CREDENTIAL_REFUSED_MARK
from infra import queues
from infra.bootstrap import Container
from projections import queries
from services import audit, notify, syncing
from services.companies import from_jurnal, interactive_client

log = logging.getLogger(__name__)


def replace_credential(
    container: Container, company_id: UUID, body: Mapping[str, Any]
) -> dict[str, Any]:
    company = container.log.get_company(company_id)
    client_id, secret = body["jurnal_client_id"].strip(), body["jurnal_client_secret"]
    with interactive_client(container, client_id, secret) as client:
        active = from_jurnal(client.company)
    container.log.change_jurnal_credentials(
        company_id, jurnal_client_id=client_id, jurnal_client_secret=secret
    )
    container.log.record_package(company_id, plan_of(active))
    audit.record(
        container, company_id, Action.CREDENTIAL_REPLACED,
        jurnal_client_id=client_id, was=company.jurnal_client_id,
    )  # fmt: skip
    resumed = resume_settings(container, company_id)
    log.info("Jurnal credential replaced", extra={"company_id": str(company_id),
             "jurnal_client_id": client_id})  # fmt: skip
    return {
        "company_id": company_id,
        "jurnal_client_id": client_id,
        "package": container.log.get_company(company_id).package.value,
        "resumed_setting_ids": resumed,
    }


def resume_settings(container: Container, company_id: UUID) -> list[UUID]:
    """Wake every live setting of the company; run again the syncs the old credential failed."""
    resumed: list[UUID] = []
    for setting in container.log.list_settings(company_id):
        queues.lift_hold(container, setting.id)
        notify.unblock(container, setting.id)
        if container.log.has_unprocessed(setting.id):
            queues.wake_poster(container, setting.id)
        _rerun_refused(container, setting.id)
        resumed.append(setting.id)
    return resumed


def _rerun_refused(container: Container, setting_id: UUID) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for run in queries.sync_history(container.views, setting_id, limit=20):
        latest.setdefault(run["kind"], run)  # newest first
    for kind, run in latest.items():
        if CREDENTIAL_REFUSED_MARK not in (run.get("error") or ""):
            continue
        if kind == RunKind.MASTER_DATA:
            syncing.request_master_data_sync(container, setting_id)
        elif kind == RunKind.TRANSACTIONS:
            # Before master data has synced, the master-data run above comes first.
            with contextlib.suppress(MasterDataNotSynced):
                syncing.request_transactions_sync(container, setting_id)
