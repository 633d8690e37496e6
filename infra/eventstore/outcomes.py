"""The outcome of posting each Jurnal document, by its `custom_id`: `DocumentPosted` or
`PostingFailed` in the setting's log, written with the next event of the document's outcome
stream, so that `posted_document` and `last_outcome` are one indexed read and recording the same
posting twice stores it once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent

from domain.errors import OutcomeInvalid
from domain.log import DocumentKind, DocumentPosted, PostingFailed, check_amounts
from infra.eventstore.base import StoreBase
from infra.eventstore.results import PostedDocument
from infra.eventstore.streams import OutcomeRecorded, next_event, outcome_stream_id


class Outcomes(StoreBase):
    # -- outcomes -------------------------------------------------------------------------------

    def record_posted(
        self,
        setting_id: UUID,
        *,
        kind: DocumentKind | str,
        custom_id: str,
        jurnal_id: str | int,
        moka_reference: str,
        resolves: int,
        run_id: UUID | None = None,
        amounts: Mapping[str, Any] | None = None,
        digest: str | None = None,
    ) -> int:
        """Record that a Jurnal document exists; return its log position. Recording the same
        document posted with the same Jurnal id (and `digest`) again stores nothing and returns
        the first. `amounts` are the document's totals by Jurnal's arithmetic
        (`domain.log.check_amounts`); `digest` fingerprints the body sent, so that master data
        is updated only when it changed."""
        fields = _outcome_fields(kind, custom_id, moka_reference, resolves)
        checked_amounts = None if amounts is None else check_amounts(amounts)
        jurnal = str(jurnal_id).strip()
        if not jurnal:
            raise OutcomeInvalid({"jurnal_id": "is required"})

        def attempt() -> int:
            marker, last = self._outcome_marker(setting_id, custom_id)
            if (
                isinstance(last, OutcomeRecorded)
                and last.posted
                and last.jurnal_id == jurnal
                and last.digest == digest
            ):
                return last.position
            posted = self._next_log_event(
                DocumentPosted,
                setting_id,
                jurnal_id=jurnal,
                run_id=run_id,
                amounts=checked_amounts,
                **fields,
            )
            self.events.put([marker(posted.position, True, jurnal, digest), posted])
            return posted.position

        return self._retrying(attempt)

    def record_failed(
        self,
        setting_id: UUID,
        *,
        kind: DocumentKind | str,
        custom_id: str,
        error_class: str,
        message: str,
        retryable: bool,
        moka_reference: str,
        resolves: int,
        run_id: UUID | None = None,
    ) -> int:
        """Record that posting a document failed; return its log position. Every failure is
        kept (a replay that fails again is news), unlike repeated `record_posted`."""
        fields = _outcome_fields(kind, custom_id, moka_reference, resolves)
        missing = {name: "is required" for name, text in (("error_class", error_class),
                   ("message", message)) if not text.strip()}  # fmt: skip
        if missing:
            raise OutcomeInvalid(missing)

        def attempt() -> int:
            marker, _ = self._outcome_marker(setting_id, custom_id)
            failed = self._next_log_event(
                PostingFailed,
                setting_id,
                error_class=error_class,
                message=message,
                retryable=bool(retryable),
                run_id=run_id,
                **fields,
            )
            self.events.put([marker(failed.position, False, None), failed])
            return failed.position

        return self._retrying(attempt)

    def posted_document(self, setting_id: UUID, custom_id: str) -> PostedDocument | None:
        """The Jurnal id and body digest of a document whose latest outcome is "posted"; None
        when it was never posted or its latest attempt failed. One indexed read."""
        last = self._last(outcome_stream_id(setting_id, custom_id))
        if isinstance(last, OutcomeRecorded) and last.posted and last.jurnal_id:
            return PostedDocument(last.jurnal_id, last.digest)
        return None

    def last_outcome(
        self, setting_id: UUID, custom_id: str
    ) -> DocumentPosted | PostingFailed | None:
        """The latest outcome recorded for a document, by its `custom_id`; None if none yet."""
        last = self._last(outcome_stream_id(setting_id, custom_id))
        if not isinstance(last, OutcomeRecorded):
            return None
        event = self.read(setting_id, after=last.position - 1, limit=1)[0]
        assert isinstance(event, (DocumentPosted, PostingFailed))
        return event

    def _outcome_marker(
        self, setting_id: UUID, custom_id: str
    ) -> tuple[Callable[..., OutcomeRecorded], DomainEvent | None]:
        stream = outcome_stream_id(setting_id, custom_id)
        last = self._last(stream)

        def marker(
            position: int, posted: bool, jurnal_id: str | None, digest: str | None = None
        ) -> OutcomeRecorded:
            return next_event(
                OutcomeRecorded,
                stream,
                last,
                position=position,
                posted=posted,
                jurnal_id=jurnal_id,
                digest=digest,
            )

        return marker, last


def _outcome_fields(
    kind: DocumentKind | str, custom_id: str, moka_reference: str, resolves: int
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    try:
        checked_kind = DocumentKind(kind).value
    except ValueError:
        errors["kind"] = f"must be one of {', '.join(DocumentKind)}"
    if not isinstance(custom_id, str) or not custom_id.strip():
        errors["custom_id"] = "is required"
    if not isinstance(moka_reference, str) or not moka_reference.strip():
        errors["moka_reference"] = "is required"
    if isinstance(resolves, bool) or not isinstance(resolves, int) or resolves < 1:
        errors["resolves"] = "must be the position (1 or more) of the event it resolves"
    if errors:
        raise OutcomeInvalid(errors)
    return {
        "kind": checked_kind,
        "custom_id": custom_id,
        "moka_reference": moka_reference,
        "resolves": resolves,
    }
