"""Webhooks from the Moka sandbox to a real receiver: signed in the adopted format, sent after
the inserting request returned, retried on non-2xx, duplicated and reordered on request."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox.moka.arithmetic import check_payment_arithmetic
from tests.moka_support import WEBHOOK_SECRET, Receiver, receiving


@pytest.fixture
def seeded(moka):
    return moka.seed(4)


@pytest.fixture(scope="module")
def listening():
    receiver = Receiver()
    with receiving(receiver) as url:
        yield receiver, url


@pytest.fixture
def receiver(listening):
    receiver = listening[0]
    receiver.reset()
    return receiver


@pytest.fixture
def hook_url(listening, receiver, seeded):
    return listening[1]


def first_item(moka, outlet_id):
    _, outlet = moka.sandbox.outlet(outlet_id)
    return next(i for i in outlet.items.values() if not i["is_deleted"])


def sell(moka, outlet_id, **payment):
    item = first_item(moka, outlet_id)
    body = {"checkouts": [{"item_id": item["id"], "quantity": 2}], **payment}
    return moka.control("POST", "/payments", json={"outlet_id": outlet_id, "payment": body})["id"]


def drain(moka):
    assert moka.control("POST", "/webhooks/drain", json={"timeout": 5})["drained"] is True


def bodies(receiver):
    return [json.loads(d.body) for d in receiver.deliveries]


def test_a_new_sale_arrives_signed_in_the_adopted_format(moka, seeded, receiver, hook_url):
    outlet_id = seeded["outlet_ids"][0]
    moka.control("POST", "/subscriptions", json={"url": hook_url, "secret": WEBHOOK_SECRET})
    payment_id = sell(moka, outlet_id)
    drain(moka)
    [delivery] = receiver.deliveries
    assert delivery.signature_ok
    assert delivery.headers["Content-Type"] == "application/json"
    envelope = json.loads(delivery.body)
    assert list(envelope) == ["header", "body"]
    header = envelope["header"]
    assert header["event_name"] == "moka.transaction.created"
    assert header["outlet_id"] == str(outlet_id) and header["version"] == 1
    assert header["timestamp"].endswith("+07:00")
    assert delivery.key == header["event_id"]
    assert envelope["body"]["id"] == payment_id
    assert check_payment_arithmetic(envelope["body"]) == []


def test_a_receiver_with_another_secret_cannot_verify(moka, seeded, receiver, hook_url):
    moka.control("POST", "/subscriptions", json={"url": hook_url, "secret": "another-secret"})
    sell(moka, seeded["outlet_ids"][0])
    drain(moka)
    assert [d.signature_ok for d in receiver.deliveries] == [False]


def test_a_non_2xx_answer_is_retried_with_the_same_bytes_signature_and_key(
    moka, seeded, receiver, hook_url
):
    receiver.statuses = [500, 404]
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    sell(moka, seeded["outlet_ids"][0])
    drain(moka)
    first, second, third = receiver.deliveries
    assert first.body == second.body == third.body
    assert first.key == second.key == third.key
    assert first.headers["X-Go-Signature"] == third.headers["X-Go-Signature"]
    attempts = moka.control("GET", "/webhooks/deliveries")["attempts"]
    assert [(a["attempt"], a["delivered"]) for a in attempts] == [(1, False), (2, False), (3, True)]


def test_a_receiver_that_never_accepts_is_given_up_after_the_last_retry(
    moka, seeded, receiver, hook_url
):
    receiver.statuses = [503] * 10
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    sell(moka, seeded["outlet_ids"][0])
    drain(moka)
    assert len(receiver.deliveries) == 4  # the first attempt and three retries (FAST_WEBHOOKS)


def test_the_inserting_request_returns_before_a_slow_receiver_answers(
    moka, seeded, receiver, hook_url
):
    receiver.answering.clear()  # it answers only once the sale was made
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    try:
        sell(moka, seeded["outlet_ids"][0])
        assert receiver.deliveries == []
    finally:
        receiver.answering.set()
    drain(moka)
    # Sent once and answered in time: a delivery made inside the inserting request would have
    # kept the sale from returning until it timed out, and been sent again.
    assert len(receiver.deliveries) == 1
    attempts = moka.control("GET", "/webhooks/deliveries")["attempts"]
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, 200)]


def test_duplicates_on_request_repeat_the_same_event(moka, seeded, receiver, hook_url):
    moka.control("POST", "/faults", json={"duplicate_webhook_rate": 1.0})
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    sell(moka, seeded["outlet_ids"][0])
    drain(moka)
    first, second = receiver.deliveries
    assert first.body == second.body and first.key == second.key


def test_reordering_on_request_delivers_a_later_event_first(moka, seeded, receiver, hook_url):
    moka.control("POST", "/faults", json={"reorder_webhook_rate": 1.0})
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    outlet_id = seeded["outlet_ids"][0]
    earlier = sell(moka, outlet_id)
    later = sell(moka, outlet_id)
    drain(moka)
    assert [b["body"]["id"] for b in bodies(receiver)] == [later, earlier]


def test_refunds_invoice_payments_items_and_customers_send_their_events(
    moka, seeded, receiver, hook_url
):
    outlet_id, business_id = seeded["outlet_ids"][0], seeded["business_id"]
    moka.control("POST", "/subscriptions", json={"url": hook_url, "outlet_id": outlet_id})
    sale_id = sell(moka, outlet_id)
    refund_id = moka.control(
        "POST",
        "/payments",
        json={"outlet_id": outlet_id, "payment": {"parent_payment_uuid": sale_id}},
    )["id"]
    customer = next(iter(moka.sandbox.business(business_id).customers))
    invoice_id = sell(moka, outlet_id, payment_type="invoice", customer_id=customer)
    moka.control("POST", f"/invoices/{invoice_id}/payments", json={"amount": 5000})
    item = moka.control(
        "POST",
        "/items",
        json={"outlet_id": outlet_id, "item": {"name": "Es Kopi Baru", "price": 21000}},
    )
    moka.control(
        "PATCH", f"/items/{item['id']}", json={"outlet_id": outlet_id, "changes": {"price": 23000}}
    )
    moka.control("DELETE", f"/items/{item['id']}", params={"outlet_id": outlet_id})
    added = moka.control(
        "POST",
        "/customers",
        json={"business_id": business_id, "customer": {"name": "Budi Santoso"}},
    )
    moka.control(
        "PATCH",
        f"/customers/{added['id']}",
        json={"business_id": business_id, "changes": {"phone": "+628111"}},
    )
    drain(moka)
    assert receiver.names() == [
        "moka.transaction.created",
        "moka.transaction.refunded",
        "moka.transaction.created",
        "moka.transaction.updated",
        "moka.item.added",
        "moka.item.updated",
        "moka.item.deleted",
        "moka.customer.added",
        "moka.customer.updated",
    ]
    sent = bodies(receiver)
    refunded = sent[1]["body"]
    assert refunded["id"] == sale_id
    assert [r["uuid"] for r in refunded["payment_refunds"]] == [refund_id]
    assert refunded["total_refund"] == refunded["total_collected"]
    assert check_payment_arithmetic(refunded) == []
    assert sent[3]["body"]["invoice_payment_records"][0]["amount"] == 5000
    assert sent[5]["body"]["item_variants"][0]["price"] == 23000
    assert sent[6]["body"]["is_deleted"] is True
    assert sent[8]["body"]["phone"] == "+628111"
    assert all(d.signature_ok for d in receiver.deliveries)


def test_a_subscription_only_hears_its_outlet_and_events_and_can_be_deleted(
    moka, seeded, receiver, hook_url
):
    outlet_id = seeded["outlet_ids"][0]
    other = moka.seed(5)
    moka.control(
        "POST",
        "/subscriptions",
        json={"url": hook_url, "outlet_id": outlet_id, "events": ["moka.transaction.refunded"]},
    )
    subscription = moka.control("POST", "/subscriptions", json={"url": hook_url})
    sale = sell(moka, outlet_id)
    sell(moka, other["outlet_ids"][0])
    moka.control("DELETE", f"/subscriptions/{subscription['id']}")
    moka.control(
        "POST", "/payments", json={"outlet_id": outlet_id, "payment": {"parent_payment_uuid": sale}}
    )
    drain(moka)
    assert receiver.names() == [
        "moka.transaction.created",
        "moka.transaction.created",
        "moka.transaction.refunded",
    ]
    listed = moka.control("GET", "/subscriptions")["subscriptions"]
    assert [s["events"] for s in listed] == [["moka.transaction.refunded"]]


def test_an_unreachable_receiver_does_not_hold_up_the_sandbox(moka, seeded):
    moka.control("POST", "/subscriptions", json={"url": "http://127.0.0.1:9/nowhere"})
    began = time.perf_counter()
    sell(moka, seeded["outlet_ids"][0])
    drain(moka)
    assert time.perf_counter() - began < 3
    outcomes = {a["outcome"] for a in moka.control("GET", "/webhooks/deliveries")["attempts"]}
    assert outcomes == {"ConnectionError"}
    assert requests.get(f"{moka.url}/_sandbox/state", timeout=5).json()["webhooks"]["pending"] == 0


def test_attaching_a_customer_to_a_sale_sends_an_update_with_a_later_updated_at(
    moka, seeded, receiver, hook_url
):
    outlet_id = seeded["outlet_ids"][0]
    moka.control("POST", "/subscriptions", json={"url": hook_url})
    sale_id = sell(moka, outlet_id)
    customer = next(iter(moka.sandbox.business(seeded["business_id"]).customers.values()))
    moka.control("PATCH", f"/payments/{sale_id}", json={"customer_id": customer["id"]})
    drain(moka)
    created, updated = bodies(receiver)
    assert updated["header"]["event_name"] == "moka.transaction.updated"
    assert updated["body"]["customer_name"] == customer["name"]
    assert updated["body"]["updated_at"] > created["body"]["updated_at"]
