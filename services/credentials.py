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
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

import requests

from clients.jurnal import JurnalAuthError, JurnalError, plan_of
from domain.audit import Action
from domain.errors import CompanyInvalid, CompanyNotFound, MasterDataNotSynced
from domain.log import RunKind
from domain.notifications import CREDENTIAL_REFUSED_MARK
from infra.api_tokens import Principal
from infra.bootstrap import Container
from jobs import dispatch
from projections import queries
from services import audit, notify
from services.connections import INTERACTIVE_TIMEOUT, UpstreamUnavailable, jurnal_client

log = logging.getLogger(__name__)
T = TypeVar("T")


def replace_credential(
    container: Container, caller: Principal, company_id: UUID, body: Mapping[str, Any]
) -> dict[str, Any]:
    if not caller.sees_company(company_id):
        raise CompanyNotFound(company_id)
    company = container.log.get_company(company_id)
    client_id, secret = body["jurnal_client_id"].strip(), body["jurnal_client_secret"]
    client = jurnal_client(
        container, client_id, secret, max_attempts=2, timeout=INTERACTIVE_TIMEOUT
    )
    try:
        active = _checked(client.company)
    finally:
        client.session.close()
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
        dispatch.lift_hold(container, setting.id)
        notify.unblock(container, setting.id)
        if container.log.has_unprocessed(setting.id):
            dispatch.wake_poster(container, setting.id)
        _rerun_refused(container, setting.id)
        resumed.append(setting.id)
    return resumed


def _rerun_refused(container: Container, setting_id: UUID) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for run in queries.sync_history(container, setting_id, limit=20):
        latest.setdefault(run["kind"], run)  # newest first
    for kind, run in latest.items():
        if CREDENTIAL_REFUSED_MARK not in (run.get("error") or ""):
            continue
        if kind == RunKind.MASTER_DATA:
            dispatch.request_master_data_sync(container, setting_id)
        elif kind == RunKind.TRANSACTIONS:
            # Before master data has synced, the master-data run above comes first.
            with contextlib.suppress(MasterDataNotSynced):
                dispatch.request_transactions_sync(container, setting_id)


def _checked(call: Callable[[], T]) -> T:
    try:
        return call()
    except JurnalAuthError:
        raise CompanyInvalid(
            {"jurnal_client_secret": "was refused by Jurnal; check the client id and secret"}
        ) from None
    except (JurnalError, requests.RequestException) as error:
        status = getattr(error, "status", None)
        answered = f"answered {status}" if status else "could not be reached"
        raise UpstreamUnavailable("jurnal", f"Jurnal {answered}; try again later") from None
