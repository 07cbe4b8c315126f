"""Every action_id, block_id and callback_id, in one place."""

from __future__ import annotations

from enum import StrEnum


class Callback(StrEnum):
    CHECKIN = "checkin_modal"
    PLAN_REPAIR = "plan_repair_modal"
    RESOLVE = "resolve_modal"
    FORGET = "forget_modal"


class Block(StrEnum):
    CASE = "case"
    SESSION = "session"
    SESSION_DATE = "session_date"
    RUPTURE = "rupture"
    RUPTURE_WITH = "rupture_with"
    FLAGS = "therapist_flags"
    NOTE = "note"
    ERROR = "error"
    PLAN_ACTION = "plan_action"
    PLAN_DUE = "plan_due"
    PLAN_NOTE = "plan_note"
    RESOLUTION = "resolution"
    RESOLUTION_NOTE = "resolution_note"
    WARNING_ACTIONS = "warning_actions"
    WARNING_HEADING = "warning_heading"  # the case and rules atop the plan/resolve modals
    REMINDER_ACTIONS = "reminder_actions"
    HOME_CASES = "home_cases"
    FORGET_ACTIONS = "forget_actions"
    LOG_AGAIN_ACTIONS = "log_again_actions"
    AGENDA_ACTIONS = "agenda_actions"

    @staticmethod
    def rating(thread: str) -> str:
        return f"rating:{thread}"

    @staticmethod
    def client_score(member: str) -> str:
        return f"client:{member}"


class Action(StrEnum):
    CASE_PICKED = "case_picked"
    VALUE = "value"  # the one input inside an input block
    ACKNOWLEDGE = "flag_acknowledge"
    PLAN_REPAIR = "flag_plan_repair"
    RESOLVE = "flag_resolve"
    LOG_NOW = "reminder_log_now"
    SNOOZE = "reminder_snooze"
    PAUSE_CASE = "reminder_pause_case"
    HOME_LOG = "home_log"
    HOME_HISTORY = "home_history"
    HOME_PAGE = "home_page"
    HOME_PREVIOUS = "home_page_previous"
    HOME_NEXT = "home_page_next"
    FORGET_CONFIRM = "forget_confirm"
    FORGET_CANCEL = "forget_cancel"
    LOG_AGAIN = "log_again"  # a second same-day `log`, confirmed
    LOG_AGAIN_CANCEL = "log_again_cancel"
    POST_AGENDA = "agenda_post"  # a supervisor posts this week's agenda to the supervision channel
