"""Who may see what: the caller's reach, checked before a view calls its use case.

An operator's token sees everything; a company's token sees its own company and what hangs off
it (Moka connections, settings, runs, events). Anything else raises the same `NotFound` an
unknown id would, so ids of other companies cannot be probed. Each check returns what it looked
up, so the view can hand it on.
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import (
    CompanyNotFound,
    MokaConnectionInvalid,
    MokaConnectionNotFound,
    RunNotFound,
    SettingNotFound,
)
from domain.settings import Company, MokaConnection, Setting
from infra.api_tokens import Principal
from infra.bootstrap import Container
from services.errors import NotAuthenticated


def company(container: Container, caller: Principal, company_id: UUID) -> Company:
    if not caller.sees_company(company_id):
        raise CompanyNotFound(company_id)
    return container.log.get_company(company_id)


def companies(container: Container, caller: Principal) -> list[Company]:
    if caller.admin:
        return container.log.list_companies()
    assert caller.company_id is not None
    return [container.log.get_company(caller.company_id)]


def connection(container: Container, caller: Principal, connection_id: UUID) -> MokaConnection:
    found = container.log.get_moka_connection(connection_id)
    if not caller.sees_company(found.company_id):
        raise MokaConnectionNotFound(connection_id)
    return found


def setting(container: Container, caller: Principal, setting_id: UUID) -> Setting:
    found = container.log.get_setting(setting_id)
    if not caller.sees_company(found.company_id):
        raise SettingNotFound(setting_id)
    return found


def settings(container: Container, caller: Principal) -> list[Setting]:
    """The caller's live settings."""
    return container.log.list_settings(None if caller.admin else caller.company_id)


def settings_named(
    container: Container, caller: Principal, setting_ids: list[UUID] | None
) -> list[UUID]:
    """The named settings (default: all the caller's), each once; an id the caller cannot see
    refuses the whole request before anything starts."""
    if setting_ids is None:
        return [s.id for s in settings(container, caller)]
    return [setting(container, caller, s).id for s in dict.fromkeys(setting_ids)]


def run_setting(container: Container, caller: Principal, run_id: UUID, setting_id: UUID) -> None:
    """A run of another company's setting is not found, like an unknown one."""
    found = container.log.get_setting(setting_id, include_deleted=True)
    if not caller.sees_company(found.company_id):
        raise RunNotFound(run_id)


def callback_company(container: Container, caller: Principal | None, given: UUID | None) -> UUID:
    """The company of a Moka callback without `state` (an install from Moka's App Market,
    reference §2): the caller must show a token, and the company is `given` or the token's."""
    if caller is None:
        raise NotAuthenticated("a callback without state needs a bearer token")
    company_id = given or caller.company_id
    if company_id is None:
        raise MokaConnectionInvalid({"company_id": "is required when the callback has no state"})
    return company(container, caller, company_id).id
