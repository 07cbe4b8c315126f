"""Every log line is one line, and carries no user text.

Two guards, installed once at start-up by `configure_log_output`:

- `OneLineFormatter` escapes every control and format character (newline,
  carriage return, ESC, U+2028, U+202E, zero-width characters ...) in the
  finished line, so a request body, a label or an exception message can never
  forge a second log line or reorder what an operator reads.
- Exception messages are withheld (type and stack frames stay): a message may
  quote what a user typed. `format_exception` is what the redaction filter in
  `bot.logging_filters` uses, so the rule holds whatever handler prints the record.

An operator chasing a bug can set `ALLIANCE_DEBUG_LOG_PAYLOADS=1`: exception
messages and Slack payloads are then logged, and start-up says so loudly.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from types import TracebackType
from typing import IO, Mapping

DEBUG_PAYLOADS_SWITCH = "ALLIANCE_DEBUG_LOG_PAYLOADS"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MESSAGE_WITHHELD = "(message withheld: it may quote user text)"

_payloads_allowed = False
_handler: logging.Handler | None = None
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def payloads_allowed() -> bool:
    """True only while the operator's debug switch is on."""
    return _payloads_allowed


def switch_is_on(environ: Mapping[str, str]) -> bool:
    return environ.get(DEBUG_PAYLOADS_SWITCH, "").strip().lower() in ("1", "true", "yes", "on")


def escape_control(text: str) -> str:
    """`text` on one line: control and format characters written as escapes."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0), f"\\u{ord(m.group(0)):04x}"), text)


def format_exception(exc_info: ExcInfo) -> str:
    """The traceback; exception messages only while the debug switch is on."""
    if _payloads_allowed or exc_info[1] is None:
        return logging.Formatter().formatException(exc_info)
    chain: list[BaseException] = []
    error: BaseException | None = exc_info[1]
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    lines: list[str] = []
    for error in reversed(chain):
        if lines:
            lines.append("During handling of the above exception, another exception occurred:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(error.__traceback__))
        kind = type(error)
        lines.append(f"{kind.__module__}.{kind.__qualname__} {MESSAGE_WITHHELD}\n")
    return "".join(lines).rstrip("\n")


class OneLineFormatter(logging.Formatter):
    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return format_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        return escape_control(super().format(record))


def configure_log_output(environ: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger writing one-line records to `stream`
    (stderr), at ALLIANCE_LOG_LEVEL (INFO); announces the debug switch if set."""
    global _payloads_allowed
    env = os.environ if environ is None else environ
    _payloads_allowed = switch_is_on(env)
    global _handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    root = logging.getLogger()
    if _handler is not None:  # configured before (a second `main()` in one process): replace, not add
        root.removeHandler(_handler)
    _handler = handler
    for existing in root.handlers:  # whatever was there before prints one-line records too
        existing.setFormatter(OneLineFormatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(env.get("ALLIANCE_LOG_LEVEL", "INFO").upper())
    if _payloads_allowed:
        logging.getLogger("alliance").warning(
            "!!! %s is on: request bodies, exception messages and Slack payloads WILL be logged, and they "
            "may hold private notes and names. Turn it off as soon as the bug is found. !!!", DEBUG_PAYLOADS_SWITCH)
    return handler


def set_payloads_allowed(allowed: bool) -> None:
    """For tests: the switch without a process environment."""
    global _payloads_allowed
    _payloads_allowed = allowed
