"""Companies: registering a Jurnal company (its API credential, checked with Jurnal first), the
operator's quota, and the company as the API shows it.

A refused credential is the input's fault (`CompanyInvalid`, naming the field); an unreachable
or failing Jurnal is `UpstreamUnavailable`. Nothing is stored unless Jurnal accepted the
credential.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

import requests

from clients.jurnal import JurnalAuthError, JurnalClient, JurnalError, plan_of
from domain.audit import Action
from domain.chart import Chart, chart_from_jurnal
from domain.errors import CompanyInvalid
from domain.settings import Company
from infra.bootstrap import Container
from services import audit
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
    with interactive_client(container, jurnal_client_id, jurnal_client_secret) as client:
        active = from_jurnal(client.company)
    company_id = container.log.register_company(
        name=name,
        jurnal_client_id=jurnal_client_id,
        jurnal_client_secret=jurnal_client_secret,
        package=plan_of(active),
    )
    company = container.log.get_company(company_id)
    audit.record(
        container, company.id, Action.COMPANY_ADDED, name=company.name,
        jurnal_client_id=company.jurnal_client_id, package=company.package.value,
    )  # fmt: skip
    log.info(
        "company registered",
        extra={"company_id": str(company_id), "jurnal_client_id": jurnal_client_id,
               "package": company.package.value},
    )  # fmt: skip
    return company


def set_quota(container: Container, company_id: UUID, quota: int) -> Company:
    before = container.log.get_company(company_id).quota
    container.log.set_quota(company_id, quota)
    company = container.log.get_company(company_id)
    if company.quota != before:
        audit.record(container, company_id, Action.QUOTA_CHANGED, quota=quota, was=before)
    return company


def company_chart(container: Container, company_id: UUID) -> Chart:
    """The company's chart of accounts and default accounts, read from Jurnal now (a setting's
    accounts are checked against it when the setting is made or changed)."""
    credentials = container.log.jurnal_credentials(company_id)
    with interactive_client(container, credentials.client_id, credentials.client_secret) as client:
        active = from_jurnal(client.company)
        rows = from_jurnal(lambda: list(client.iterate("accounts")))
    return chart_from_jurnal(rows, active)


def jurnal_catalogs(
    container: Container, company_id: UUID, paths: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of some of the company's Jurnal lists (accounts, tags...), read now, for a
    person waiting on a form."""
    credentials = container.log.jurnal_credentials(company_id)
    with interactive_client(container, credentials.client_id, credentials.client_secret) as client:
        return from_jurnal(lambda: {path: list(client.iterate(path)) for path in paths})


@contextmanager
def interactive_client(
    container: Container, client_id: str, client_secret: str
) -> Iterator[JurnalClient]:
    """A Jurnal client for a person waiting on the answer (few attempts, a short timeout),
    closed after use."""
    client = container.jurnal_client(
        client_id, client_secret, max_attempts=2, timeout=INTERACTIVE_TIMEOUT
    )
    try:
        yield client
    finally:
        client.session.close()


def from_jurnal(call: Callable[[], T]) -> T:
    """`call`: Jurnal's refusal is the input's fault, its failures `UpstreamUnavailable`."""
    try:
        return call()
    except JurnalAuthError:
        raise CompanyInvalid(
            {"jurnal_client_secret": "was refused by Jurnal; check the client id and secret"}
        ) from None
    except (JurnalError, requests.RequestException) as error:
        raise upstream_unavailable("Jurnal", error) from None
