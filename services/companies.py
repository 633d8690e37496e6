"""Companies: registering a Jurnal company (its API credential, checked with Jurnal first), the
operator's quota, and the company as the API shows it.

A refused credential is the input's fault (`CompanyInvalid`, naming the field); an unreachable
or failing Jurnal is `UpstreamUnavailable`. Nothing is stored unless Jurnal accepted the
credential.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import requests

from clients.jurnal import JurnalAuthError, JurnalError, plan_of
from domain.chart import Chart, chart_from_jurnal
from domain.errors import CompanyInvalid
from domain.settings import Company
from infra.bootstrap import Container
from services.errors import upstream_unavailable

log = logging.getLogger(__name__)

# Someone is waiting on the answer: fail fast rather than back off for minutes.
INTERACTIVE_TIMEOUT = 15.0

T = TypeVar("T")


def company_view(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "package": company.package.value,
        "quota": company.quota,
        "settings_used": len(company.setting_ids),
    }


def register_company(
    container: Container, *, name: str, jurnal_client_id: str, jurnal_client_secret: str
) -> Company:
    """Check the credential with `GET /companies/active`, then store the company with the
    package Jurnal reports."""
    client = container.jurnal_client(
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


def set_quota(container: Container, company_id: UUID, quota: int) -> Company:
    container.log.set_quota(company_id, quota)
    return container.log.get_company(company_id)


def company_chart(container: Container, company_id: UUID) -> Chart:
    """The company's chart of accounts and default accounts, read from Jurnal now (a setting's
    accounts are checked against it when the setting is made or changed)."""
    credentials = container.log.jurnal_credentials(company_id)
    client = container.jurnal_client(
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
        raise upstream_unavailable("Jurnal", error) from None
