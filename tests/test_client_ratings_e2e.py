"""Issue 16 end to end: a check-in brings rating links and QR codes by DM; a client's
answer on `/r/…` becomes that member's client total and re-runs the stall rules.
(The real-browser half is in test_client_form_browser.py.)"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Iterator

import pytest
from sqlalchemy import func, select

from bot.runtime.bootstrap import Runtime
from bot.store.models import AuditEntry, Checkin, ClientAnswer, Flag, RatingLink
from bot.slack.qr import qr_png
from bot.usecases.rating_links import token_hash
from bot.settings import Settings
from tests.conftest import Clock, make_settings
from tests.support.outbox import drain_outbox
from tests.support import rating_pages as rp
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case

INVALID = "This link is no longer valid"


@pytest.fixture
def public_port() -> int:
    return rp.free_port()


@pytest.fixture
def settings(standin: SlackStandIn, database_url: str, public_port: int) -> Settings:
    return make_settings(standin, database_url, public_url=f"http://127.0.0.1:{public_port}")


@pytest.fixture
def rated(runtime: Runtime, standin: SlackStandIn, public_port: int) -> Iterator[SlackDriver]:
    with rp.serve_with_pages(runtime, standin, public_port) as driver:
        yield driver


def log_and_links(slack: SlackDriver, code: str, session: int, ratings: str = "8 8 8 8") -> tuple[dict[str, str], str]:
    reply = slack.command(THERAPIST, f"log {code} {ratings} session={session}")  # same-day logs need it
    assert f"Logged session {session}" in reply.text, reply.text
    return rp.dm_links(slack.standin, code, session)


def client_scores(runtime: Runtime, code: str, session_number: int) -> dict[str, int]:
    from bot.store.models import Case

    with runtime.services.session_factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.code == code))
        checkin = session.scalar(select(Checkin).where(Checkin.case_id == case_id, Checkin.session_number == session_number))
        assert checkin is not None
        return dict(checkin.client_scores)


def answers_count(runtime: Runtime) -> int:
    with runtime.services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(ClientAnswer)) or 0


def open_flags(runtime: Runtime) -> dict[str, list[str]]:
    drain_outbox(runtime)
    with runtime.services.session_factory() as session:
        return {f.rule: list(f.evidence) for f in session.scalars(select(Flag).where(Flag.status != "resolved"))}


def test_checkin_dm_carries_a_link_and_qr_code_per_member(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, kiosk = log_and_links(rated, code, 1)
    assert set(members) == {"A", "B"} and len({*members.values(), kiosk}) == 3
    for url in [*members.values(), kiosk]:
        token = url.rsplit("/r/", 1)[1]
        assert len(token) >= 22 and code not in url  # 128 random bits; nothing about the case or client
    completed = rated.standin.wait_for("files.completeUploadExternal")[-1]
    titles = [f["title"] for f in completed.args["files"]]
    assert titles == [f"{code} session 1: member A", f"{code} session 1: member B", f"{code} session 1: clinic tablet"]
    assert completed.args["channel_id"] == "D" + THERAPIST[1:]
    pngs = [u["data"] for u in rated.standin.uploads]
    assert pngs == [qr_png(members["A"]), qr_png(members["B"]), qr_png(kiosk)]  # each QR encodes its own link
    assert all(png.startswith(b"\x89PNG") for png in pngs)
    with runtime.services.session_factory() as session:
        stored = set(session.scalars(select(RatingLink.token_hash)))
        tokens = [url.rsplit("/", 1)[1] for url in [*members.values(), kiosk]]
        assert stored == {token_hash(t) for t in tokens} and not stored & set(tokens)  # only hashes are kept
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "rating_links_created")).one()
        assert audit.actor_id == THERAPIST and audit.case_code == code


def test_an_answer_becomes_the_client_total_once_and_low_raises_client_rated_low(
        rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    page = rp.answer(members["A"], (6, 7, 6, 7), safety=8)
    assert page.status == 200 and "Thank you" in page.body and "26" not in page.body
    assert client_scores(runtime, code, 1) == {"A": 26}
    flags = open_flags(runtime)
    assert flags["client_rated_low"] == ["client-rated A 26/40"]

    again = rp.fetch(members["A"])
    assert again.status == 410 and INVALID in again.body
    assert client_scores(runtime, code, 1) == {"A": 26} and answers_count(runtime) == 1
    with runtime.services.session_factory() as session:
        used = session.scalars(select(AuditEntry).where(AuditEntry.action == "client_rating_answered")).one()
        assert used.actor_id == "client" and used.detail == "session 1, member A, by link"
        assert "26" not in (used.detail or "")


def test_a_second_post_with_a_fresh_form_is_refused_and_stores_nothing(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    form = rp.fetch(members["B"])
    cookie = form.headers["set-cookie"].split(";", 1)[0]
    data = {"csrf": form.hidden("csrf"), "heard": "9", "goals": "9", "approach": "9", "overall": "9", "safety": "9"}
    first = rp.fetch(members["B"], data, cookie)
    second = rp.fetch(members["B"], {**data, "heard": "1"}, cookie)
    assert (first.status, second.status) == (200, 410) and INVALID in second.body
    assert client_scores(runtime, code, 1) == {"B": 36}


def test_expired_forged_closed_and_forgotten_links_are_plainly_invalid(
        rated: SlackDriver, runtime: Runtime, clock: Clock) -> None:
    code = create_case(rated)
    members, kiosk = log_and_links(rated, code, 1)
    base = members["A"].rsplit("/r/", 1)[0]
    for forged in (f"{base}/r/{'x' * 22}", f"{base}/r/short", f"{base}/r/{members['A'][-22:][::-1]}",
                   f"{base}/r/../healthz", f"{base}/r/%3Cscript%3E"):
        page = rp.fetch(forged)
        assert page.status == 410 and INVALID in page.body, forged
    clock.now += timedelta(hours=48, seconds=1)
    expired = rp.fetch(members["A"])
    assert expired.status == 410 and INVALID in expired.body
    clock.now -= timedelta(hours=48, seconds=1)
    form = rp.fetch(members["B"])
    assert form.status == 200
    rated.command(THERAPIST, f"close {code}")
    closed = rp.fetch(members["B"], {"csrf": form.hidden("csrf"), "heard": "5", "goals": "5", "approach": "5",
                                      "overall": "5", "safety": "5"}, form.headers["set-cookie"].split(";", 1)[0])
    assert closed.status == 410 and INVALID in closed.body
    rated.command(THERAPIST, f"reopen {code}")
    assert rp.fetch(members["B"]).status == 410, "closing revoked the links for good"
    assert answers_count(runtime) == 0 and client_scores(runtime, code, 1) == {}

    rated.command(THERAPIST, f"rate {code}")
    deadline = time.monotonic() + 5
    while (found := rp.dm_links(rated.standin, code, 1))[0] == members:  # wait for the second DM
        assert time.monotonic() < deadline, "no second rating-links DM"
        time.sleep(0.02)
    fresh, fresh_kiosk = found
    assert rp.fetch(fresh["A"]).status == 200
    from bot.usecases.forget import forget_case

    with runtime.services.session_factory.begin() as session:
        actor = runtime.services.roles.actor(session, THERAPIST, clock.now)
        forget_case(session, actor, code, clock.now)
    for url in (fresh["A"], fresh["B"], fresh_kiosk):
        page = rp.fetch(url)
        assert page.status == 410 and INVALID in page.body
    with runtime.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(RatingLink)) == 0
    assert answers_count(runtime) == 0


def test_without_the_csrf_cookie_nothing_is_stored(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    form = rp.fetch(members["A"])
    data = {"csrf": form.hidden("csrf"), "heard": "1", "goals": "1", "approach": "1", "overall": "1", "safety": "1"}
    no_cookie = rp.fetch(members["A"], data)
    other_cookie = rp.fetch(members["A"], data, "alliance_form=someoneelse")
    other_link = rp.fetch(members["B"], data, form.headers["set-cookie"].split(";", 1)[0])  # token bound to A's link
    assert (no_cookie.status, other_cookie.status, other_link.status) == (403, 403, 403)
    assert answers_count(runtime) == 0
    assert rp.fetch(members["A"]).status == 200, "a refused post does not spend the link"


def test_pages_carry_strict_headers_and_no_third_party_assets(rated: SlackDriver) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    form = rp.fetch(members["A"])
    assert form.headers["content-security-policy"].startswith("default-src 'self'")
    assert form.headers["referrer-policy"] == "no-referrer" and form.headers["cache-control"] == "no-store"
    assert form.headers["x-frame-options"] == "DENY" and form.headers["x-content-type-options"] == "nosniff"
    cookie = form.headers["set-cookie"]
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie and "Path=/r/" in cookie
    assert "http" not in form.body.replace(members["A"], ""), "no absolute URLs: nothing loads from elsewhere"
    assert "<script" not in form.body and " style=" not in form.body
    for key in ("heard", "goals", "approach", "overall", "safety"):
        assert form.body.count(f'name="{key}"') == 11  # 0 to 10
    css = rp.fetch(f"{rated.base_url}/r/static/form.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def test_missing_items_are_named_back_and_nothing_is_stored(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    form = rp.fetch(members["A"])
    cookie = form.headers["set-cookie"].split(";", 1)[0]
    page = rp.fetch(members["A"], {"csrf": form.hidden("csrf"), "heard": "7", "goals": "11", "overall": "x"}, cookie)
    assert page.status == 400 and page.body.count("Please choose a number for this question.") == 4
    assert 'value="7" checked' in page.body  # what was chosen stays chosen
    assert answers_count(runtime) == 0


def test_individual_cases_get_no_safety_item(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated, kind="individual")
    members, _ = log_and_links(rated, code, 1, ratings="8")
    assert list(members) == ["A"] or len(members) == 1
    url = next(iter(members.values()))
    form = rp.fetch(url)
    assert 'name="safety"' not in form.body
    assert rp.answer(url, (9, 9, 9, 9)).status == 200
    assert list(client_scores(runtime, code, 1).values()) == [36]


def test_kiosk_hands_the_form_to_each_member_in_turn(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, kiosk = log_and_links(rated, code, 1)
    picker = rp.fetch(kiosk)
    assert picker.status == 200 and "Who is answering now?" in picker.body
    assert "?m=A" in picker.body and "?m=B" in picker.body
    first = rp.answer(kiosk, (9, 9, 9, 9), safety=9, member="B")
    assert first.status == 200 and "next person" in first.body
    assert "?m=B" not in rp.fetch(kiosk).body and rp.fetch(f"{kiosk}?m=B").status == 410
    assert rp.fetch(members["B"]).status == 410, "B answered on the tablet: B's own link is spent"
    second = rp.answer(kiosk, (8, 8, 8, 8), safety=2, member="A")
    assert second.status == 200 and "Everyone has answered" in second.body
    assert rp.fetch(kiosk).status == 410
    assert client_scores(runtime, code, 1) == {"A": 32, "B": 36}
    flags = open_flags(runtime)
    assert "client-rated safety to speak openly A 2/10" in flags["weak_couple_alliance"]


def test_falling_client_totals_while_the_therapist_rates_8_raise_optimism_gap(
        rated: SlackDriver, runtime: Runtime, clock: Clock) -> None:
    code = create_case(rated)
    for session, total in ((1, 37), (2, 36), (3, 29)):
        members, _ = log_and_links(rated, code, session)
        items = (10, 9, 9, total - 28)
        assert rp.answer(members["B"], items, safety=8).status == 200
        drain_outbox(runtime)
        flags = open_flags(runtime)
        if session < 3:
            assert "optimism_gap" not in flags, (session, flags)
        clock.now += timedelta(days=7)
    assert flags["optimism_gap"] == ["client-rated B 36.5 → 29/40 while you rate B 8"]  # wording: issue 13


def test_rate_command_sends_fresh_links_and_retires_the_old_ones(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    rp.answer(members["A"], (9, 9, 9, 9), safety=9)
    reply = rated.command(THERAPIST, f"rate {code}")
    assert "in your DM" in reply.text
    deadline = time.monotonic() + 5
    while len([c for c in rated.standin.calls_to("chat.postMessage") if "Client ratings" in c.args.get("text", "")]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    fresh, _ = rp.dm_links(rated.standin, code, 1)
    assert list(fresh) == ["B"], "A already answered this session"
    assert rp.fetch(members["B"]).status == 410 and rp.fetch(fresh["B"]).status == 200
    other = rated.command("U0OTHER01", f"rate {code}")
    assert "not among your cases" in other.text, other.text


def test_rate_limits_per_link_and_per_address(rated: SlackDriver) -> None:
    from bot.public.guards import RateLimiter

    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    pages = rated.pages  # type: ignore[attr-defined]
    pages.limits.per_link = RateLimiter(limit=3, window=60)
    statuses = [rp.fetch(members["A"]).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert rp.fetch(members["B"]).status == 200
    pages.limits.per_address = RateLimiter(limit=1, window=60)
    assert [rp.fetch(members["B"]).status for _ in range(2)] == [200, 429]


def test_without_a_public_url_no_links_and_one_note(standin: SlackStandIn, database_url: str, clock: Clock) -> None:
    from bot.runtime.bootstrap import build_runtime
    from bot.store.crypto import NoteCipher
    from bot.slack.pacing import ChannelPacer

    settings = make_settings(standin, database_url)
    runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    runtime.services.clock, runtime.services.pacer = clock, ChannelPacer(interval=0)
    try:
        with rp.serve_with_pages(runtime, standin, rp.free_port()) as slack:
            code = create_case(slack)
            replies = [slack.command(THERAPIST, f"log {code} 8 8 8 8 session={n}").text for n in (1, 2)]
            drain_outbox(runtime)
            assert "Client rating links are off" in replies[0] and "says this once" in replies[0]
            assert "ALLIANCE_PUBLIC_URL" not in replies[1] and "Logged session 2" in replies[1]
            assert not [c for c in standin.calls_to("chat.postMessage") if "Client ratings" in c.args.get("text", "")]
            reply = slack.command(THERAPIST, f"rate {code}")
            assert "Client rating links are off" in reply.text
            assert not standin.calls_to("files.completeUploadExternal")
            with runtime.services.session_factory() as session:
                assert session.scalar(select(func.count()).select_from(RatingLink)) == 0
    finally:
        runtime.engine.dispose()


def test_the_rating_prefix_never_reaches_slack_and_slack_still_works(rated: SlackDriver) -> None:
    page = rp.fetch(f"{rated.base_url}/r/")
    assert page.status == 410 and INVALID in page.body
    assert rp.fetch(f"{rated.base_url}/healthz").status == 200
    assert "Logged session" not in page.body


def test_history_shows_client_totals_beside_the_therapist_ratings(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    rp.answer(members["B"], (8, 8, 8, 7), safety=7)
    rated.command(THERAPIST, f"log {code} 8 8 8 8 session=2")
    history = rated.command(THERAPIST, f"history {code}").text
    assert "`A         `" in history and "`B client  `" in history and "31/40 → ·" in history
    assert "A client" not in history


def test_app_home_shows_client_totals_beside_the_therapist_ratings(rated: SlackDriver, runtime: Runtime) -> None:
    from tests.test_home_and_threads import home_opened

    code = create_case(rated)
    members, _ = log_and_links(rated, code, 1)
    rp.answer(members["B"], (8, 8, 8, 7), safety=7)
    rated.settle()  # what the answer queued has gone out (the answer itself is stored)
    view = home_opened(rated, THERAPIST, "Ev0HOMECL1")["view"]
    text = " ".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"])
    assert "`B client` " in text and "31/40" in text and "`A` " in text
    assert "A client" not in text  # A has not answered


def test_socket_mode_serves_the_pages_on_a_listener_of_their_own(runtime: Runtime, clock: Clock) -> None:
    from bot.domain.cases import CaseKind
    from bot.domain.checkin_input import CheckinInput
    from bot.public.listener import start_public_listener
    from bot.public.pages import build_rating_pages
    from bot.usecases import cases as case_uc
    from bot.usecases import checkins as checkin_uc
    from bot.usecases import rating_links as links_uc

    with runtime.services.session_factory.begin() as session:
        actor = runtime.services.roles.actor(session, THERAPIST, clock.now)
        case = case_uc.create_case(session, actor, CaseKind.INDIVIDUAL, 1, (), clock.now)
        recorded = checkin_uc.record_checkin(session, actor, case.code, CheckinInput(ratings={"A": 8}), clock.now,
                                             runtime.services.cipher)
        issued = links_uc.issue_for_checkin(session, recorded.checkin_id, THERAPIST, clock.now, 48)
        assert issued is not None
    server = start_public_listener(build_rating_pages(runtime.services), host="127.0.0.1", port=0)
    try:
        base = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        (member, token), = issued.members
        assert rp.answer(f"{base}/r/{token}", (9, 8, 9, 8)).status == 200
        assert rp.fetch(f"{base}/slack/events").status == 410, "only the rating pages live here"
    finally:
        server.close()
    assert client_scores(runtime, issued.code, 1) == {member: 34}


def test_answers_re_run_the_rules_without_counting_extra_quiet_check_ins(rated: SlackDriver, runtime: Runtime) -> None:
    code = create_case(rated)
    assert "Logged session 1" in rated.command(THERAPIST, f"log {code} 8 8 8 8 client=A:26").text
    drain_outbox(runtime)  # the rules ran in the check-in's transaction; their messages are sent
    assert open_flags(runtime)["client_rated_low"] == ["client-rated A 26/40"]
    members, _ = log_and_links(rated, code, 2)
    for member in ("A", "B"):  # each answer evaluates session 2 again
        assert rp.answer(members[member], (10, 10, 9, 9), safety=9).status == 200
        drain_outbox(runtime)
    with runtime.services.session_factory() as session:
        flag = session.scalars(select(Flag).where(Flag.rule == "client_rated_low")).one()
        # Answers joining session 2 re-run its rules without counting it as quiet (issue 16), and a
        # client-based flag counts only check-ins that carried totals when logged (issue 13).
        assert (flag.status, flag.quiet_checkins) == ("open", 0), "answers never count as quiet check-ins"
