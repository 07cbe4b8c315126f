"""`serve` asks Slack who the bot is (`auth.test`) before it serves, and again until
Slack answers, so no request waits for it (bot/runtime/app.py learn_identity_soon)."""

from __future__ import annotations

import threading
import time

import pytest
from slack_bolt.middleware.authorization.single_team_authorization import SingleTeamAuthorization

from bot.runtime import app as app_module
from bot.runtime.app import create_app, learn_identity_soon
from bot.runtime.bootstrap import Runtime
from tests.support.slack_standin import SlackStandIn


def authorization_of(app: object) -> SingleTeamAuthorization:
    found = [m for m in getattr(app, "_middleware_list") if isinstance(m, SingleTeamAuthorization)]
    assert len(found) == 1
    return found[0]


def test_a_slack_that_does_not_answer_at_start_is_asked_again_until_it_does(
        runtime: Runtime, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "IDENTITY_RETRY_SECONDS", 0.1)
    app = create_app(runtime.services)
    standin.delay_methods["auth.test"] = 1.5  # past the lookup client's 1 s
    stop = threading.Event()
    try:
        learn_identity_soon(app, runtime.services.lookup_client, stop)
        assert authorization_of(app).auth_test_result is None  # not known yet: Bolt would ask on a request
        del standin.delay_methods["auth.test"]
        deadline = time.monotonic() + 5
        while authorization_of(app).auth_test_result is None:
            assert time.monotonic() < deadline, "not asked again"
            time.sleep(0.05)
        assert authorization_of(app).auth_test_result["user_id"]  # type: ignore[index]
    finally:
        stop.set()


def test_a_stop_ends_the_asking(runtime: Runtime, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "IDENTITY_RETRY_SECONDS", 0.1)
    app = create_app(runtime.services)
    standin.delay_methods["auth.test"] = 1.5
    stop = threading.Event()
    learn_identity_soon(app, runtime.services.lookup_client, stop)
    stop.set()
    asked = len(standin.calls_to("auth.test"))
    time.sleep(2.0)  # a retry that was already under way may still be counted
    assert len(standin.calls_to("auth.test")) <= asked + 1
    assert not [t for t in threading.enumerate() if t.name == "learn-identity"]
