"""Two processes following check-ins on one case at the same moment post its warning once."""

from __future__ import annotations

from bot.runtime.bootstrap import Runtime
from bot.slack.followups import claim_new_roots, evaluate_and_notify, settle_claims
from bot.domain.checkins import TherapistFlag
from bot.slack.notifier import deliver_flag_plan
from tests.support.slack_standin import SlackStandIn
from tests.test_flags import log, log_and_reconcile, new_case


def steady(runtime: Runtime, code: str) -> None:
    """Three quiet check-ins: past a case's first two (issue 13: early low levels are notices).
    B at 7, so that a fall to 4 is a warning by DM (clearly low; a fall of 4 would be serious)."""
    for _ in range(3):
        log_and_reconcile(runtime, code, "8 7 8 8")


def roots(standin: SlackStandIn) -> list[dict]:
    return [c.args for c in standin.calls_to("chat.postMessage") if "thread_ts" not in c.args]


def test_a_root_being_posted_elsewhere_is_not_posted_again(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    code = new_case(runtime)
    steady(runtime, code)
    # "Process A" reconciled a drop and claimed its new root, and is about to post it…
    plan_a = log_and_reconcile(runtime, code, "9 4 8 8")
    assert plan_a.posts
    plan_a, claims_a = claim_new_roots(services, plan_a, services.now())
    assert plan_a.posts and claims_a
    # …when "process B" follows the next check-in on the same case: it must not post that root.
    evaluate_and_notify(services, log(runtime, code, "9 4 8 8"))
    assert roots(standin) == []
    # A posts; the root exists once.
    posted = deliver_flag_plan(services.client, plan_a, None, services.pacer)
    settle_claims(services, claims_a, posted, services.now())
    assert len(roots(standin)) == 1


def test_a_failed_post_is_released_for_the_next_checkin(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    code = new_case(runtime)
    tension = frozenset({TherapistFlag.TENSION})
    log_and_reconcile(runtime, code, "8 8 8 8", flags=tension)
    standin.fail_methods["chat.postMessage"] = "channel_not_found"
    evaluate_and_notify(services, log(runtime, code, "8 8 8 8", flags=tension))  # Recurring tension, by DM
    del standin.fail_methods["chat.postMessage"]
    evaluate_and_notify(services, log(runtime, code, "8 8 8 8", flags=tension))  # fires again: a warning still
    assert len(roots(standin)) == 2  # the refused attempt, then the one that landed
    assert standin.calls_to("chat.postMessage")[-1].args["channel"] == "U0THERA01"


def test_no_root_is_claimed_while_another_route_is_being_posted(runtime: Runtime, standin: SlackStandIn) -> None:
    """A warning posted by DM in one process while the next check-in, in another, would
    already move it to supervision (B low twice): the move waits for the DM root to exist."""
    services = runtime.services
    code = new_case(runtime)
    steady(runtime, code)
    plan_a, claims_a = claim_new_roots(services, log_and_reconcile(runtime, code, "8 4 8 8"), services.now())
    assert [post.route.value for post in plan_a.posts] == ["dm"]
    evaluate_and_notify(services, log(runtime, code, "8 4 8 8"))  # it held: supervision, but A is posting
    assert roots(standin) == []
    settle_claims(services, claims_a, deliver_flag_plan(services.client, plan_a, None, services.pacer), services.now())
    assert len(roots(standin)) == 1
