"""`verify_webhook_signature` with the documented test vector (reference §12.2)."""

import json

from domain.moka_webhooks import sign_webhook_body, verify_webhook_signature

SECRET = "sandbox-webhook-secret"
BODY = (
    b'{"header":{"event_id":"8f14e45f-ceea-4c6b-a7e5-3b2c1f0d9a61","event_name":'
    b'"moka.customer.added","timestamp":"2024-05-02T10:15:30.123+07:00","outlet_id":"4522",'
    b'"version":1},"body":{"id":1950404,"email":"sdf@mail.com","name":"San","phone":"6281288",'
    b'"address":null,"city":null,"state":null,"postal_code":null,"business_id":9,"outlet_id":'
    b'4522,"birthday":null,"is_deleted":false,"created_at":"2024-05-02T10:15:29.789+07:00",'
    b'"updated_at":"2024-05-02T10:15:29.789+07:00","synchronized_at":'
    b'"2024-05-02T10:15:29.789+07:00","loyalty":null}}'
)
SIGNATURE = "115ae8755c7aaffe30c1ca555f1dde668a5cfa3f2bd0693da9838bdd5bf7fe6e"


def test_the_documented_vector_is_530_bytes_and_signs_as_documented():
    assert len(BODY) == 530
    assert sign_webhook_body(BODY, SECRET) == SIGNATURE
    assert verify_webhook_signature(BODY, SIGNATURE, SECRET)


def test_upper_case_and_surrounding_spaces_in_the_header_are_accepted():
    assert verify_webhook_signature(BODY, f"  {SIGNATURE.upper()} ", SECRET)


def test_one_changed_byte_or_another_secret_fails():
    assert not verify_webhook_signature(BODY.replace(b'"San"', b'"Sam"'), SIGNATURE, SECRET)
    assert not verify_webhook_signature(BODY, SIGNATURE, "another-secret")


def test_re_serialised_json_fails_because_the_raw_bytes_are_signed():
    pretty = json.dumps(json.loads(BODY), indent=2).encode()
    assert not verify_webhook_signature(pretty, SIGNATURE, SECRET)


def test_a_missing_empty_or_non_ascii_header_and_an_empty_secret_fail_without_raising():
    assert not verify_webhook_signature(BODY, None, SECRET)
    assert not verify_webhook_signature(BODY, "", SECRET)
    assert not verify_webhook_signature(BODY, "é" * 64, SECRET)
    assert not verify_webhook_signature(BODY, sign_webhook_body(BODY, ""), "")
