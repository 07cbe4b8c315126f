"""Work that follows a stored check-in, after Slack has its acknowledgement."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from bot.slack.services import Services
from sqlalchemy import or_, select

from bot.store.models import SentMessage
from bot.store import ledger as sent
from bot.slack.notifier import Posted, deliver_flag_plan
from bot.slack.question_text import question_counts
from bot.slack.rating_links import send_rating_links
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


def after_checkin(services: Services, recorded: RecordedCheckin, user_id: str) -> None:
    """What follows a newly stored check-in: its stall rules and warnings, then the
    therapist's client rating links (issue 16; only with ALLIANCE_PUBLIC_URL)."""
    follow_up_checkin(services, recorded)
    try:
        send_rating_links(services, user_id, recorded)
    except Exception:  # noqa: BLE001 - after the ack there is no one to tell but the log
        logger.exception("client rating links for session %d of %s could not be sent", recorded.session_number,
                         recorded.code)


def evaluate_and_notify(services: Services, recorded: RecordedCheckin) -> None:
    now = services.now()
    with services.session_factory.begin() as session:
        plan = flags_uc.reconcile_flags(session, recorded.case_id, recorded.checkin_id, now, question_counts(),
                                        count_quiet=not recorded.reevaluation)
        channel = config_uc.supervision_channel(session, services.settings)
    if plan is None:
        logger.info("stall rules for %s: session %d is no longer the newest check-in; skipped",
                    recorded.code, recorded.session_number)
        return
    plan, claims = claim_new_roots(services, plan, now)
    posted = deliver_flag_plan(services.client, plan, channel, services.pacer)
    if posted:
        with services.session_factory.begin() as session:
            for item in posted:
                flags_uc.record_warning_posted(session, item.flag_ids, item.message)
    settle_claims(services, claims, posted, now)
    logger.info("stall rules for %s after session %d: %s fired; %d posted, %d edited, %d thread notes",
                plan.case_code, plan.session_number, ", ".join(plan.fired) or "none", len(posted),
                len(plan.edits), len(plan.notes))


def _root_keys(post: flags_uc.WarningPost) -> list[str]:
    return [flags_uc.warning_root_key(flag_id, post.route.value) for flag_id in post.flag_ids]


def claim_new_roots(services: Services, plan: flags_uc.FlagPlan,
                    now: datetime) -> tuple[flags_uc.FlagPlan, dict[tuple[int, ...], list[str]]]:
    """Claim each new warning root in the sent-message ledger before posting it, so
    that another process following a check-in on the same case at the same moment
    does not post it a second time. A root whose flags another process is posting
    right now is left to that process (its flags are posted there, or at the next
    check-in if that post fails)."""
    kept: list[flags_uc.WarningPost] = []
    claims: dict[tuple[int, ...], list[str]] = {}
    for post in plan.posts:
        keys = _root_keys(post)
        busy = _posting_elsewhere(services, post, now)
        got = set() if busy else sent.claim_many(services.session_factory, keys, now)
        if got == set(keys):
            kept.append(post)
            claims[post.flag_ids] = keys
            continue
        for key in got:
            sent.release(services.session_factory, key)
        logger.info("a %s warning for %s is being posted by another process; not posting it again",
                    post.route.value, plan.case_code)
    return replace(plan, posts=tuple(kept)), claims


def _posting_elsewhere(services: Services, post: flags_uc.WarningPost, now: datetime) -> bool:
    """Whether another process holds a fresh claim on a root for any of these flags,
    on any route (a DM root being posted while this process would escalate)."""
    prefixes = [flags_uc.warning_root_prefix(flag_id) for flag_id in post.flag_ids]
    with services.session_factory() as session:
        return bool(session.scalar(select(SentMessage.key).where(
            or_(*(SentMessage.key.startswith(prefix) for prefix in prefixes)),
            SentMessage.status == sent.PENDING, SentMessage.claimed_at > now - sent.STALE_AFTER).limit(1)))


def settle_claims(services: Services, claims: dict[tuple[int, ...], list[str]], posted: list[Posted],
                  now: datetime) -> None:
    """Posted roots stay claimed for good; failed ones are released for the next check-in."""
    landed = {item.flag_ids: item.message for item in posted}
    for flag_ids, keys in claims.items():
        message = landed.get(flag_ids)
        for key in keys:
            if message is not None:
                sent.mark_sent(services.session_factory, key, now,
                               sent.Delivery(channel_id=message.channel_id, message_ts=message.message_ts))
            else:
                sent.release(services.session_factory, key)
