"""Every message template rendered with one, two and several items (issue 14, item 8):
no "1 threads", no "Sessions 1–1", no eight-day week, "→" only for "to"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.checkin_input import parse_ratings
from bot.domain.checkins import CheckinRecord
from bot.domain.errors import UserError
from bot.domain.sparkline import trend_arrow
from bot.domain.wording import day_range, plural, span
from bot.jobs.digest import DigestData, OpenFlag, digest_text
from bot.jobs.silence import SilentCase
from bot.slack.templating import DEFAULT_TEMPLATES_DIR, mention, render
from bot.usecases.history import CaseHistory
from bot.usecases.private_notes import PrivateNotes
from bot.slack.history_view import history_reply

COUNT_NOUNS = ("thread", "rating", "check-in", "flag", "case", "member", "day", "session", "note", "reply",
               "message", "thread message", "week", "person", "question", "therapist", "time")
PLURALS = {"reply": "replies", "person": "people"}
ONE_OF_MANY = re.compile(r"\b1 (" + "|".join(re.escape(PLURALS.get(n, n + "s")) for n in COUNT_NOUNS) + r")\b")
GENERIC_ONE_PLURAL = re.compile(r"\b1 ([a-z-]+s)\b")
EQUAL_RANGE = re.compile(r"\b(\d+) ?– ?\1\b")
NOT_NOUNS = {"is", "was", "has", "does", "goes", "says"}  # "session 1 was…" is fine
U1, U2 = "U0THERA01", "U0THERA02"
SIZES = (1, 2, 5)


def wording_problems(text: str) -> list[str]:
    problems = [f"'1 {m.group(1)}'" for m in ONE_OF_MANY.finditer(text)]
    problems += [f"'1 {m.group(1)}'" for m in GENERIC_ONE_PLURAL.finditer(text)
                 if m.group(1) not in NOT_NOUNS and f"'1 {m.group(1)}'" not in problems]
    problems += [f"range '{m.group(0)}'" for m in EQUAL_RANGE.finditer(text)]
    return problems


def contexts(n: int) -> dict[str, dict[str, Any]]:
    """A context per template with `n` of everything that can be counted."""
    codes = [f"CPL-{i}KQ2" for i in range(n)]
    threads = ["A", "B", "unit", "collective"][:n] if n < 4 else ["A", "B", "C", "unit", "collective"]
    flag = {"code": "CPL-7KQ2", "rule": "Split alliance", "rules": "Split alliance, Stalled",
            "view": "therapist 4–8 · clients A 34/40" if n > 1 else None, "therapist": mention(U1), "age": n, "discussing": n > 1,
            "link": None, "status": "open", "owner": mention(U1), "replies": n}
    rule = {"title": "Split alliance", "firing": n == 1, "quiet_checkins": n, "route": "supervision", "status": "open",
            "resolution": None, "evidence": ["A 9 vs B 5 (gap 4)"] * n}
    reminder_cases = [{"code": c, "kind": "couple", "silent_days": n if i == 0 else None, "last_days": i}
                      for i, c in enumerate(codes)]
    data = {"active_cases": n, "checkins": n, "new_flags": n, "open_flags": n, "resolved_flags": n, "silent_days": n,
            "missed": n}
    return {
        "messages/case_created.j2": {"code": "IND-SWBQ", "kind": "individual", "threads": threads, "example": "8",
                                     "cadence": "every 2 weeks" if n > 1 else None},
        "messages/case_created_reply.j2": {"code": "CPL-7KQ2"},
        "messages/rating_links.j2": {"code": "CPL-7KQ2", "session_number": n, "hours": n,
                                     "members": [(m, f"<https://clinic.example/r/t{m}>") for m in "AB"[:n]],
                                     "kiosk": "<https://clinic.example/r/k>", "already": ", ".join(threads[:n - 1])},
        "messages/rating_links_off.j2": {"code": "CPL-7KQ2", "once": n == 1},
        "messages/case_forgotten.j2": {"code": "CPL-7KQ2", "checkins": n, "flags": n, "roots": n},
        "messages/cases.j2": {"cases": [{"code": c, "kind": "couple", "status": "active", "last": "today",
                                         "open_flags": n, "shared": False} for c in codes]},
        "messages/channel_unreachable.j2": {"channel": "C0SUPERV1", "error": "not_in_channel"},
        "messages/checkin_logged.j2": {"session_number": n, "code": "CPL-7KQ2", "scores": "A 8", "resumed": n > 1,
                                       "duplicate": n > 2},
        "messages/config_show.j2": {"rows": [{"key": "split_gap", "value": n, "overridden": True, "default": 3,
                                              "description": "gap", "allowed": "a whole number from 1 to 10",
                                              "basis": "team"},
                                             {"key": "calibration_min_checkins", "value": 30, "overridden": False,
                                              "default": 30, "description": "check-ins before calibration",
                                              "allowed": "a whole number from 5 to 500", "basis": "team"}],
                                    "channel": None, "source": "environment",
                                    "supervisors": [mention(U1)] * n, "reminders": "Fridays at 15:00",
                                    "digest": "Mondays at 09:00", "zone": "UTC", "retention": n,
                                    "calibration": [(mention(U1), f"{n} point lower")] * n},
        "messages/digest.j2": {"week": "Mon 22 Feb – Sun 28 Feb", "data": data, "flags": [flag] * n, "more_flags": n,
                               "silent": [{"code": c, "therapist": mention(U1), "days": n, "never": i == 0}
                                          for i, c in enumerate(codes)], "more_silent": n, "chart": True,
                               "improved": codes, "more_improved": n},
        "messages/export_sent.j2": {"checkins": n, "flags": n, "cases": n},
        "messages/export_comment.j2": {"checkins": n, "flags": n, "cases": n},
        "messages/export_refused.j2": {},
        "messages/forget_confirm.j2": {"code": "CPL-7KQ2", "checkins": n, "flags": n, "notes": n},
        "messages/help.j2": {},
        "messages/history.j2": {"code": "CPL-7KQ2", "kind": "couple", "status": "active", "total": n, "shown": 1,
                                "rows": [{"label": "A", "spark": "▆", "trend": "8"}], "first_session": 1,
                                "last_session": n, "example": "8 8 8 8",
                                "notes": PrivateNotes(checkins=tuple((i, "x") for i in range(n))),
                                "missed": [(i + 2, "no-show") for i in range(n)], "own_notes_only": n == 2},
        "messages/log_again.j2": {"code": "CPL-7KQ2", "day": "Fri 20 Nov", "earlier": n, "next": n + 1,
                                  "with_note": n == 2},
        "messages/reminder.j2": {"part": "intro", "snoozed": n == 2, "count": n, "cases": reminder_cases,
                                 "more": reminder_cases,
                                 "notices": [{"code": "CPL-7KQ2", "rules": "Split alliance", "evidence": ["A 9 vs B 6"],
                                              "question": "What happened?"}] * n,
                                 "improved": ["CPL-7KQ2"] * n, "no_shows": codes},
        "messages/thread_acknowledged.j2": {"who": mention(U1)},
        "messages/thread_checkin.j2": {"session": n, "scores": "A 8 → 9", "rules": [rule] * n, "close_after": n},
        "messages/thread_plan.j2": {"who": mention(U1), "action": "raise it in session", "due": "Friday"},
        "messages/thread_plan_due.j2": {"therapist": mention(U1), "planner": mention(U1 if n == 1 else U2),
                                        "action": "raise it in session", "due": "Friday"},
        "messages/thread_resolved.j2": {"who": mention(U1), "resolution": "repaired", "rules": ["Split"] * n,
                                        "case_closed": n > 1, "code": "CPL-7KQ2"},
        "messages/warning/closed.j2": {"title": "Split alliance", "count": n},
        "messages/warning/escalated.j2": {"title": "Split alliance", "channel": None, "thread": None},
        "messages/warning/heading.j2": {"code": "CPL-7KQ2", "therapist": mention(U1), "titles": ["Split"] * n},
        "messages/warning/questions.j2": {"questions": ["What happened?"] * n},
        "messages/warning/rule.j2": {"rule": rule, "session": n, "close_after": n},
        "messages/warning/status.j2": {"status": "open", "session": n, "acknowledged": None, "plan": None,
                                       "due": None, "resolved_by": None},
        "messages/warning/trends.j2": {"count": n, "rows": [{"label": "A", "spark": "▆▆", "latest": "8",
                                                             "arrow": trend_arrow([8] * n)}]},
        "home/case_row.j2": {"row": {"code": "CPL-7KQ2", "kind": "couple", "status": "active", "open_flags": n},
                             "last": "today", "trends": [("A", "▆", "8")] * n},
        "home/overview.j2": {"flags": [flag] * n, "more": n},
        "home/team.j2": {"therapist": mention(U1), "open_flags": n, "silent": n,
                         "cases": [{"code": c, "kind": "couple", "spark": "▆" * n, "last": "today", "open_flags": n,
                                    "silent": i == 0, "link": "<https://clinic.example/p1|supervision thread>"}
                                   for i, c in enumerate(codes)]},
        "messages/agenda.j2": {"week": "Mon 16 Nov",
                               "serious": [{"code": c, "rule": "Split alliance", "therapist": mention(U1),
                                            "age": "yesterday" if n == 1 else f"{n} days ago", "link": None}
                                           for c in codes],
                               "silent": [(c, mention(U1), "Tue 17 Nov") for c in codes[:n - 1]],
                               "plans": [{"code": c, "action": "raise it in session", "therapist": mention(U1),
                                          "due": "Fri 20 Nov" if n > 1 else None} for c in codes]},
        "home/silent.j2": {"silent": [(c, mention(U1), "today") for c in codes], "more": n},
    }


def template_names() -> set[str]:
    root = Path(DEFAULT_TEMPLATES_DIR)
    return {str(p.relative_to(root)) for folder in ("messages", "home") for p in (root / folder).rglob("*.j2")}


def test_every_message_template_is_rendered_here() -> None:
    assert template_names() == set(contexts(1))


def test_reminder_parts_are_all_rendered() -> None:
    for n in SIZES:
        for part in ("intro", "notices", "cases", "actions", "more", "improved"):
            text = render("messages/reminder.j2", **{**contexts(n)["messages/reminder.j2"], "part": part})
            assert wording_problems(text) == [], (part, n, text)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", sorted(template_names()))
def test_no_template_miscounts(name: str, n: int) -> None:
    text = render(name, **contexts(n)[name])
    assert wording_problems(text) == [], text


def test_the_checker_catches_the_phrasings_of_issue_14() -> None:
    assert wording_problems("has 1 threads (A), so give 1 ratings") == ["'1 threads'", "'1 ratings'"]
    assert wording_problems("Sessions 1–1, oldest first.") == ["range '1–1'"]
    assert wording_problems("open 1 days · 1 replies") == ["'1 days'", "'1 replies'"]
    assert wording_problems("Session 1 was logged; sessions 1–4; 1 thread") == []


def test_plural_and_span() -> None:
    assert [plural(n, "thread") for n in (0, 1, 2)] == ["0 threads", "1 thread", "2 threads"]
    assert plural(1, "reply") == "1 reply" and plural(3, "reply") == "3 replies"
    assert span("Session", 1, 1) == "Session 1" and span("Session", 1, 4) == "Sessions 1–4"


def test_ratings_count_error_counts_in_english() -> None:
    with pytest.raises(UserError) as one:
        parse_ratings("IND-SWBQ", ["A"], ["8", "7"])
    assert "has 1 thread (A), so give 1 rating, not 2" in one.value.message
    with pytest.raises(UserError) as four:
        parse_ratings("CPL-7KQ2", ["A", "B", "unit", "collective"], ["8"])
    assert "has 4 threads (A, B, unit, collective), so give 4 ratings, not 1" in four.value.message


def test_history_with_one_checkin_says_session_1() -> None:
    one = CheckinRecord(session_number=1, ratings={"A": 8, "B": 7}, recorded_at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    history = CaseHistory(code="CPL-7KQ2", kind="couple", status="active", threads=("A", "B"), checkins=(one,), total=1)
    text = history_reply(history)["text"]
    assert "Session 1, oldest first." in text and "1 check-in" in text and wording_problems(text) == []


def test_a_trend_uses_arrows_only_for_to() -> None:
    rows = contexts(2)["messages/warning/trends.j2"]["rows"]
    assert "→" not in render("messages/warning/trends.j2", count=2, rows=rows)  # level is "=", not "→"


def test_the_digest_week_is_seven_days() -> None:
    zone = ZoneInfo("America/New_York")
    moment = datetime(2027, 3, 1, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York
    data = DigestData(week="2027-W09", since=moment - timedelta(days=7), until=moment, active_cases=1, checkins=1,
                      new_flags=1, open_flags=1, resolved_flags=0,
                      flags=(OpenFlag(1, 1, "CPL-7KQ2", "split", "open", U1, 1, None, None),),
                      silent=(SilentCase(2, "IND-SWBQ", "individual", U1, 1, False),), silent_days=1,
                      low_alliance=6, trends=())
    text = digest_text(data, {}, zone)
    assert "*Week Mon 22 Feb – Sun 28 Feb*" in text
    assert wording_problems(text) == [], text
    assert day_range(date(2027, 2, 22), date(2027, 2, 22)) == "Mon 22 Feb"
