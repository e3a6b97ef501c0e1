from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core.webhooks.signing import (
    SignatureError,
    headers,
    new_secret,
    parse_secret,
    sign,
    verify,
)

SECRET_A = new_secret(bytes(range(32)))
SECRET_B = new_secret(bytes(range(100, 132)))
SECRET_C = new_secret(b"\xff" * 24)
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
BODY = b'{"event":"call.completed","call_id":"c_1"}'
MSG_ID = "msg_2Lh9KQmTwC7Xr4"


# --- An independent reference implementation, straight from the spec (does not use the module).

def ref_key(secret: str) -> bytes:
    assert secret.startswith("whsec_")
    return base64.b64decode(secret[len("whsec_"):])


def ref_sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    mac = hmac.new(ref_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def ref_verify(secret: str, hdrs: dict[str, str], body: bytes) -> bool:
    expected = ref_sign(secret, hdrs["webhook-id"], int(hdrs["webhook-timestamp"]), body)
    return any(
        hmac.compare_digest(expected.encode(), entry.encode())
        for entry in hdrs["webhook-signature"].split(" ")
    )


def test_known_answer_vector_from_reference() -> None:
    # Computed once with ref_sign above and hard-coded.
    secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    expected = "v1,m+NnAViBNpHWM7n/2UG9jgHa45Ac1P3PIbPZ0nu2Vuc="
    assert secret == SECRET_A
    assert ref_sign(secret, MSG_ID, NOW, BODY) == expected
    assert sign(secret, MSG_ID, NOW, BODY) == expected
    verify([secret], {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW),
                      "webhook-signature": expected}, BODY, now=NOW)


def test_standard_webhooks_published_vector() -> None:
    # The test vector of the Standard Webhooks reference libraries (24-byte key).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, ts, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, msg_id, ts, body) == expected
    assert ref_sign(secret, msg_id, ts, body) == expected
    verify([secret], {"webhook-id": msg_id, "webhook-timestamp": str(ts),
                      "webhook-signature": expected}, body, now=ts + 10)


def test_reference_verifies_module_output_and_module_verifies_reference() -> None:
    hdrs = headers([SECRET_A, SECRET_B], MSG_ID, NOW, BODY)
    assert ref_verify(SECRET_A, hdrs, BODY)
    assert ref_verify(SECRET_B, hdrs, BODY)
    assert not ref_verify(SECRET_C, hdrs, BODY)
    ref_headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW),
                   "webhook-signature": ref_sign(SECRET_B, MSG_ID, NOW, BODY)}
    verify([SECRET_B], ref_headers, BODY, now=NOW)
    verify([SECRET_A, SECRET_B], ref_headers, BODY, now=NOW)


# --- Secrets.

def test_new_secret_round_trips_through_parse_secret() -> None:
    raw = bytes(range(32))
    secret = new_secret(raw)
    assert secret.startswith("whsec_")
    assert parse_secret(secret) == raw
    assert parse_secret(f"  {secret}\n") == raw


@pytest.mark.parametrize("size", [0, 16, 23, 65])
def test_new_secret_needs_24_to_64_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="24 to 64 random bytes"):
        new_secret(b"x" * size)


@pytest.mark.parametrize(("text", "message"), [
    ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "must start with 'whsec_'"),
    ("WHSEC_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "must start with 'whsec_'"),
    ("whsec_not base64!!", "not valid base64"),
    ("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "not valid base64"),  # no padding
    ("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=é", "not valid base64"),
    ("whsec_", "too short: 0 bytes"),
    ("whsec_" + base64.b64encode(b"k" * 15).decode(), "too short: 15 bytes"),
])
def test_parse_secret_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_secret(text)
    rest = text.removeprefix("whsec_")
    assert not rest or rest not in str(info.value)  # never echo the secret


def test_parse_secret_accepts_16_byte_key() -> None:
    assert parse_secret("whsec_" + base64.b64encode(b"k" * 16).decode()) == b"k" * 16


# --- Signing.

def test_headers_shape_and_round_trip() -> None:
    hdrs = headers([SECRET_A], MSG_ID, NOW, BODY)
    assert hdrs == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(SECRET_A, MSG_ID, NOW, BODY),
    }
    verify([SECRET_A], hdrs, BODY, now=NOW)


