"""`POST /webhooks/moka`: signature first, then JSON, then the envelope; stored once per setting
of the outlet; nothing stored unless the answer is 202."""

from __future__ import annotations

import json

import pytest

from domain.log import CustomerReceived, ItemReceived, PaymentReceived
from gateway.app import create_app
from infra.bootstrap import Container
from tests.gateway_support import (
    OUTLET,
    customer,
    deliver,
    envelope,
    make_tenant,
    signed,
)

# The reference's test vector (§12.2): 530 bytes, signed with "sandbox-webhook-secret".
VECTOR = (
    b'{"header":{"event_id":"8f14e45f-ceea-4c6b-a7e5-3b2c1f0d9a61","event_name":"moka.customer.'
    b'added","timestamp":"2024-05-02T10:15:30.123+07:00","outlet_id":"4522","version":1},"body":'
    b'{"id":1950404,"email":"sdf@mail.com","name":"San","phone":"6281288","address":null,"city":'
    b'null,"state":null,"postal_code":null,"business_id":9,"outlet_id":4522,"birthday":null,'
    b'"is_deleted":false,"created_at":"2024-05-02T10:15:29.789+07:00","updated_at":"2024-05-02T'
    b'10:15:29.789+07:00","synchronized_at":"2024-05-02T10:15:29.789+07:00","loyalty":null}}'
)
VECTOR_SIGNATURE = "115ae8755c7aaffe30c1ca555f1dde668a5cfa3f2bd0693da9838bdd5bf7fe6e"


@pytest.fixture
def tenant(gateway_container):
    return make_tenant(gateway_container)


def logged(container, setting_id):
    return [e for e in container.log.read(setting_id) if hasattr(e, "record")]


def payment(updated_at="2024-05-02T10:20:00.000001+07:00", refunds=()):
    return {
        "id": "5c2a4d0e-3f1b-4a55-9e1e-2b7f4f0c9d11",
        "payment_no": "6H7DDA1",
        "outlet_id": int(OUTLET),
        "total_collected": 92000,
        "created_at": "2024-05-02T10:19:59.000001+07:00",
        "updated_at": updated_at,
        "payment_refunds": list(refunds),
        "a_field_moka_added_later": {"tolerated": True},
    }


def test_the_reference_vector_is_stored_and_answered_202(gateway_config):
    container = Container(gateway_config.with_changes(moka_webhook_secret="sandbox-webhook-secret"))
    tenant = make_tenant(container)
    client = create_app(container=container, test_config={"TESTING": True}).test_client()
    response = client.post(
        "/webhooks/moka",
        data=VECTOR,
        headers={"Content-Type": "application/json", "X-Go-Signature": VECTOR_SIGNATURE},
    )
    assert response.status_code == 202, response.json
    assert response.json == {
        "event_id": "8f14e45f-ceea-4c6b-a7e5-3b2c1f0d9a61",
        "outcome": "stored",
        "settings": 1,
        "stored": 1,
    }
    (event,) = logged(container, tenant.setting_id)
    assert isinstance(event, CustomerReceived)
    assert event.record["id"] == 1950404 and event.source == "webhook"
    container.close()


def test_a_signature_made_over_a_different_body_is_refused_and_nothing_is_stored(
    client, gateway_container, tenant
):
    genuine = json.dumps(envelope(customer())).encode()
    forged = json.dumps(envelope(customer(customer_id=666))).encode()
    response = client.post("/webhooks/moka", data=forged, headers=signed(genuine))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_signature"
    assert logged(gateway_container, tenant.setting_id) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"X-Go-Signature": ""},
        {"X-Go-Signature": "not hex at all ✓"},
        {"X-Go-Signature": "0" * 64},
    ],
    ids=["missing", "empty", "garbage", "wrong"],
)
def test_a_missing_or_wrong_signature_answers_401(client, gateway_container, tenant, headers):
    raw = json.dumps(envelope(customer())).encode()
    response = client.post("/webhooks/moka", data=raw, headers=headers)
    assert response.status_code == 401
    assert logged(gateway_container, tenant.setting_id) == []


def test_a_signature_with_another_secret_is_refused(client, tenant):
    raw = json.dumps(envelope(customer())).encode()
    response = client.post("/webhooks/moka", data=raw, headers=signed(raw, "other-secret"))
    assert response.status_code == 401


def test_a_replayed_delivery_is_accepted_again_and_stored_once(client, gateway_container, tenant):
    raw = json.dumps(envelope(customer())).encode()
    first = client.post("/webhooks/moka", data=raw, headers=signed(raw))
    again = client.post("/webhooks/moka", data=raw, headers=signed(raw))
    assert (first.status_code, again.status_code) == (202, 202)
    assert (first.json["outcome"], again.json["outcome"]) == ("stored", "duplicate")
    assert again.json["stored"] == 0
    assert len(logged(gateway_container, tenant.setting_id)) == 1


def test_a_newer_version_is_stored_and_an_older_one_is_stale(client, gateway_container, tenant):
    newer = customer(updated_at="2024-05-03T08:00:00.000+07:00")
    assert deliver(client, envelope(customer())).json["outcome"] == "stored"
    assert deliver(client, envelope(newer)).json["outcome"] == "stored"
    assert deliver(client, envelope(customer())).json["outcome"] == "stale"
    revisions = [e.revision for e in logged(gateway_container, tenant.setting_id)]
    assert revisions == [1, 2]


def test_an_outlet_feeding_two_companies_is_stored_in_both_logs(client, gateway_container):
    first = make_tenant(gateway_container, "PT Satu")
    second = make_tenant(gateway_container, "PT Dua")
    response = deliver(client, envelope(customer()))
    assert response.json["settings"] == 2 and response.json["stored"] == 2
    for tenant in (first, second):
        assert len(logged(gateway_container, tenant.setting_id)) == 1


