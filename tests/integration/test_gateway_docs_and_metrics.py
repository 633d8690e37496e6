"""The OpenAPI document (valid, complete, and true to the answers) and `/metrics` (Prometheus
text, shared by every process through Redis)."""

from __future__ import annotations

import multiprocessing
import re

import pytest
import redis
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from infra import metrics
from tests.gateway_support import customer, deliver, envelope, make_tenant

# -- OpenAPI ----------------------------------------------------------------------------------


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def conforms(document, component, instance):
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    errors = list(OAS31Validator(schema).iter_errors(instance))
    assert errors == [], errors


def test_the_openapi_document_validates(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_of_the_api_webhooks_and_metrics_is_documented(app, document):
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1/", "/webhooks/", "/metrics")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)


def test_the_document_describes_every_setting_field_and_the_error_shape(document):
    from domain.settings import SETTING_FIELDS

    create = document["components"]["schemas"]["SettingCreate"]
    assert set(SETTING_FIELDS) <= set(create["properties"])
    assert "start_date" in create["required"] and "tag" not in create["required"]
    assert create["additionalProperties"] is False
    error = document["components"]["schemas"]["ErrorDetail"]
    assert set(error["properties"]) == {"code", "message", "fields"}
    webhook = document["paths"]["/webhooks/moka"]["post"]
    assert webhook["security"] == [{"mokaSignature": []}]
    assert set(webhook["responses"]) == {"202", "400", "401", "413", "422"}
    secret = document["components"]["schemas"]["CompanyCreate"]["properties"]
    assert secret["jurnal_client_secret"]["writeOnly"] is True


def test_answers_conform_to_the_documented_schemas(client, gateway_container, document):
    tenant = make_tenant(gateway_container)
    accepted = deliver(client, envelope(customer()))
    conforms(document, "WebhookAccepted", accepted.json)
    setting = client.get(f"/api/v1/settings/{tenant.setting_id}", headers=tenant.headers)
    conforms(document, "Setting", setting.json)
    listed = client.get("/api/v1/settings", headers=tenant.headers)
    conforms(document, "SettingList", listed.json)
    events = client.get(f"/api/v1/settings/{tenant.setting_id}/events", headers=tenant.headers)
    conforms(document, "EventPage", events.json)
    refused = client.post(f"/api/v1/settings/{tenant.setting_id}/sync/transactions",
                          headers=tenant.headers)  # fmt: skip
    conforms(document, "Error", refused.json)
    invalid = client.patch(f"/api/v1/settings/{tenant.setting_id}", headers=tenant.headers,
                           json={"start_date": "2030-01-01"})  # fmt: skip
    conforms(document, "Error", invalid.json)


# -- metrics ----------------------------------------------------------------------------------

SAMPLE = re.compile(
    r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$|^[a-z_]+ -?[0-9.e+]+$'
)


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.text


def test_metrics_are_prometheus_text_with_every_metric_declared(client):
    text = scrape(client)
    for name, metric in metrics.METRICS.items():
        assert f"# TYPE {name} {metric.kind}" in text
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line


def test_requests_are_counted_by_route_template_and_status(client, gateway_container):
    tenant = make_tenant(gateway_container)
    client.get(f"/api/v1/settings/{tenant.setting_id}", headers=tenant.headers)
    client.get("/api/v1/settings/00000000-0000-4000-8000-000000000000", headers=tenant.headers)
    client.get("/nowhere")
    text = scrape(client)
    route = "/api/v1/settings/<uuid:setting_id>"
    assert f'sambung_http_requests_total{{route="{route}",method="GET",status="200"}} 1' in text
    assert f'sambung_http_requests_total{{route="{route}",method="GET",status="404"}} 1' in text
    assert 'sambung_http_requests_total{route="unmatched",method="GET",status="404"} 1' in text


def test_queue_depth_is_read_at_scrape_time(client, gateway_container):
    make_tenant(gateway_container)
    deliver(client, envelope(customer()))
    text = scrape(client)
    assert 'sambung_queue_depth{queue="postings"} 1' in text
    assert 'sambung_queue_depth{queue="sync"} 0' in text


def test_the_engine_counts_postings_jurnal_calls_and_lag(client, gateway_container):
    connection = gateway_container.redis
    metrics.increment(connection, metrics.POSTINGS, {"kind": "sales_invoice", "outcome": "posted"})
    metrics.increment(
        connection, metrics.POSTINGS, {"kind": "sales_invoice", "outcome": "posted"}, by=2
    )
    metrics.count_jurnal_call(connection, resource="sales_invoices", status=201)
    metrics.count_jurnal_call(connection, resource="sales_invoices", status=429)
    metrics.observe(connection, metrics.POSTING_LAG, 3.5)
    metrics.observe(connection, metrics.POSTING_LAG, 7200)
    text = scrape(client)
    assert 'sambung_postings_total{kind="sales_invoice",outcome="posted"} 3' in text
    assert 'sambung_jurnal_calls_total{resource="sales_invoices",status="429"} 1' in text
    assert 'sambung_jurnal_calls_total{resource="sales_invoices",status="201"} 1' in text
    assert 'sambung_jurnal_rate_limited_total{resource="sales_invoices"} 1' in text
    assert 'sambung_posting_lag_seconds_bucket{le="1"} 0' in text
    assert 'sambung_posting_lag_seconds_bucket{le="5"} 1' in text
    assert 'sambung_posting_lag_seconds_bucket{le="3600"} 1' in text
    assert 'sambung_posting_lag_seconds_bucket{le="14400"} 2' in text
    assert 'sambung_posting_lag_seconds_bucket{le="+Inf"} 2' in text
    assert "sambung_posting_lag_seconds_sum 7203.5" in text
    assert "sambung_posting_lag_seconds_count 2" in text


def test_undeclared_metrics_and_labels_are_refused(gateway_container):
    with pytest.raises(ValueError, match="not a declared counter"):
        metrics.increment(gateway_container.redis, "sambung_typo_total")
    with pytest.raises(ValueError, match="takes labels"):
        metrics.increment(gateway_container.redis, metrics.POSTINGS, {"kind": "x"})
    with pytest.raises(ValueError, match="not a declared histogram"):
        metrics.observe(gateway_container.redis, metrics.POSTINGS, 1.0)


def test_label_values_are_escaped(client, gateway_container):
    metrics.increment(
        gateway_container.redis, metrics.POSTINGS, {"kind": 'a"b\\c\nd', "outcome": "failed"}
    )
    assert 'sambung_postings_total{kind="a\\"b\\\\c\\nd",outcome="failed"} 1' in scrape(client)


def _count_in_another_process(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    metrics.increment(connection, metrics.POSTINGS, {"kind": "product", "outcome": "posted"}, 5)


def test_counts_from_other_processes_add_up(client, gateway_container, redis_url):
    metrics.increment(
        gateway_container.redis, metrics.POSTINGS, {"kind": "product", "outcome": "posted"}
    )
    worker = multiprocessing.get_context("spawn").Process(
        target=_count_in_another_process, args=(redis_url,)
    )
    worker.start()
    worker.join(30)
    assert worker.exitcode == 0
    assert 'sambung_postings_total{kind="product",outcome="posted"} 6' in scrape(client)