def test_str_body_is_signed_as_utf8() -> None:
    text = '{"name":"Zoë"}'
    assert sign(SECRET_A, MSG_ID, NOW, text) == sign(SECRET_A, MSG_ID, NOW, text.encode())
    verify([SECRET_A], headers([SECRET_A], MSG_ID, NOW, text), text.encode(), now=NOW)


def test_rotation_signs_with_every_secret_and_either_receiver_verifies() -> None:
    hdrs = headers([SECRET_A, SECRET_B], MSG_ID, NOW, BODY)
    entries = hdrs["webhook-signature"].split(" ")
    assert entries == [sign(SECRET_A, MSG_ID, NOW, BODY), sign(SECRET_B, MSG_ID, NOW, BODY)]
    verify([SECRET_A], hdrs, BODY, now=NOW)
    verify([SECRET_B], hdrs, BODY, now=NOW)
    verify([SECRET_C, SECRET_B], hdrs, BODY, now=NOW)
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_C], hdrs, BODY, now=NOW)


def test_receiver_mid_rotation_accepts_old_sender() -> None:
    old_only = headers([SECRET_A], MSG_ID, NOW, BODY)
    verify([SECRET_B, SECRET_A], old_only, BODY, now=NOW)


def test_duplicate_secrets_give_one_entry() -> None:
    hdrs = headers([SECRET_A, SECRET_A], MSG_ID, NOW, BODY)
    assert hdrs["webhook-signature"] == sign(SECRET_A, MSG_ID, NOW, BODY)


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg 1", "msg\r\nX-Evil: 1", "é", "m" * 256])
def test_sign_rejects_unsafe_message_ids(msg_id: str) -> None:
    with pytest.raises(ValueError, match="message id"):
        sign(SECRET_A, msg_id, NOW, BODY)


@pytest.mark.parametrize("timestamp", [-1, True])
def test_sign_rejects_bad_timestamps(timestamp: int) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        sign(SECRET_A, MSG_ID, timestamp, BODY)


def test_single_string_instead_of_sequence_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        headers(SECRET_A, MSG_ID, NOW, BODY)
    with pytest.raises(TypeError):
        verify(SECRET_A, headers([SECRET_A], MSG_ID, NOW, BODY), BODY, now=NOW)


def test_no_secrets_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="At least one"):
        headers([], MSG_ID, NOW, BODY)
    with pytest.raises(ValueError, match="At least one") as info:
        verify([], headers([SECRET_A], MSG_ID, NOW, BODY), BODY, now=NOW)
    assert not isinstance(info.value, SignatureError)


# --- Verification failures.

def signed() -> dict[str, str]:
    return headers([SECRET_A], MSG_ID, NOW, BODY)


def test_tampered_body_fails() -> None:
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], signed(), BODY.replace(b"c_1", b"c_2"), now=NOW)


def test_tampered_id_fails() -> None:
    hdrs = signed() | {"webhook-id": "msg_other"}
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], hdrs, BODY, now=NOW)


def test_tampered_timestamp_fails() -> None:
    hdrs = signed() | {"webhook-timestamp": str(NOW + 1)}
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], hdrs, BODY, now=NOW)


def test_tampered_signature_fails() -> None:
    sig = signed()["webhook-signature"]
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], signed() | {"webhook-signature": flipped}, BODY, now=NOW)


def test_tolerance_boundaries_both_directions() -> None:
    verify([SECRET_A], signed(), BODY, now=NOW + 300)
    verify([SECRET_A], signed(), BODY, now=NOW - 300)
    with pytest.raises(SignatureError, match="timestamp too old"):
        verify([SECRET_A], signed(), BODY, now=NOW + 301)
    with pytest.raises(SignatureError, match="timestamp too far in the future"):
        verify([SECRET_A], signed(), BODY, now=NOW - 301)


