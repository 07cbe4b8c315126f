"""Work that follows a stored check-in, after Slack has its acknowledgement."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

from bot.services import Services
from bot.slack.notifier import deliver_flag_plan
from bot.usecases import config as config_uc
from bot.usecases import flags as flags_uc
from bot.usecases.checkins import RecordedCheckin

logger = logging.getLogger(__name__)

# One follow-up per case at a time in this process, so two quick check-ins on a
# case never post its warning twice (the database row lock covers other processes
# while the flags are reconciled).
_case_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
_registry_lock = threading.Lock()


def _lock_for(case_id: int) -> threading.Lock:
    with _registry_lock:
        return _case_locks[case_id]


def follow_up_checkin(services: Services, recorded: RecordedCheckin) -> None:
    """Evaluate the case's stall rules, update its flags and post or edit its
    warnings. Runs after the check-in is stored and acknowledged: a failure here
    is logged and never undoes the check-in."""
    try:
        with _lock_for(recorded.case_id):
            evaluate_and_notify(services, recorded)
    except Exception:  # noqa: BLE001 - after the ack there is no one to tell but the log
        logger.exception("stall evaluation failed after session %d of %s; the check-in is stored",
                         recorded.session_number, recorded.code)


def evaluate_and_notify(services: Services, recorded: RecordedCheckin) -> None:
    now = services.now()
    with services.session_factory.begin() as session:
        plan = flags_uc.reconcile_flags(session, recorded.case_id, recorded.checkin_id, now)
        channel = config_uc.supervision_channel(session, services.settings)
    if plan is None:
        logger.info("stall rules for %s: session %d is no longer the newest check-in; skipped",
                    recorded.code, recorded.session_number)
        return
    posted = deliver_flag_plan(services.client, plan, channel, services.pacer)
    if posted:
        with services.session_factory.begin() as session:
            for item in posted:
                flags_uc.record_warning_posted(session, item.flag_ids, item.message)
    logger.info("stall rules for %s after session %d: %s fired; %d posted, %d edited, %d thread notes",
                plan.case_code, plan.session_number, ", ".join(plan.fired) or "none", len(posted),
                len(plan.edits), len(plan.notes))
