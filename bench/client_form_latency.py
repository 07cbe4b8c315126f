"""Answer latency of the client rating pages (issue 16): `python -m bench.client_form_latency [N]`.

Serves the real WSGI stack (waitress, AllianceWsgi, RatingPages) on SQLite with a
Web API stand-in behind it, issues N member links, then for each link opens the
form (GET) and sends an answer (POST) over HTTP, as a phone would, timing both.
The stall rules that follow an answer run on the follow-up pool, as in production,
and are included in the load but not in the answer's time (they do not hold it up).
Target: answer p99 < 100 ms."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bot.runtime.bootstrap import build_runtime
from bot.store.crypto import NoteCipher, generate_key
from bot.store.db import upgrade
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput
from bot.settings import Settings
from bot.slack.pacing import ChannelPacer
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.usecases import rating_links as links_uc
from tests.support import rating_pages as rp
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn

THERAPIST = "U0BENCH01"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(count: int = 300) -> int:
    standin = SlackStandIn().start()
    port = rp.free_port()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        key = generate_key()
        settings = Settings(slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET,
                            slack_api_url=standin.api_url, database_url=url, encryption_key=key,
                            public_url=f"http://127.0.0.1:{port}")
        runtime = build_runtime(settings, cipher=NoteCipher.from_text(key))
        runtime.services.pacer = ChannelPacer(interval=0)  # the warnings that follow are not what is timed
        now = datetime.now(timezone.utc)
        tokens: list[str] = []
        with runtime.services.session_factory.begin() as session:
            actor = runtime.services.roles.actor(session, THERAPIST, now)
            for _ in range((count + 1) // 2):
                case = case_uc.create_case(session, actor, CaseKind.COUPLE, 2, (), now)
                recorded = checkin_uc.record_checkin(
                    session, actor, case.code, CheckinInput(ratings={"A": 8, "B": 8, "unit": 8, "collective": 8}),
                    now, runtime.services.cipher)
                issued = links_uc.issue_for_checkin(session, recorded.checkin_id, THERAPIST, now, 48)
                assert issued is not None
                tokens += [token for _, token in issued.members]
        tokens = tokens[:count]
        with rp.serve_with_pages(runtime, standin, port) as driver:
            pages = driver.pages  # type: ignore[attr-defined]
            pages.limits.per_address.limit = 10 * count  # one address sends everything here
            opened: list[float] = []
            answered: list[float] = []
            for token in tokens:
                link = f"http://127.0.0.1:{port}/r/{token}"
                started = time.perf_counter()
                form = rp.fetch(link)
                opened.append(time.perf_counter() - started)
                assert form.status == 200, form.body
                cookie = form.headers["set-cookie"].split(";", 1)[0]
                data = {"csrf": form.hidden("csrf"), "heard": "8", "goals": "7", "approach": "7", "overall": "8",
                        "safety": "9"}
                started = time.perf_counter()
                page = rp.fetch(link, data, cookie)
                answered.append(time.perf_counter() - started)
                assert page.status == 200, page.body
        runtime.engine.dispose()
    standin.stop()
    for name, values in (("open form (GET)", opened), ("answer (POST)", answered)):
        ms = [v * 1000 for v in values]
        print(f"{name:16} n={len(ms)}  p50 {statistics.median(ms):6.1f} ms  p95 {percentile(ms, .95):6.1f} ms  "
              f"p99 {percentile(ms, .99):6.1f} ms  max {max(ms):6.1f} ms")
    return 0 if percentile([v * 1000 for v in answered], .99) < 100 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
