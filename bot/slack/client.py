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


REQUEST_TIMEOUT = 1  # seconds: a lookup made before Slack's 3-second acknowledgement


def make_request_client(settings: Settings) -> WebClient:
    """For lookups made while a request is being answered (a user's admin flag and time
    zone, a user group's members, thread links): it never waits out a 429 or retries,
    and gives up after REQUEST_TIMEOUT, so Slack being slow can never hold an
    acknowledgement (or the transaction behind it) past Slack's 3 seconds. Whoever
    calls it keeps what it knew (a cached profile, no link) when it fails."""
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=REQUEST_TIMEOUT,
                     retry_handlers=[])


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
