"""The Web API client: honours SLACK_API_URL, waits out 429s, retries resets."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import Settings

RATE_LIMIT_RETRIES = 8


def make_client(settings: Settings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


DELIVERY_TIMEOUT = 10


def make_delivery_client(settings: Settings, timeout: int = DELIVERY_TIMEOUT) -> WebClient:
    """The outbox's client: it waits out 429s, but never repeats a call after a
    dropped connection or a timeout by itself (Slack may have taken the first one;
    the deliverer looks before it tries again)."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )
