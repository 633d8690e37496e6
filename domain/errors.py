"""The errors the domain raises, typed so that each edge can answer them without parsing text.

Three families, one answer each at the HTTP edge:

- `Invalid` (422): the input breaks a rule; `fields` maps each offending field to a message.
- `NotFound` (404): no such company, setting, Moka connection or run (a deleted setting is gone).
- `Refused` (409): the input is fine but the current state forbids the command (quota full,
  master data not synced yet, run already finished).

Messages are written for the person who sent the request: they name the field and say what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from uuid import UUID


class DomainError(Exception):
    """Base of every rule the domain enforces."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def code_of(error: DomainError) -> str:
    """The error's code for machines: its class name in snake case (`ImmutableField` ->
    `immutable_field`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


# -- Invalid: 422 -----------------------------------------------------------------------------


class Invalid(DomainError):
    """The input breaks a rule. `fields` maps each offending field to what is wrong with it,
    phrased to follow the field's name: {"start_date": "must be a date, YYYY-MM-DD"}."""

    def __init__(self, fields: Mapping[str, str], subject: str = "input") -> None:
        self.fields = dict(fields)
        self.subject = subject
        super().__init__("; ".join(f"{name} {problem}" for name, problem in self.fields.items()))


class SettingInvalid(Invalid):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "setting")


class ImmutableField(SettingInvalid):
    """A field that is set once (start date, default customer, naming, outlet) was changed."""


class PlanRequired(SettingInvalid):
    """A field needs a higher Jurnal package (tag: Pro or Enterprise; warehouse: Enterprise)."""


class CompanyInvalid(Invalid):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "company")


class MokaConnectionInvalid(Invalid):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "Moka connection")


class MokaRecordInvalid(Invalid):
    """A Moka payment, item or customer lacks what the log needs to deduplicate it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "Moka record")


class RunInvalid(Invalid):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "sync run")


class OutcomeInvalid(Invalid):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields, "posting outcome")


# -- NotFound: 404 ----------------------------------------------------------------------------


class NotFound(DomainError):
    """No such thing. `kind` names what was looked for."""

    kind = "object"

    def __init__(self, object_id: UUID, message: str | None = None) -> None:
        self.object_id = object_id
        super().__init__(message or f"no {self.kind} with id {object_id}")


class CompanyNotFound(NotFound):
    kind = "company"


class SettingNotFound(NotFound):
    kind = "setting"


class SettingDeleted(SettingNotFound):
    """The setting existed and was deleted; its log stays, but it takes no more commands."""

    def __init__(self, object_id: UUID) -> None:
        super().__init__(object_id, f"setting {object_id} was deleted")


class MokaConnectionNotFound(NotFound):
    kind = "Moka connection"


class RunNotFound(NotFound):
    kind = "sync run"


# -- Refused: 409 -----------------------------------------------------------------------------


class Refused(DomainError):
    """The command is well formed but the current state forbids it."""


class QuotaExceeded(Refused):
    def __init__(self, company_id: UUID, quota: int) -> None:
        self.company_id = company_id
        self.quota = quota
        plural = "setting" if quota == 1 else "settings"
        super().__init__(
            f"company {company_id} already has its quota of {quota} {plural}; "
            "delete one or ask the operator to raise the quota"
        )


class MasterDataNotSynced(Refused):
    def __init__(self, setting_id: UUID) -> None:
        self.setting_id = setting_id
        super().__init__(
            f"setting {setting_id} has not completed a master-data sync yet; "
            "sync master data first, then transactions"
        )


class RunAlreadyFinished(Refused):
    def __init__(self, run_id: UUID) -> None:
        self.run_id = run_id
        super().__init__(f"sync run {run_id} has already finished")
