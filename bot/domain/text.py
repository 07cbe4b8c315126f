"""Text escaping for Slack mrkdwn, pure so use cases can quote what people typed."""

from __future__ import annotations


def escape_mrkdwn(text: str) -> str:
    """Escape the three control characters of Slack mrkdwn: ``&``, ``<``, ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
