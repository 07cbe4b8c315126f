"""One scheduled sweep in a fresh process, so its peak memory is its own:

    python -m bench.run_job --url URL --api-url URL --job reminders --now 2026-11-20T23:30:00+00:00

prints one JSON line: seconds (the sweep: deciding what is due and queueing it in the
outbox), delivery seconds (the outbox's deliverer then sending it, as `alliance-bot
run-job` does; its rate is part 5's subject), peak RSS (ru_maxrss) over both, RSS
before the sweep, and what the sweep did. `--profile FILE` profiles the sweep with
pyinstrument and writes text.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from bot.runtime.bootstrap import build_runtime
from bot.store.crypto import NoteCipher, generate_key
from bot.settings import Settings
from tests.support.slack_requests import SIGNING_SECRET

SUPERVISION_CHANNEL = "C0SUPERV1"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_settings(url: str, api_url: str) -> Settings:
    return Settings(slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url,
                    database_url=url, encryption_key=generate_key(), supervision_channel=SUPERVISION_CHANNEL,
                    timezone="America/New_York", supervisors=("U0SUPER01",), admins=("U0ADMIN01",))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-url", default="", help="the Web API stand-in; without it, Slack calls are counted in process")
    parser.add_argument("--job", required=True, choices=["reminders", "scan", "digest"])
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()

    from bot.jobs.sweeps import JOBS
    from bot.slack.outbox_delivery import Deliverer
    from bot.slack.pacing import ChannelPacer

    settings = bench_settings(args.url, args.api_url or "https://slack.invalid/api/")
    runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    runtime.services.clock = lambda: args.now
    counting = None
    if not args.api_url:
        from bot.slack.roles import RoleResolver
        from bench.counting_client import CountingClient

        counting = CountingClient(token=settings.slack_bot_token, base_url="https://slack.invalid/api/")
        runtime.services.client = counting
        runtime.services.roles = RoleResolver(settings, counting)
    with runtime.engine.connect():  # the pool's first connection, as a running process has it
        pass
    before = rss_mb()
    profiler = None
    if args.profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    started = time.perf_counter()
    result = JOBS[args.job](runtime.services, args.now, ChannelPacer())
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    # The deliverer on the same client (counted in process, or the stand-in), paced as `serve` paces.
    pacer = ChannelPacer()
    deliverer = Deliverer(runtime.engine, runtime.services.session_factory, runtime.services.client, lambda: pacer)
    started = time.perf_counter()
    try:
        delivered = deliverer.drain(timeout=1800)
    finally:
        deliverer.stop()
    delivery_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runtime.engine.dispose()
    outcome = asdict(result)
    outcome["at"] = result.at.isoformat()
    calls = dict(counting.counts) if counting else {}
    busiest = max(counting.per_channel.values(), default=0) if counting else 0
    print(json.dumps({"seconds": seconds, "delivery_seconds": delivery_seconds, "delivered": delivered, "peak_mb": peak,
                      "before_mb": before, "result": outcome, "calls": calls, "busiest_channel": busiest}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
