"""Moka data that Jurnal refuses, arriving by webhook among good sales: an emoji in a sale's
note, a customer with an emoji name and an address over 250 characters, an item named with
emoji, an unknown payment type, a negative quantity on a sale that is not a refund, and huge
numbers. The Jurnal sandbox refuses what Jurnal refuses (emoji in a memo, addresses over 250
characters), so each of these ends as a cleaned value Jurnal takes or as a per-item failure with a
message that says why; the poster never crashes, the log is fully processed, and the good sales
around them post exactly once.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

import pytest

from domain.log import DocumentPosted, MokaKind, PostingFailed, Source
from infra import queues
from jobs import scheduler
from tests.engine_support import wait_until, work

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\ufe0f]")


def outcomes(stack, setting_id) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    after = 0
    while events := stack.container.log.read(setting_id, after=after, limit=500):
        for event in events:
            if isinstance(event, DocumentPosted | PostingFailed):
                found.setdefault(event.moka_reference, []).append(event)
        after = events[-1].position
    return found


def summary(seen: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    return [
        (ref, e.kind, e.error_class, e.retryable, e.message[:60])
        for ref, events in seen.items()
        for e in events
        if isinstance(e, PostingFailed)
    ]


def sale(stack, sale_id: str) -> dict[str, Any]:
    with stack.moka.sandbox.lock:
        _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
        return copy.deepcopy(outlet.payments[sale_id])


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A new Moka sale shaped like `base`, with its own identity."""
    made = {**copy.deepcopy(base), **changes}
    made["id"] = str(uuid.uuid4())
    made["payment_no"] = "X" + made["id"][:6].upper()
    for line in made["checkouts"]:
        line["uuid"] = str(uuid.uuid4())
    return made


def receive(stack, kind: MokaKind, record: dict[str, Any]) -> None:
    (appended,) = stack.container.log.receive_for_outlet(
        stack.outlet_id, kind, record, Source.WEBHOOK
    )
    assert appended.stored


def test_data_jurnal_refuses_is_cleaned_or_fails_per_item_and_never_stops_the_run(sqlite_stack):
    stack = sqlite_stack  # the store plays no part here
    # The library holds hostile names too: Moka takes emoji and long addresses.
    with stack.moka.sandbox.lock:
        business, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
        a_customer = next(iter(business.customers.values()))
        hostile_customer = {
            **copy.deepcopy(a_customer),
            "id": 987654321,
            "name": "Budi 😎🔥 Santoso",
            "address": "Jl. Kebon Jeruk 🏠 " + "Gang Mawar No. 7, " * 20,
        }
        business.customers[hostile_customer["id"]] = hostile_customer
        an_item = next(i for i in outlet.items.values() if not i["is_deleted"])
        an_item["name"] = "Es Kopi 🧋 Susu"
        an_item["description"] = "Manis 🍯 " * 60
    assert len(hostile_customer["address"]) > 250
    setting_id = stack.synced_setting(sync_by_product_name=False)
    good_before = stack.sell(payment_type="cash")
    base = sale(stack, good_before)
    good_after = stack.sell(payment_type="ovo")

    negative = variant(base)
    negative["checkouts"][0]["quantity"] = -abs(negative["checkouts"][0]["quantity"])
    hostile_sales = {
        "emoji note": variant(base, payment_note="Terima kasih 🙏🍵 sampai jumpa 👋"),
        "unknown payment type": variant(
            base, payment_type="crypto_doge", payment_type_label="Doge 🐕"
        ),
        "negative quantity": negative,
        "huge numbers": variant(base, total_collected=10**20, subtotal=10**20),
        "emoji customer": variant(
            base, customer_id=hostile_customer["id"], customer_name=hostile_customer["name"]
        ),
    }
    receive(
        stack, MokaKind.CUSTOMER, {**hostile_customer, "updated_at": "2030-01-01T10:00:00+07:00"}
    )
    for record in hostile_sales.values():
        receive(stack, MokaKind.PAYMENT, record)
    stack.container.log.receive_for_outlet(
        stack.outlet_id, MokaKind.PAYMENT, sale(stack, good_before), Source.WEBHOOK
    )
    stack.container.log.receive_for_outlet(
        stack.outlet_id, MokaKind.PAYMENT, sale(stack, good_after), Source.WEBHOOK
    )

    # The customer and item webhooks ask for a master-data run, whose outcomes land in the log
    # too: work and sweep until the log is processed.
    queues.wake_poster(stack.container, setting_id)

    def processed() -> bool:
        work(stack.container)
        scheduler.tick(stack.container)
        work(stack.container)
        return not stack.container.log.has_unprocessed(setting_id)

    wait_until(processed, timeout=180, what="the log to be processed")
    seen = outcomes(stack, setting_id)
    by_reference = {record["id"]: name for name, record in hostile_sales.items()}
    report = {}
    for moka_id, name in by_reference.items():
        events = [e for ref, evs in seen.items() if moka_id in ref for e in evs]
        assert events, f"{name}: no outcome recorded"
        last = events[-1]
        if isinstance(last, PostingFailed):
            assert not last.retryable, (name, last)
            assert len(last.message) > 10 and last.error_class, (name, last)
            assert "Traceback" not in last.message
        report[name] = getattr(last, "error_class", "posted")
    for good in (good_before, good_after):
        events = [e for ref, evs in seen.items() if good in ref for e in evs]
        assert events and all(isinstance(e, DocumentPosted) for e in events), events

    # Whatever Jurnal took, it took clean: no emoji in a memo, no address over 250 characters.
    with stack.jurnal_sandbox.lock:
        held = [
            dict(record)
            for company in stack.jurnal_sandbox.companies.values()
            for collection in company.collections.values()
            for record in collection
        ]
    assert held
    budi = [r for r in held if "Budi" in str(r.get("display_name", ""))]
    # Names may keep their emoji (Jurnal takes them); an address is cut to what Jurnal takes.
    (customer,) = budi
    addresses = [v for k, v in customer.items() if "address" in k and isinstance(v, str) and v]
    assert addresses and all(a.startswith("Jl. Kebon Jeruk") for a in addresses), customer
    assert [r for r in held if "Es Kopi" in str(r.get("name"))], "the emoji-named product"
    for record in held:
        for key in ("memo", "message", "address", "billing_address", "shipping_address"):
            text = record.get(key)
            if isinstance(text, str):
                assert not EMOJI.search(text) or key == "message", (key, text)
                assert len(text) <= 250, (key, len(text))
    assert stack.duplicates() == {}
    # Jurnal refused none of the posted bodies for the reasons it refuses hostile text.
    for events in seen.values():
        for event in events:
            if isinstance(event, PostingFailed):
                assert "emoji" not in event.message.lower(), event
                assert "maximum of 250" not in event.message, event
    assert report == {
        "emoji note": "posted",  # the memo cleaned
        "unknown payment type": "posted",  # into the Lain-lain bucket
        "negative quantity": "UnsupportedPayment",
        "huge numbers": "InconsistentPayment",
        "emoji customer": "posted",
    }, report
