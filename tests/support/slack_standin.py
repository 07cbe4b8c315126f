"""The Web API stand-in the tests use is the sandbox's own (bot/sandbox/slack_api.py):
the tests and the local workspace stay one implementation."""

from __future__ import annotations

from bot.sandbox.checks import MESSAGE_BLOCK_LIMIT, VIEW_BLOCK_LIMIT, check_blocks, check_view  # noqa: F401
from bot.sandbox.slack_api import Call, SlackStandIn, User  # noqa: F401
