"""The one table of `/alliance` subcommands: what `grammar.parse_command` returns,
mapped to the function that answers it. A new subcommand is its parse in
`bot/domain/grammar.py`, one entry here and its function (tests/test_listeners.py
checks that every command the grammar can return has an entry)."""

from __future__ import annotations

from typing import Any, Callable

from bot.domain import grammar
from bot.slack.blocks import CommandResult
from bot.slack.services import Services
from handlers.commands import admin, cases, config, reminders

Handler = Callable[[Services, str, Any], CommandResult]

SUBCOMMANDS: dict[type, Handler] = {
    grammar.NewCase: cases.new_case,
    grammar.LogCheckin: cases.log_checkin,
    grammar.ListCases: cases.list_cases,
    grammar.ShowHistory: cases.history_with_chart,
    grammar.ChangeStatus: cases.change_status,
    grammar.ShareCase: cases.share_case,
    grammar.ForgetCase: admin.ask_to_forget,
    grammar.Export: admin.export,
    grammar.Config: config.config,
    grammar.SetReminder: reminders.set_reminder,
    grammar.SetAway: reminders.set_away,
}
# Answered by the dispatcher itself, before or at the acknowledgement.
ANSWERED_INLINE: frozenset[type] = frozenset({grammar.OpenCheckin, grammar.Help})
