"""HMAC signing of the Jurnal client and verification of the sandbox, both against the test
vectors documented by Mekari (`reference/jurnal-api.md` §2.1)."""

from __future__ import annotations

import pytest
import requests

from clients.jurnal.signing import BearerAuth, HmacAuth, authorization_header, body_digest, sign
from sandbox.jurnal import auth as sandbox_auth

VECTORS = [
    (
        "YOUR_MEKARI_API_CLIENT_SECRET",
        "Wed, 10 Nov 2021 07:24:29 GMT",
        "POST",
        "/v2/klikpajak/v1/efaktur/out?auto_approval=false",
        "6+Ah/UTmbqd+DDqlh6zYZ0HuCwVhtElYDOoucRPCaFg=",
    ),
    (
        "CLIENT_SECRET",
        "Tue, 24 Aug 2021 02:18:19 GMT",
        "POST",
        "/foo/bar?hello=world",
        "r70pUQMDXWaFUEWPybBbn9d+ae2naufbIckiT6wcAio=",
    ),
    (
        "CLIENT_SECRET",
        "Mon, 08 Sep 2026 04:05:06 GMT",
        "GET",
        "/public/jurnal/api/v1/sales_invoices?page=1",
        "SF0YrpsJbNanzC6U6jMHXJLHp8yENE46mmkK4fl3iIg=",
    ),
]


@pytest.mark.parametrize(("secret", "date", "method", "target", "expected"), VECTORS)
def test_the_client_signs_the_documented_vectors(secret, date, method, target, expected):
    assert sign(secret, date, method, target) == expected
    assert sign(secret, date, method.lower(), target) == expected


@pytest.mark.parametrize(("secret", "date", "method", "target", "expected"), VECTORS)
def test_the_sandbox_accepts_the_documented_vectors(secret, date, method, target, expected):
    header = sandbox_auth.parse_hmac_header(authorization_header("someone", expected))
    sandbox_auth.verify_hmac(header, secret, date=date, method=method, target=target)
    with pytest.raises(sandbox_auth.AuthFailure, match="bad-signature"):
        sandbox_auth.verify_hmac(header, secret, date=date, method=method, target=target + "&x")


def test_the_documented_body_digest():
    expected = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    assert body_digest(b'{"hello": "world"}') == expected
    assert sandbox_auth.body_digest(b'{"hello": "world"}') == expected
    sandbox_auth.verify_digest(expected, b'{"hello": "world"}')
    sandbox_auth.verify_digest(None, b"anything")  # Jurnal does not require it
    with pytest.raises(sandbox_auth.AuthFailure, match="bad-digest"):
        sandbox_auth.verify_digest(expected, b'{"hello": "mars"}')


def test_hmac_auth_signs_the_encoded_path_and_query_with_a_fresh_date():
    auth = HmacAuth("my-id", "CLIENT_SECRET", clock=lambda: 1788840306.0)  # 2026-09-08 04:05:06
    request = requests.Request(
        "GET", "https://api.mekari.com/public/jurnal/api/v1/sales_invoices", params={"page": 1}
    ).prepare()
    auth(request)
    assert request.headers["Date"] == "Tue, 08 Sep 2026 04:05:06 GMT"
    parsed = sandbox_auth.parse_hmac_header(request.headers["Authorization"])
    assert parsed.username == "my-id"
    target = "/public/jurnal/api/v1/sales_invoices?page=1"
    assert parsed.signature == sign("CLIENT_SECRET", request.headers["Date"], "GET", target)
    assert "Digest" not in request.headers


def test_hmac_auth_digests_a_body_and_bearer_sends_the_token():
    body = b'{"customer": {"display_name": "Ahmad"}}'
    request = requests.Request("POST", "http://sandbox/public/jurnal/api/v1/customers", data=body)
    prepared = HmacAuth("id", "secret")(request.prepare())
    assert prepared.headers["Digest"] == body_digest(body)
    bearer = BearerAuth("token-123")(requests.Request("GET", "http://sandbox/x").prepare())
    assert bearer.headers["Authorization"] == "Bearer token-123"
    assert "token-123" not in BearerAuth("token-123").rate_limit_key


@pytest.mark.parametrize(
    "header",
    [
        "hmac username=id, algorithm=hmac-sha256",
        'hmac username="id", algorithm="hmac-sha1", headers="date request-line", signature="x"',
        'hmac username="id", algorithm="hmac-sha256", headers="date", signature="x"',
        "Basic dXNlcjpwYXNz",
    ],
)
def test_the_sandbox_refuses_malformed_authorization_headers(header):
    with pytest.raises(sandbox_auth.AuthFailure, match="malformed"):
        sandbox_auth.parse_hmac_header(header)


def test_the_sandbox_allows_300_seconds_of_clock_skew_and_no_more():
    date = "Mon, 08 Sep 2026 04:05:06 GMT"
    sent = 1788840306.0  # the epoch of `date`
    sandbox_auth.check_date(date, sent + 300)
    sandbox_auth.check_date(date, sent - 300)
    with pytest.raises(sandbox_auth.AuthFailure, match="stale-date"):
        sandbox_auth.check_date(date, sent + 301)
    with pytest.raises(sandbox_auth.AuthFailure, match="missing-date"):
        sandbox_auth.check_date(None, sent)
    with pytest.raises(sandbox_auth.AuthFailure, match="malformed-date"):
        sandbox_auth.check_date("yesterday", sent)
