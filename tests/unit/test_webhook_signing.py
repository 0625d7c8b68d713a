"""Standard Webhooks signatures: the reference vector, and what a receiver must refuse."""

from __future__ import annotations

import base64

import pytest

from common.webhook_signing import InvalidSignature, generate_secret, sign, signature_headers, verify

# The example from the Standard Webhooks specification's reference libraries.
REFERENCE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REFERENCE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
REFERENCE_TIMESTAMP = 1614265330
REFERENCE_BODY = b'{"test": 2432232314}'
REFERENCE_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_matches_the_standard_webhooks_reference_vector():
    assert sign(REFERENCE_SECRET, REFERENCE_ID, REFERENCE_TIMESTAMP, REFERENCE_BODY) == REFERENCE_SIGNATURE
    headers = {
        "webhook-id": REFERENCE_ID,
        "webhook-timestamp": str(REFERENCE_TIMESTAMP),
        "webhook-signature": REFERENCE_SIGNATURE,
    }
    verify(REFERENCE_SECRET, headers, REFERENCE_BODY, now=REFERENCE_TIMESTAMP + 10)


def test_generated_secret_is_whsec_with_32_random_bytes():
    secret = generate_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert generate_secret() != secret


def test_round_trip_with_a_chosen_secret_and_header_case():
    headers = signature_headers("a chosen secret value", "delivery-1", b"{}")
    verify("a chosen secret value", {k.upper(): v for k, v in headers.items()}, b"{}")


@pytest.mark.parametrize(
    ("secret", "body", "now_offset", "mutate"),
    [
        ("wrong secret value!", b"{}", 0, None),
        ("the right secret!!", b'{"x":1}', 0, None),
        ("the right secret!!", b"{}", 301, None),
        ("the right secret!!", b"{}", -301, None),
        ("the right secret!!", b"{}", 0, lambda h: h.pop("webhook-signature")),
        ("the right secret!!", b"{}", 0, lambda h: h.update({"webhook-timestamp": "soon"})),
        ("the right secret!!", b"{}", 0, lambda h: h.update({"webhook-id": "another-id"})),
    ],
)
def test_refuses_wrong_secret_body_time_or_headers(secret, body, now_offset, mutate):
    headers = signature_headers("the right secret!!", "delivery-1", b"{}", timestamp=1_700_000_000)
    if mutate:
        mutate(headers)
    with pytest.raises(InvalidSignature):
        verify(secret, headers, body, now=1_700_000_000 + now_offset)


def test_accepts_any_of_several_signatures():
    headers = signature_headers("new secret value!!", "d", b"{}", timestamp=1_700_000_000)
    old = sign("old secret value!!", "d", 1_700_000_000, b"{}")
    headers["webhook-signature"] = f"v1,bm90LWl0 {old} {headers['webhook-signature']}"
    verify("new secret value!!", headers, b"{}", now=1_700_000_000)
    verify("old secret value!!", headers, b"{}", now=1_700_000_000)
