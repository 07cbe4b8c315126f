"""A repair plan that falls due gets one reminder in its warning's thread.

Run by the daily scan. A plan is due once its day has come in the workspace's
time zone, while its warning root still has an open flag. In one transaction the
scan queues the reply in the outbox (dedupe key `plan-due:PLAN_ID:DUE_DAY`) and sets
the plan's `reminded_at`, so reruns, restarts and a second replica queue it once;
the deliverer sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.slack.blocks import fallback
from bot.slack.services import Services
from bot.slack.warnings import plan_due_text
from bot.store import outbox
from bot.usecases import flag_actions


@dataclass(frozen=True)
class PlansQueued:
    due: int  # plans due and not yet reminded
    queued: tuple[int, ...]  # outbox ids
    already: int  # queued before (by another scan)


def queue_due_plan_reminders(services: Services, now: datetime) -> PlansQueued:
    """Queue a reply in the thread of every warning whose plan is due and not yet reminded."""
    today = now.astimezone(services.settings.zone).date()
    queued: list[int] = []
    with services.session_factory.begin() as session:
        due = flag_actions.due_plans(session, today)
        for plan in due:
            row = outbox.enqueue(session, "reply", plan.message.channel_id,
                                 {"text": fallback(plan_due_text(plan)), "thread_ts": plan.message.message_ts},
                                 dedupe_key=outbox.dedupe_key("plan-due", plan.plan_id, plan.due_on.isoformat()))
            if row is not None:
                queued.append(row)
            flag_actions.mark_reminded(session, plan.plan_id, now)
    return PlansQueued(due=len(due), queued=tuple(queued), already=len(due) - len(queued))
