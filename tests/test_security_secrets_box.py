"""Webhook secrets at rest: sealed with AES-256-GCM under versioned server keys.

Expected values: the token layout documented in spacecommons/secrets_box.py, decoded here by hand
and opened with the AES-GCM primitive directly (NIST SP 800-38D), independently of SecretBox.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from spacecommons.secrets_box import SecretBox, SecretBoxError, new_key, parse_keys

K1, K2 = new_key(), new_key()


def test_round_trip_and_layout_opened_by_hand():
    box = SecretBox.from_setting(f"k1:{K1}")
    token = box.seal("whsec_abc", context="webhook:42")
    prefix, key_id, body = token.split(".")
    assert (prefix, key_id) == ("scb1", "k1")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    aad = b"spacecommons-secret-v1|k1|webhook:42"
    key = base64.urlsafe_b64decode(K1)
    assert AESGCM(key).decrypt(raw[:12], raw[12:], aad) == b"whsec_abc"
    assert box.open(token, "webhook:42") == "whsec_abc"
    assert "whsec_abc" not in token


def test_each_seal_uses_a_fresh_nonce():
    box = SecretBox.from_setting(f"k1:{K1}")
    assert box.seal("same", "webhook:1") != box.seal("same", "webhook:1")


def test_a_token_moved_to_another_row_does_not_open():
    box = SecretBox.from_setting(f"k1:{K1}")
    token = box.seal("partner A's secret", "webhook:1")
    with pytest.raises(SecretBoxError, match="not for this record"):
        box.open(token, "webhook:2")


def test_an_altered_token_does_not_open():
    box = SecretBox.from_setting(f"k1:{K1}")
    token = box.seal("s", "webhook:1")
    body = token.split(".")[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SecretBoxError):
        box.open(f"scb1.k1.{flipped}", "webhook:1")
    with pytest.raises(SecretBoxError):
        box.open("scb1.k1.AAAA", "webhook:1")
    with pytest.raises(SecretBoxError, match="not a sealed secret"):
        box.open("plain-text-secret", "webhook:1")


def test_rotation_of_the_server_key():
    old = SecretBox.from_setting(f"k1:{K1}")
    token = old.seal("s3cret", "webhook:9")
    rotated = SecretBox.from_setting(f"k2:{K2},k1:{K1}")  # new key first, old kept for opening
    assert rotated.open(token, "webhook:9") == "s3cret"
    assert rotated.needs_reseal(token)
    new_token = rotated.reseal(token, "webhook:9")
    assert SecretBox.key_id(new_token) == "k2" and not rotated.needs_reseal(new_token)
    assert rotated.reseal(new_token, "webhook:9") == new_token
    after = SecretBox.from_setting(f"k2:{K2}")  # old key dropped once everything is resealed
    assert after.open(new_token, "webhook:9") == "s3cret"
    with pytest.raises(SecretBoxError, match="'k1', which is not configured"):
        after.open(token, "webhook:9")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "not set"),
        ("nokey", "expected ID:KEY"),
        ("bad id:" + K1, "expected ID:KEY"),
        ("k1:" + base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
        ("k1:!!!", "32 bytes"),
        (f"k1:{K1},k1:{K2}", "appears twice"),
    ],
)
def test_bad_settings_are_refused_without_echoing_keys(setting, message):
    with pytest.raises(SecretBoxError, match=message) as info:
        parse_keys(setting)
    assert K1 not in str(info.value) and K2 not in str(info.value)