def test_an_outlet_without_settings_is_accepted_and_ignored(client, gateway_container):
    response = deliver(client, envelope(customer(), outlet_id="9999"))
    assert response.status_code == 202
    assert response.json["outcome"] == "unrouted"


@pytest.mark.parametrize(
    ("event_name", "record", "event_type"),
    [
        ("moka.transaction.created", payment(), PaymentReceived),
        ("moka.transaction.updated", payment(), PaymentReceived),
        ("moka.item.added", {"id": 77, "name": "Jus", "updated_at": "2024-05-02T10:00:00+07:00"},
         ItemReceived),
        ("moka.item.deleted", {"id": 77, "is_deleted": True,
                               "updated_at": "2024-05-02T10:00:00+07:00"}, ItemReceived),
        ("moka.customer.updated", customer(), CustomerReceived),
    ],
)  # fmt: skip
def test_each_event_name_is_stored_as_its_kind(
    client, gateway_container, tenant, event_name, record, event_type
):
    assert deliver(client, envelope(record, event_name)).status_code == 202
    (event,) = logged(gateway_container, tenant.setting_id)
    assert type(event) is event_type


def test_a_refund_stores_the_sales_payment_as_its_next_revision(client, gateway_container, tenant):
    refund = {"uuid": "a1b2", "parent_payment_uuid": payment()["id"], "total_collected": -20000}
    refunded = payment(updated_at="2024-05-04T09:00:00.000001+07:00", refunds=[refund])
    deliver(client, envelope(payment(), "moka.transaction.created"))
    response = deliver(client, envelope(refunded, "moka.transaction.refunded", event_id=_uuid(2)))
    assert response.json["outcome"] == "stored"
    sale, after = logged(gateway_container, tenant.setting_id)
    assert isinstance(after, PaymentReceived) and after.moka_id == sale.moka_id
    assert after.revision == 2 and after.record["payment_refunds"] == [refund]


def test_an_outlet_id_may_come_as_an_integer(client, gateway_container, tenant):
    assert deliver(client, envelope(customer(), outlet_id=int(OUTLET))).status_code == 202
    assert len(logged(gateway_container, tenant.setting_id)) == 1


def test_a_stored_event_wakes_the_settings_poster(client, gateway_container, tenant):
    deliver(client, envelope(customer()))
    jobs = gateway_container.queue("postings").get_jobs()
    assert [(j.func_name, j.args) for j in jobs] == [
        ("jobs.posting.post_setting", (str(tenant.setting_id),))
    ]


def test_a_body_that_is_not_json_answers_400(client, gateway_container, tenant):
    for raw in (b"{not json", b"\xff\xfe", b"NaN", b""):
        response = client.post("/webhooks/moka", data=raw, headers=signed(raw))
        assert response.status_code == 400, raw
        assert response.json["error"]["code"] == "not_json"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"body": customer()}, "header"),
        (envelope(customer(), event_id="not-a-uuid"), "header.event_id"),
        (envelope(customer(), event_name="moka.outlet.opened"), "header.event_name"),
        (envelope(customer(), timestamp="2024-05-02T10:15:30"), "header.timestamp"),
        (envelope(customer(), outlet_id=True), "header.outlet_id"),
        (envelope(customer(), outlet_id="45a2"), "header.outlet_id"),
        (envelope(customer(), version="1"), "header.version"),
        (envelope(customer(), version=2), "header.version"),
        ({"header": envelope(customer())["header"]}, "body"),
        ({"header": envelope(customer())["header"], "body": [1]}, "body"),
        (envelope({"name": "no id", "updated_at": "2024-05-02T10:00:00+07:00"}), "body.id"),
        (envelope({"id": 5, "updated_at": "yesterday"}), "body.updated_at"),
        ([envelope(customer())], "request"),
    ],
)
def test_a_json_body_failing_the_schema_answers_422_naming_the_field(
    client, gateway_container, tenant, document, field
):
    response = deliver(client, document)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert logged(gateway_container, tenant.setting_id) == []


def test_unknown_extra_fields_are_tolerated(client, gateway_container, tenant):
    document = envelope(customer(), trace_id="abc")
    document["delivered_by"] = "gobiz"
    assert deliver(client, document).status_code == 202


def test_a_body_one_byte_over_a_mebibyte_answers_413(client, gateway_container, tenant):
    raw = b" " * (1024 * 1024 + 1)
    response = client.post("/webhooks/moka", data=raw, headers=signed(raw))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_a_body_of_exactly_the_limit_is_read(client, gateway_container, tenant):
    document = json.dumps(envelope(customer())).encode()
    raw = document + b" " * (1024 * 1024 - len(document))
    response = client.post("/webhooks/moka", data=raw, headers=signed(raw))
    assert response.status_code == 202


def test_rejections_are_counted_by_reason(client, gateway_container, tenant):
    deliver(client, envelope(customer()))
    deliver(client, envelope(customer()))
    client.post("/webhooks/moka", data=b"{}", headers={"X-Go-Signature": "0" * 64})
    deliver(client, envelope(customer(), version=3))
    text = client.get("/metrics").text
    assert 'sambung_webhooks_total{outcome="accepted"} 1' in text
    assert 'sambung_webhooks_total{outcome="duplicate"} 1' in text
    assert 'sambung_webhooks_total{outcome="rejected"} 2' in text
    assert 'sambung_webhook_rejections_total{reason="signature"} 1' in text
    assert 'sambung_webhook_rejections_total{reason="schema"} 1' in text


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"
