"""The one table of `/alliance` subcommands: what `grammar.parse_command` returns,
mapped to the function that answers it. A new subcommand is its parse in
`bot/domain/grammar.py`, one entry here and its function (tests/test_listeners.py
checks that every command the grammar can return has an entry)."""

from __future__ import annotations

from typing import Any, Callable

from bot.domain import grammar
from bot.slack.blocks import CommandResult
from bot.slack.services import Services
from handlers.commands import attendance_commands, correction_commands, handover_commands, supervision_commands
from handlers.commands import admin_commands, case_commands, config_commands, rating_commands, reminder_commands

Handler = Callable[[Services, str, Any], CommandResult]

SUBCOMMANDS: dict[type, Handler] = {
    grammar.NewCase: case_commands.new_case,
    grammar.LogCheckin: case_commands.log_checkin,
    grammar.ListCases: supervision_commands.list_cases,  # a therapist's own; a supervisor's team (issue 14)
    grammar.ShowHistory: case_commands.history_with_chart,
    grammar.ChangeStatus: case_commands.change_status,
    grammar.ShareCase: case_commands.share_case,
    grammar.ForgetCase: admin_commands.ask_to_forget,
    grammar.RateLinks: rating_commands.rate,
    grammar.Export: admin_commands.export,
    grammar.Config: config_commands.config,
    grammar.SetReminder: reminder_commands.set_reminder,
    grammar.SetAway: reminder_commands.set_away,
    grammar.Undo: correction_commands.undo,
    grammar.EditCheckin: correction_commands.edit,
    grammar.Missed: attendance_commands.missed,
    grammar.SetCadence: attendance_commands.cadence,
    grammar.Transfer: handover_commands.transfer,
    grammar.Agenda: supervision_commands.agenda,
}
# Answered by the dispatcher itself, before or at the acknowledgement.
ANSWERED_INLINE: frozenset[type] = frozenset({grammar.OpenCheckin, grammar.Help})