def test_custom_tolerance() -> None:
    verify([SECRET_A], signed(), BODY, now=NOW + 10, tolerance_s=10)
    with pytest.raises(SignatureError, match="too old"):
        verify([SECRET_A], signed(), BODY, now=NOW + 11, tolerance_s=10)
    with pytest.raises(ValueError, match="tolerance_s"):
        verify([SECRET_A], signed(), BODY, now=NOW, tolerance_s=-1)


def test_old_delivery_fails_on_time_even_with_valid_signature() -> None:
    # Replay a day later: the signature is still valid, the timestamp is not.
    with pytest.raises(SignatureError, match="too old"):
        verify([SECRET_A], signed(), BODY, now=NOW + 86_400)


def test_header_names_are_case_insensitive() -> None:
    hdrs = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(NOW),
            "webhook-Signature": signed()["webhook-signature"], "Content-Type": "x"}
    verify([SECRET_A], hdrs, BODY, now=NOW)


def test_conflicting_duplicate_headers_fail() -> None:
    hdrs = signed() | {"Webhook-Id": "msg_other"}
    with pytest.raises(SignatureError, match="conflicting webhook-id headers"):
        verify([SECRET_A], hdrs, BODY, now=NOW)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_or_blank_header(name: str) -> None:
    missing = {k: v for k, v in signed().items() if k != name}
    with pytest.raises(SignatureError, match=f"missing {name} header"):
        verify([SECRET_A], missing, BODY, now=NOW)
    with pytest.raises(SignatureError, match=f"missing {name} header"):
        verify([SECRET_A], signed() | {name: "  "}, BODY, now=NOW)


@pytest.mark.parametrize("value", ["abc", "1.5", "-5", "+1767225600", "1e9", "1767225600000000",
                                   "١٧٦٧٢٢٥٦٠٠"])
def test_invalid_timestamp_header(value: str) -> None:
    with pytest.raises(SignatureError, match="invalid webhook-timestamp header"):
        verify([SECRET_A], signed() | {"webhook-timestamp": value}, BODY, now=NOW)


@pytest.mark.parametrize("value", ["garbage", "v1", "v1,", "v2,abc", "v1a,abc def"])
def test_signature_header_without_v1_entries(value: str) -> None:
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify([SECRET_A], signed() | {"webhook-signature": value}, BODY, now=NOW)


def test_unknown_entries_are_ignored_next_to_a_valid_one() -> None:
    good = signed()["webhook-signature"]
    for value in (f"v1a,xyz {good}", f"v1,bogus {good}", f"{good}  v2,abc", f"v1,Zoë {good}"):
        verify([SECRET_A], signed() | {"webhook-signature": value}, BODY, now=NOW)
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], signed() | {"webhook-signature": "v1,Zoë"}, BODY, now=NOW)


def test_signature_without_version_prefix_is_not_accepted() -> None:
    bare = signed()["webhook-signature"].removeprefix("v1,")
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify([SECRET_A], signed() | {"webhook-signature": bare}, BODY, now=NOW)


def test_signature_error_is_a_value_error() -> None:
    assert issubclass(SignatureError, ValueError)


# --- Properties.

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
              min_size=1, max_size=64)
timestamps = st.integers(min_value=0, max_value=10**12)


@given(body=st.binary(max_size=512), msg_id=ids, timestamp=timestamps)
def test_property_round_trip_and_reference_agreement(
    body: bytes, msg_id: str, timestamp: int
) -> None:
    hdrs = headers([SECRET_A, SECRET_B], msg_id, timestamp, body)
    verify([SECRET_A], hdrs, body, now=timestamp)
    verify([SECRET_B], hdrs, body, now=timestamp)
    assert hdrs["webhook-signature"].split(" ")[0] == ref_sign(SECRET_A, msg_id, timestamp, body)


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_property_any_single_byte_change_fails(body: bytes, data: st.DataObject) -> None:
    hdrs = headers([SECRET_A], MSG_ID, NOW, body)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="index")
    new_byte = data.draw(
        st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index]), label="byte"
    )
    changed = body[:index] + bytes([new_byte]) + body[index + 1:]
    with pytest.raises(SignatureError, match="no matching signature"):
        verify([SECRET_A], hdrs, changed, now=NOW)
