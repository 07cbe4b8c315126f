"""`alliance-bot sandbox --demo`: four weeks of invented check-ins for three
therapists, typed as the real commands and pressed as the real buttons, with
the clock moved from week to week so the scheduled jobs run as they would.
The result: warnings in #supervision and by DM, a discussed thread, a repair
plan, reminders, and Monday digests with their charts. Case codes only."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.sandbox.clock import parse_when
from bot.sandbox.people import SUPERVISION_CHANNEL, SUPERVISOR, THERAPIST_A, THERAPIST_B, THERAPIST_C, WORKSPACE_TIMEZONE
from bot.sandbox.workspace import dm_channel

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

logger = logging.getLogger("alliance.sandbox")
DEMO_WEEKS = 4
START_BACK = timedelta(days=7 * DEMO_WEEKS + 2)  # where the demo's clock starts, before now
# Ratings per weekly session, members first, then unit and collective (as `log` takes them).
SESSIONS = {
    THERAPIST_A.id: ("8 8 8 8", "8 7 8 7", "7 5 6 5", "3 2 3 2"),  # sliding, then a clearly bad session
    THERAPIST_B.id: ("8 8 8 8", "9 6 7 7", "9 4 6 6", "9 4 6 6"),  # one partner drifting away: a split
    THERAPIST_C.id: ("7 8 7 8", "8 8 8 8", None, "9 8 9 9"),  # steady; one week missed
}


class Demo:
    def __init__(self, sandbox: "Sandbox") -> None:
        self.sandbox = sandbox
        self.side = sandbox.side
        self.zone = ZoneInfo(WORKSPACE_TIMEZONE)

    def at(self, when: str, jobs: bool = True) -> None:
        """Move the clock and run the scheduled jobs, as the page's clock control does."""
        self.sandbox.clock.move_to(parse_when(when, self.sandbox.clock(), self.zone))
        self.sandbox.settle()
        if not jobs:
            return
        for line in self.sandbox.run_jobs():
            logger.info("demo: %s", line)
        self.sandbox.settle()

    def command(self, user: str, text: str) -> None:
        problem = self.side.command(user, dm_channel(user), text)
        if problem:
            raise RuntimeError(f"demo: /alliance {text}: {problem}")
        self.sandbox.settle()

    def new_case(self, user: str) -> str:
        self.command(user, "new couple")
        for message in reversed(self.sandbox.standin.workspace.visible(dm_channel(user), user)):
            found = re.search(r"Created \*(CPL-[A-Z0-9]+)\*", message.get("text") or "")
            if found:
                return found.group(1)
        raise RuntimeError("demo: no case code came back")

    def warning(self, code: str) -> dict[str, Any] | None:
        for message in self.sandbox.standin.workspace.visible(SUPERVISION_CHANNEL, SUPERVISOR.id):
            if code in (message.get("text") or "") and "Stall warning" in (message.get("text") or ""):
                return message
        return None

    def press(self, user: str, message: dict[str, Any], action_id: str) -> None:
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    action = {"type": "button", "action_id": action_id, "block_id": block.get("block_id"),
                              "value": element.get("value"), "text": element.get("text")}
                    self.side.message_action(user, SUPERVISION_CHANNEL, message["ts"], action)
                    self.sandbox.settle()
                    return
        raise RuntimeError(f"demo: no {action_id} button")

    def fill_and_submit(self, user: str, note: str) -> None:
        """Answer the open modal as a person would: first choice, the offered date, a short note."""
        modal = self.sandbox.standin.workspace.top_modal(user)
        if modal is None:
            raise RuntimeError("demo: no modal opened")
        values: dict[str, Any] = {}
        for block in modal.view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input":
                continue
            kind, options = element.get("type"), element.get("options") or []
            if kind in ("radio_buttons", "static_select") and options:
                answer = {"type": kind, "selected_option": {"value": options[0]["value"], "text": options[0]["text"]}}
            elif kind == "datepicker":
                answer = {"type": kind, "selected_date": element.get("initial_date")}
            elif kind == "plain_text_input":
                answer = {"type": kind, "value": note}
            else:
                answer = {"type": kind, "selected_options": []}
            values[block["block_id"]] = {element.get("action_id"): answer}
        self.side.submit(user, modal.id, values)
        self.sandbox.settle()

    def run(self) -> None:
        codes = {}
        self.at("next Monday 10:00", jobs=False)
        for user in SESSIONS:
            codes[user] = self.new_case(user)
        for week in range(DEMO_WEEKS):
            self.at("next Tuesday 11:00")
            for user, sessions in SESSIONS.items():
                if sessions[week] is not None:
                    self.command(user, f"log {codes[user]} {sessions[week]}")
            for friday in ("next Friday 09:00", "next Friday 15:00", "+3 hours"):  # 15:00 in Berlin, New York, Los Angeles
                self.at(friday)  # reminders for whoever has not logged this week
            if week == DEMO_WEEKS - 1:
                self.discuss(codes[THERAPIST_A.id])
            self.at("next Monday 09:00")  # the weekly digest, and its chart once cases are flagged

    def discuss(self, code: str) -> None:
        """A supervisor asks in the warning's thread; the therapist plans a repair."""
        root = self.warning(code)
        if root is None:
            logger.warning("demo: no supervision warning for %s under the current rules", code)
            return
        self.side.message(SUPERVISOR.id, SUPERVISION_CHANNEL, "What changed in the last session? Shall we look at it on Thursday?",
                          thread_ts=root["ts"])
        self.side.message(THERAPIST_A.id, SUPERVISION_CHANNEL, "Both withdrew after the argument about the move. Yes, Thursday.",
                          thread_ts=root["ts"])
        self.sandbox.settle()
        self.press(THERAPIST_A.id, root, "flag_plan_repair")
        self.fill_and_submit(THERAPIST_A.id, "Name the rupture openly at the start of the next session.")


def fill_demo(sandbox: "Sandbox") -> None:
    started = datetime.now()
    try:
        Demo(sandbox).run()
    except Exception:  # noqa: BLE001 - the page keeps working with whatever was filled
        logger.exception("demo: filling the workspace stopped")
        return
    print(f"Demo workspace filled in {(datetime.now() - started).total_seconds():.0f} s: "
          "three therapists' cases, warnings, a discussed thread, a plan, reminders and digests.", flush=True)
