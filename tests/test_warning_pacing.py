"""Warnings and thread replies keep to one message a second per channel, like the jobs."""

from __future__ import annotations

from bot.runtime.bootstrap import Runtime
from bot.slack.pacing import ChannelPacer
from tests.conftest import SUPERVISION_CHANNEL
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import THERAPIST, create_case


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_of_warnings_to_one_channel_is_paced(slack: SlackDriver, runtime: Runtime) -> None:
    fake = FakeTime()
    runtime.services.pacer = ChannelPacer(interval=1.0, monotonic=fake.monotonic, sleep=fake.sleep)
    codes = [create_case(slack) for _ in range(3)]
    for code in codes:  # a split held twice goes to the supervision channel
        for ratings in ("8 8 8 8", "9 5 8 8", "9 5 8 8"):
            slack.command(THERAPIST, f"log {code} {ratings}")
    slack.standin.wait_for("chat.postMessage", 1)
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        to_channel = [c for c in slack.standin.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISION_CHANNEL]
        if len(to_channel) >= 3:
            break
        time.sleep(0.05)
    to_channel = [c for c in slack.standin.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISION_CHANNEL]
    assert len(to_channel) >= 3
    # Every post after the first to a channel waited its turn: the fake clock moved
    # one second for each, and never less.
    assert fake.slept and all(abs(s - 1.0) < 1e-9 or s <= 1.0 for s in fake.slept)
    assert sum(fake.slept) >= len(to_channel) - 1
