"""People's display names from `users.info`, cached in memory: names change rarely,
and an export lists the same few therapists on every row."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

NAME_TTL = timedelta(hours=6)


class DisplayNames:
    def __init__(self, ttl: timedelta = NAME_TTL) -> None:
        self._ttl = ttl
        self._names: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def name_of(self, client: WebClient, user_id: str, now: datetime) -> str:
        """The name Slack shows for `user_id` (display name, else full name, else
        handle); "" when Slack will not say. One `users.info` per person per TTL."""
        with self._lock:
            cached = self._names.get(user_id)
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except SlackApiError as error:
            logger.warning("users.info failed for a display name: %s", error.response.get("error"))
            return cached[0] if cached is not None else ""
        profile = user.get("profile") or {}
        name = str(profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                   or user.get("name") or "")
        with self._lock:
            self._names[user_id] = (name, now)
        return name
