"""The answers Jurnal gives when it refuses a request, as exceptions the views raise.

Bodies follow `reference/jurnal-api.md` §4: validation is 422 with field keys, `"id": null` and
`error_full_messages`; a missing document is 422 `{"errors": "Data not found."}` (Jurnal has no
404 for those); a repeated `custom_id` is 409 carrying the existing document's id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable


class JurnalRefusal(Exception, ABC):
    """Anything the sandbox answers with an error status and a JSON body."""

    status = 422

    @abstractmethod
    def body(self) -> dict[str, object]:
        """The JSON body of the answer."""


def humanize(field: str) -> str:
    """Rails' humanised attribute name: dots and underscores to spaces, a trailing `_id` dropped,
    first letter capitalised (`custom_id` → `Custom`, `transaction_lines.amount` →
    `Transaction lines amount`)."""
    name = field.removesuffix("_id").replace(".", " ").replace("_", " ").strip()
    return name[:1].upper() + name[1:]


class Invalid(JurnalRefusal):
    """422 validation failure. `fields` hold Rails-style field messages; `base` holds messages
    Jurnal reports only in `error_full_messages` (no field key)."""

    def __init__(self, fields: dict[str, str] | None = None, base: Iterable[str] = ()) -> None:
        self.fields = dict(fields or {})
        self.base = list(base)
        super().__init__("; ".join(self.full_messages()))

    @classmethod
    def field(cls, name: str, message: str) -> Invalid:
        return cls({name: message})

    @classmethod
    def message(cls, *messages: str) -> Invalid:
        return cls(base=messages)

    def full_messages(self) -> list[str]:
        fields = [f"{humanize(name)} {text}" for name, text in self.fields.items()]
        return fields + self.base

    def body(self) -> dict[str, object]:
        return {**self.fields, "id": None, "error_full_messages": self.full_messages()}


class Problems:
    """Collects validation problems so one answer reports them all, as Jurnal does."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.base: list[str] = []

    def field(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def message(self, message: str) -> None:
        if message not in self.base:
            self.base.append(message)

    def absorb(self, invalid: Invalid) -> None:
        for name, message in invalid.fields.items():
            self.field(name, message)
        for message in invalid.base:
            self.message(message)

    def __bool__(self) -> bool:
        return bool(self.fields or self.base)

    def raise_any(self) -> None:
        if self:
            raise Invalid(self.fields, self.base)


class NotFound(JurnalRefusal):
    def body(self) -> dict[str, object]:
        return {"errors": "Data not found."}


class Duplicate(JurnalRefusal):
    """409 for a single create whose `custom_id` (or `transaction_no`) is taken."""

    status = 409

    def __init__(self, existing_id: int, fields: dict[str, str]) -> None:
        self.existing_id = existing_id
        self.fields = fields
        super().__init__(f"duplicate of {existing_id}")

    def body(self) -> dict[str, object]:
        messages = [f"{humanize(name)} {text}" for name, text in self.fields.items()]
        return {**self.fields, "id": self.existing_id, "error_full_messages": messages}


class MalformedBody(JurnalRefusal):
    status = 400

    def body(self) -> dict[str, object]:
        return {"errors": "Invalid HTTP parameters"}


CUSTOM_ID_TAKEN = "(Custom id attribute had already been used.)"
TRANSACTION_NO_TAKEN = "(Transaction number had already been used)"
MUST_BE_POSITIVE = "(Must be greater than 0)"
VALUE_MUST_BE_POSITIVE = "(Value must be greater than 0.)"
OVERPAID = "(Value received cannot be greater than remaining balance.)"
