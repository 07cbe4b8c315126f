"""Note encryption: authenticated, bound to its key and context."""

from __future__ import annotations

import pytest

from bot.store.crypto import KeyProblem, NoteCipher, decode_key, generate_key


def test_generated_keys_are_32_bytes_and_never_look_like_an_option() -> None:
    keys = [generate_key() for _ in range(2000)]
    assert all(len(decode_key(k)) == 32 for k in keys)
    assert not [k for k in keys if k.startswith("-")]
    assert len(set(keys)) == len(keys)


def test_round_trip_and_no_plain_text_in_the_blob() -> None:
    cipher = NoteCipher.from_text(generate_key())
    blob = cipher.encrypt("felt pulled toward A again")
    assert b"pulled" not in blob
    assert cipher.decrypt(blob) == "felt pulled toward A again"
    assert cipher.encrypt("same") != cipher.encrypt("same")  # fresh nonce every time


def test_tampering_another_key_or_context_is_refused() -> None:
    cipher = NoteCipher.from_text(generate_key())
    blob = cipher.encrypt("note")
    with pytest.raises(KeyProblem):
        cipher.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(KeyProblem):
        NoteCipher.from_text(generate_key()).decrypt(blob)
    with pytest.raises(KeyProblem):
        cipher.decrypt(blob, context=b"plan-note")


@pytest.mark.parametrize("text", ["", "short", "not base64 at all!!", "QUFB"])
def test_malformed_keys_are_refused_with_a_clear_message(text: str) -> None:
    with pytest.raises(KeyProblem, match="keys generate"):
        NoteCipher.from_text(text)
