"""Replay: post again what the log already holds, after the cause of a failure was fixed.

Selects the setting's Moka payments by log position (`event_ids`), by sale time (`since`,
`until`, ISO datetimes or dates, in the setting's timezone) and/or only those with a document not
in Jurnal (`only_failed`), and runs them through the same poster as a webhook or a pull. Documents
already in Jurnal are skipped, so a replay can never duplicate. Each payment is replayed at its
latest revision in the log; a daily-summary setting's days in the selected range are replayed
per day (`jobs.summary`), failed summary documents included. A dry run returns the documents
that would be sent, writing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.log import PaymentReceived
from infra import bootstrap
from infra.bootstrap import Container
from jobs.engine import DryRun, Poster
from jobs.summary import SUMMARY_KEY, DayRange, SummaryPoster, log_events
from jobs.sync import post_under_lock
from services.plain import plain
from services.replay import replay_params


def replay(setting_id: str, run_id: str) -> dict[str, dict[str, int]]:
    """RQ job: replay a setting's payments as the run's params select them."""
    container = bootstrap.current()
    run = container.log.get_run(UUID(run_id))
    if run.finished:
        return run.counts
    selection = Selection.from_params(run.params, container.config.timezone)

    def post(poster: Poster) -> None:
        for position, payment in selected_payments(container, poster, selection):
            poster.post_payment(payment, resolves=position)
        replay_summaries(poster, selection)

    return post_under_lock(container, UUID(setting_id), UUID(run_id), post)


def preview(container: Container, setting_id: UUID, params: Mapping[str, Any]) -> Any:
    """The dry run of the API: params as the API takes them, the documents as JSON values."""
    return plain(dry_run(container, setting_id, replay_params(params)))


def dry_run(
    container: Container, setting_id: UUID, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The documents a replay with these params would send now, without sending or recording
    anything. A document that cannot be made shows its error instead of a body."""
    selection = Selection.from_params(params, container.config.timezone)
    poster = Poster(container, setting_id, lock=None)
    shown = DryRun()
    for position, payment in selected_payments(container, poster, selection):
        poster.post_payment(payment, resolves=position, dry_run=shown)
    replay_summaries(poster, selection, dry_run=shown)
    return shown.documents


def replay_summaries(poster: Poster, selection: Selection, dry_run: DryRun | None = None) -> None:
    """The daily summaries of the selected days (a daily-summary setting's sales are posted
    per day, not per payment): what Jurnal lacks of them, failed documents included."""
    if selection.event_ids is not None:
        return
    timezone = ZoneInfo(poster.container.config.timezone)
    first = selection.since.astimezone(timezone).date() if selection.since else None
    last = selection.until.astimezone(timezone).date() if selection.until else None
    summaries = SummaryPoster(poster)
    tally = summaries.post_closed_days(
        datetime.now(UTC),
        days=DayRange(first, last),
        retry_failed=True,
        dry_run=dry_run,
    )
    if tally.days and dry_run is None:
        poster.tally.counts[SUMMARY_KEY] = tally.as_count()


class Selection:
    def __init__(
        self,
        *,
        only_failed: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        event_ids: frozenset[int] | None = None,
    ) -> None:
        self.only_failed = only_failed
        self.since = since
        self.until = until
        self.event_ids = event_ids

    @classmethod
    def from_params(cls, params: Mapping[str, Any], timezone: str) -> Selection:
        ids = params.get("event_ids")
        return cls(
            only_failed=bool(params.get("only_failed")),
            since=_moment(params.get("since"), timezone, end_of_day=False),
            until=_moment(params.get("until"), timezone, end_of_day=True),
            event_ids=frozenset(int(i) for i in ids) if ids else None,
        )

    def takes(self, position: int, payment: Mapping[str, Any]) -> bool:
        if self.event_ids is not None and position not in self.event_ids:
            return False
        if self.since or self.until:
            made = datetime.fromisoformat(str(payment["created_at"]))
            if self.since and made < self.since:
                return False
            if self.until and made > self.until:
                return False
        return True


def selected_payments(
    container: Container, poster: Poster, selection: Selection
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(position, payment) of the latest revision of each selected payment, in log order."""
    latest: dict[str, tuple[int, Mapping[str, Any]]] = {}
    picked: set[str] = set()
    for event in _payment_events(container, poster.setting_id):
        latest[event.moka_id] = (event.position, event.record)
        if selection.takes(event.position, event.record):
            picked.add(event.moka_id)
    for moka_id, (position, payment) in sorted(latest.items(), key=lambda kv: kv[1][0]):
        if moka_id not in picked:
            continue
        if selection.only_failed and _all_posted(poster, payment):
            continue
        yield position, payment


def _payment_events(container: Container, setting_id: UUID) -> Iterator[PaymentReceived]:
    for event in log_events(container, setting_id):
        if isinstance(event, PaymentReceived):
            yield event


def _all_posted(poster: Poster, payment: Mapping[str, Any]) -> bool:
    return all(poster.is_posted(cid) for _, cid in poster.documents_needed(payment))


def _moment(value: Any, timezone: str, *, end_of_day: bool) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.max if end_of_day else time.min)
    else:
        text = str(value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date or datetime (YYYY-MM-DD[THH:MM])") from None
        if len(text) == 10:
            moment = datetime.combine(moment.date(), time.max if end_of_day else time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
