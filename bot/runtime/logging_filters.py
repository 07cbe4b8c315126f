"""Keeps secrets out of the logs: Slack tokens (xoxb-, xoxp-, xapp-, ...), the
signing secret and the note keys are replaced before any handler sees a record.

`install_redaction(settings)` hooks the record factory, so every record from
every logger (ours, Bolt's, slack_sdk's, SQLAlchemy's) is redacted once at
creation, whatever handlers are attached later. Notes are kept out differently:
Alliance never logs them (the private note never leaves the check-in use case
except as ciphertext; a test runs a whole check-in at DEBUG to hold that), and
DEBUG records that carry a raw Slack payload — Socket Mode logs every envelope,
modal state included, at DEBUG; Bolt logs request bodies at INFO — are replaced by a
one-line notice at every level unless ALLIANCE_DEBUG_LOG_PAYLOADS is on
(`bot.runtime.log_lines`), and exception messages are withheld the same way.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Iterable

from bot.runtime.log_lines import format_exception, payloads_allowed
from bot.settings import Settings

REDACTED = "[redacted]"
TOKEN_PATTERN = re.compile(r"\b(?:xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
MIN_SECRET_LENGTH = 8
PAYLOAD_WITHHELD = "[a Slack payload was withheld from the log: it may hold private notes or message text]"
PAYLOAD_HINT = re.compile(r"envelope_id|[\"']state[\"']\s*:|[\"']view_submission[\"']|[\"']private_metadata[\"']")
# The Slack libraries log whole request and response bodies at DEBUG (the Web API
# client, the response_url webhook client, Socket Mode): replies carry notes.
SLACK_LIBRARIES = ("slack_sdk", "slack_bolt", "alliance.bolt")
# Bolt logs a failed signature check with the whole body at INFO; bot.server logs
# its own one line (reason, client address) before Bolt ever sees such a request.
SIGNATURE_FAILURE_HINT = re.compile(r"Invalid request signature detected")
SIGNATURE_FAILURE_WITHHELD = "a request failed the signature check (body withheld)"
BODY_HINT = re.compile(r"body|payload|[\"']text[\"']|[\"']blocks[\"']", re.IGNORECASE)


class SecretRedactingFilter(logging.Filter):
    """Redacts Slack-token-shaped strings and the given secrets from a record's
    message, arguments and exception text. Always lets the record through."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        with self._lock:
            known = set(self._secrets) | {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def redact(self, text: str) -> str:
        text = TOKEN_PATTERN.sub(REDACTED, text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's to report
            return True
        redacted = self.redact(message)
        if SIGNATURE_FAILURE_HINT.search(redacted) and not payloads_allowed():
            redacted = SIGNATURE_FAILURE_WITHHELD
        elif (record.levelno <= logging.DEBUG or not payloads_allowed()) and (
                PAYLOAD_HINT.search(redacted)
                or (record.name.startswith(SLACK_LIBRARIES) and BODY_HINT.search(redacted))):
            redacted = PAYLOAD_WITHHELD
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = format_exception(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_filter = SecretRedactingFilter()
_installed = False
_install_lock = threading.Lock()


def secrets_of(settings: Settings) -> list[str]:
    return [s for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
                        settings.encryption_key) if s]


def install_redaction(settings: Settings | None = None, extra: Iterable[str] = ()) -> SecretRedactingFilter:
    """Redact every log record from now on (idempotent; secrets accumulate)."""
    global _installed
    _filter.add_secrets([*(secrets_of(settings) if settings else []), *extra])
    with _install_lock:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _filter.filter(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True
    return _filter
