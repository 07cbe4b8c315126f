"""Requests shaped and signed exactly as Slack sends them: the sandbox's own
implementation (bot/sandbox/signed.py), with the tests' signing secret."""

from __future__ import annotations

from bot.sandbox import signed as _signed
from bot.sandbox.signed import (  # noqa: F401 - re-exported for the tests
    TEAM_ID,
    Answer,
    block_actions,
    command_body,
    event_body,
    interaction_body,
    new_trigger_id,
    post,
    signature,
    view_submission,
)

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"


def signed_headers(body: bytes, content_type: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    return _signed.signed_headers(body, content_type, secret, timestamp)
