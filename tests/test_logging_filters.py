"""Tokens, signing secrets and notes never reach the logs."""

from __future__ import annotations

import json
import logging

import pytest

from bot.runtime.bootstrap import Runtime
from bot.runtime.log_lines import set_payloads_allowed
from bot.runtime.logging_filters import PAYLOAD_WITHHELD, REDACTED, SecretRedactingFilter, install_redaction
from tests.support.driver import SlackDriver, rating_values, text_value
from tests.support.slack_requests import SIGNING_SECRET
from tests.test_checkins_e2e import THERAPIST, create_case

logger = logging.getLogger("alliance.test")


@pytest.mark.parametrize("secret", [
    "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
    "xoxp-1234-5678-abcdef",
    "xapp-1-A0ALLIANCE-1234-deadbeef",
    "xoxe.xoxp-1-Mi0yLTEy",
])
def test_token_shapes_are_redacted(secret: str) -> None:
    redactor = SecretRedactingFilter()
    assert redactor.redact(f"Authorization: Bearer {secret} sent") == f"Authorization: Bearer {REDACTED} sent"


def test_records_are_redacted_in_message_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Even with the payload debug switch on (exception messages then logged),
    secrets are redacted. (Issue 12: messages are withheld by default, so this
    test now turns the switch on to reach the redaction of traceback text.)"""
    install_redaction(extra=[SIGNING_SECRET])
    caplog.set_level(logging.DEBUG)
    logger.info("calling with token %s and %r", "xoxb-111-222-abc", {"secret": SIGNING_SECRET})
    set_payloads_allowed(True)
    try:
        raise RuntimeError("bad signature with " + SIGNING_SECRET + " and " + "xapp-1-A0-1-ff")
    except RuntimeError:
        logger.exception("request failed")
    finally:
        set_payloads_allowed(False)
    text = caplog.text
    assert "xoxb-111-222-abc" not in text and SIGNING_SECRET not in text and "xapp-1-A0-1-ff" not in text
    assert text.count(REDACTED) >= 4 and "RuntimeError" in text and "request failed" in text


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = SecretRedactingFilter(["", "abc"])
    assert redactor.redact("abc abc") == "abc abc"


def test_a_full_checkin_flow_logs_no_note_or_secret(slack: SlackDriver, runtime: Runtime,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    install_redaction(runtime.settings)
    caplog.set_level(logging.DEBUG)
    typed_note = "B spoke about the move for the first time"
    modal_note = "A interrupted less after the pause exercise"
    code = create_case(slack)
    assert "Logged session 1" in slack.command(THERAPIST, f'log {code} 8 7 8 8 note="{typed_note}"').text
    view = slack.open_modal(THERAPIST, code)
    values = {**rating_values({"A": 8, "B": 6, "unit": 7, "collective": 8}), "note": text_value(modal_note)}
    assert slack.submit(THERAPIST, view, values).status == 200
    slack.standin.wait_for("chat.postMessage")
    refused = slack.command(THERAPIST, f'log {code} 8 7 8 8 note="mail me at x.y@example.com"')
    assert "nothing was saved" in refused.text
    assert "2 check-ins" in slack.command(THERAPIST, f"history {code}").text

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) > 10, "the flow was logged at DEBUG"
    for secret in (typed_note, modal_note, "x.y@example.com", runtime.settings.slack_bot_token or "-",
                   SIGNING_SECRET, runtime.settings.encryption_key or "-"):
        assert secret not in text


def test_socket_mode_envelopes_at_debug_are_withheld(caplog: pytest.LogCaptureFixture) -> None:
    """Socket Mode logs each envelope at DEBUG (modal state included): withheld."""
    install_redaction()
    caplog.set_level(logging.DEBUG)
    envelope = {"envelope_id": "e-1", "type": "interactive", "payload": {
        "type": "view_submission", "view": {"state": {"values": {"note": {"value": {"value": "B cried twice"}}}}}}}
    logging.getLogger("alliance.bolt").debug(f"on_message invoked: (message: {json.dumps(envelope)})")
    logging.getLogger("alliance.bolt").info("Starting to receive messages from a new connection")
    assert "B cried twice" not in caplog.text and PAYLOAD_WITHHELD in caplog.text
    assert "Starting to receive messages" in caplog.text
