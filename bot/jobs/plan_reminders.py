"""A repair plan that falls due gets one reminder in its warning's thread.

Run by the daily scan. A plan is due once its day has come in the workspace's
time zone, while its warning root still has an open flag. Each reminder goes
through the sent-message ledger (`plan-due:CHANNEL:PLAN_ID`) and then sets the
plan's `reminded_at`, so reruns, restarts and a second replica send it once.
"""

from __future__ import annotations

from datetime import datetime

from bot.slack import delivery
from bot.store import ledger as sent
from bot.slack.services import Services
from bot.slack.blocks import fallback
from bot.slack.pacing import DEFAULT_PACER, ChannelPacer
from bot.slack.warnings import plan_due_text
from bot.usecases import flag_actions
from bot.usecases.flag_actions import DuePlan


def _key(plan: DuePlan) -> str:
    return sent.message_key("plan-due", plan.message.channel_id, str(plan.plan_id))


def remind_due_plans(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> list[delivery.Outcome]:
    """Reply in the thread of every warning whose plan is due and not yet reminded."""
    today = now.astimezone(services.settings.zone).date()
    sessions = services.session_factory
    with sessions.begin() as session:
        due = flag_actions.due_plans(session, today)
    outcomes = []
    for plan in due:
        def send(plan: DuePlan = plan) -> sent.Delivery:
            pacer.wait_turn(plan.message.channel_id)
            response = services.client.chat_postMessage(channel=plan.message.channel_id,
                                                        thread_ts=plan.message.message_ts,
                                                        text=fallback(plan_due_text(plan)))
            return sent.Delivery(channel_id=plan.message.channel_id, message_ts=response.get("ts"))

        key = _key(plan)
        outcome = delivery.send_once(sessions, key, now, send)
        if outcome is delivery.Outcome.SENT or (outcome is delivery.Outcome.ALREADY and sent.was_sent(sessions, key)):
            with sessions.begin() as session:
                flag_actions.mark_reminded(session, plan.plan_id, now)
        outcomes.append(outcome)
    return outcomes
