"""The sync history of live-pulled sales (on SQLite and PostgreSQL): postings of records the
live pull appended are one "Otomatis" row per setting per hour, apart from the webhooks' rows,
and a rebuild gives the same rows."""

from datetime import datetime

import pytest
from freezegun import freeze_time
from freezegun.api import FakeDatetime

from domain.log import Source
from projections.queries import sync_history
from projections.runner import catch_up, rebuild
from tests.projection_support import sale, synced_setting


@pytest.fixture
def clock(container):
    """freezegun, with its datetimes stored the way the log stores datetimes."""
    types = container.log.mapper.transcoder.types
    types[FakeDatetime] = types[datetime]
    return freeze_time


def posted(log, setting_id, position, reference):
    log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id=f"moka-sale-{reference}",
        jurnal_id=f"j-{reference}",
        moka_reference=reference,
        resolves=position,
    )


def test_live_pulled_postings_roll_up_per_hour_as_otomatis_beside_webhook_rows(container, clock):
    log = container.log
    setting_id = synced_setting(log)
    pulled = [
        a.position
        for a in log.receive_many(
            setting_id, "payment", [sale(n) for n in range(1, 5)], Source.LIVE_PULL
        )
    ]
    [pushed] = [a.position for a in log.receive_many(setting_id, "payment", [sale(9)], "webhook")]
    with clock("2024-05-02T09:05:00+07:00", tick=True):
        posted(log, setting_id, pulled[0], "P00001")
        posted(log, setting_id, pushed, "P00009")
    with clock("2024-05-02T09:50:00+07:00", tick=True):
        posted(log, setting_id, pulled[1], "P00002")
    with clock("2024-05-02T10:02:00+07:00", tick=True):
        posted(log, setting_id, pulled[2], "P00003")
        posted(log, setting_id, pulled[3], "P00004")

    catch_up(container)
    rows = sync_history(container.views, setting_id)[:3]
    shown = [
        (r["method"], r["kind"], r["started_at"][:16], r["status"], r["summary"]["sales"])
        for r in rows
    ]
    assert shown == [
        ("Otomatis", "live_pull", "2024-05-02T10:02", "Sukses", {"synced": 2, "total": 2}),
        ("Webhook", "webhook", "2024-05-02T09:05", "Sukses", {"synced": 1, "total": 1}),
        ("Otomatis", "live_pull", "2024-05-02T09:05", "Sukses", {"synced": 2, "total": 2}),
    ]
    assert rows[2]["finished_at"].startswith("2024-05-02T09:50")

    rebuild(container)
    assert sync_history(container.views, setting_id)[:3] == rows
