"""Issue 16 in a real browser: the rating link opened in Chromium at a phone's
width, answered by touch and keyboard, then refused the second time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.store.models import Checkin
from bot.settings import Settings
from tests.conftest import make_settings
from tests.support import rating_pages as rp
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case

CHROMIUM = os.environ.get("ALLIANCE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT_DIR = os.environ.get("ALLIANCE_SCREENSHOT_DIR")  # keep the 320 px screenshot here when set
PHONE = {"width": 320, "height": 640}
QUESTIONS = {
    "heard": "How much did you feel listened to and treated with respect today?",
    "goals": "How much did today's session work on what you wanted to work on?",
    "approach": "How well did the way of working today suit you?",
    "overall": "Overall, how was today's session for you?",
    "safety": "How safe did it feel to speak openly with the others in the room?",
}

sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need `pip install playwright` (the test extra)")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def public_port() -> int:
    return rp.free_port()


@pytest.fixture
def settings(standin: SlackStandIn, sqlite_url: str, public_port: int) -> Settings:
    return make_settings(standin, sqlite_url, public_url=f"http://127.0.0.1:{public_port}")


@pytest.fixture
def rated(runtime: Runtime, standin: SlackStandIn, public_port: int) -> Iterator[SlackDriver]:
    with rp.serve_with_pages(runtime, standin, public_port) as driver:
        yield driver


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def phone(browser: Any) -> Any:
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


def send(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Send my answers").tap()


def stored(runtime: Runtime) -> dict[str, int]:
    with runtime.services.session_factory() as session:
        checkin = session.scalars(select(Checkin)).one()
        return dict(checkin.client_scores)


def test_a_member_answers_on_a_phone_once(rated: SlackDriver, runtime: Runtime, browser: Any, tmp_path: Path) -> None:
    code = create_case(rated)
    rated.command(THERAPIST, f"log {code} 8 8 8 8")
    members, _ = rp.dm_links(rated.standin, code, 1)
    context = phone(browser)
    page, second_tab = context.new_page(), context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(members["A"])
    second_tab.goto(members["A"])  # the same link, open twice: only one answer may land

    assert page.get_by_role("heading", level=1).inner_text() == "How was today's session?"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling at 320 px"
    for key, question in QUESTIONS.items():
        group = page.get_by_role("group", name=question)
        assert group.get_by_role("radio").count() == 11, key
    tile = page.locator(".tile span").first.bounding_box()
    assert tile is not None and tile["height"] >= 44 and tile["width"] >= 40, f"touch targets too small: {tile}"
    shot = tmp_path / "client-form-320.png"
    page.screenshot(path=str(shot), full_page=True)
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(SCREENSHOT_DIR) / shot.name)

    # keyboard: Tab into the first scale, arrows move the choice
    page.locator('input[name="heard"][value="0"]').focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.locator('input[name="heard"]:checked').get_attribute("value") == "6"
    # touch: tap the numbers
    for key, value in (("goals", "7"), ("approach", "6"), ("overall", "7"), ("safety", "9")):
        page.get_by_role("group", name=QUESTIONS[key]).get_by_role("radio", name=value, exact=True).tap()
    send(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you", page.content()
    assert stored(runtime) == {"A": 26}
    assert problems == [], f"console errors (a CSP violation shows here): {problems}"

    for key in QUESTIONS:
        second_tab.get_by_role("group", name=QUESTIONS[key]).get_by_role("radio", name="10", exact=True).tap()
    send(second_tab)
    assert second_tab.get_by_role("heading", level=1).inner_text() == "This link is no longer valid"
    page.goto(members["A"])
    assert page.get_by_role("heading", level=1).inner_text() == "This link is no longer valid"
    assert stored(runtime) == {"A": 26}
    context.close()


def test_the_clinic_tablet_asks_who_answers_and_names_a_missing_item(
        rated: SlackDriver, runtime: Runtime, browser: Any) -> None:
    code = create_case(rated)
    rated.command(THERAPIST, f"log {code} 8 8 8 8")
    _, kiosk = rp.dm_links(rated.standin, code, 1)
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    page.goto(kiosk)
    with page.expect_navigation():
        page.get_by_role("link", name="Person B").tap()
    for key in ("heard", "goals", "approach", "overall"):  # safety left out
        page.get_by_role("group", name=QUESTIONS[key]).get_by_role("radio", name="8", exact=True).tap()
    send(page)
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Please choose a number for this question.").count() == 1
    assert page.locator('input[name="heard"]:checked').get_attribute("value") == "8"
    assert stored(runtime) == {}
    page.get_by_role("group", name=QUESTIONS["safety"]).get_by_role("radio", name="3", exact=True).tap()
    send(page)
    assert stored(runtime) == {"B": 32}
    with page.expect_navigation():
        page.get_by_role("link", name="Next person").tap()
    assert page.get_by_role("link", name="Person A").is_visible()
    assert page.get_by_role("link", name="Person B").count() == 0
    context.close()
