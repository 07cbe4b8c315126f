"""Issue 15 in a real browser: Chromium (Debian's) driven by Playwright through
the local workspace's page, against Alliance's real endpoint. Each test leaves a
screenshot in test-output/browser/."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("ALLIANCE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("ALLIANCE_BROWSER_TESTS") == "required":
    raise RuntimeError("ALLIANCE_BROWSER_TESTS=required but no Chromium is installed (apt-get install chromium chromium-driver)")
if CHROMIUM is None:
    pytest.skip("browser tests: no Chromium (apt-get install chromium chromium-driver)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests: Playwright is not installed")

from bot.sandbox.people import SUPERVISOR, THERAPIST_A, THERAPIST_B  # noqa: E402
from bot.sandbox.main import serve_in_background, serve_page  # noqa: E402
from bot.sandbox.runner import Sandbox  # noqa: E402

Page = Any
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"
SERIOUS = (3, 2, 3, 2)  # a clearly bad session after a good one: warnings under any sane rules
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    started = Sandbox(directory=tmp_path)
    server = serve_page(started, 0)
    started.start()
    serve_in_background(server)
    yield started
    server.close()
    started.stop()
    assert started.standin.problems == [], "Slack would reject what Alliance sent:\n" + "\n".join(started.standin.problems)


@pytest.fixture
def page(browser: Any, sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 860})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"{sandbox.page_base}/?as={THERAPIST_A.id}")
    opened.wait_for_selector("body[data-ready=yes]")
    yield opened
    OUTPUT.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(OUTPUT / f"{request.node.name}.png"))
    context.close()
    assert errors == [], f"the page's script failed: {errors}"


# -- what a person does on the page ------------------------------------------------
def snap(page: Page, request: pytest.FixtureRequest, moment: str) -> None:
    """A screenshot of a moment inside the test (the fixture takes the last one)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{request.node.name}-{moment}.png"))


def be(page: Page, user_id: str) -> None:
    page.select_option("#person", user_id)
    page.locator(f"#person option[value={user_id}]").wait_for(state="attached")
    assert page.input_value("#person") == user_id


def go(page: Page, place: str) -> None:
    page.click(f"[data-place={place}]")


def type_command(page: Page, text: str) -> None:
    page.fill("#compose", text)
    page.press("#compose", "Enter")


def new_case(page: Page) -> str:
    go(page, "dm")
    type_command(page, "/alliance new couple")
    created = page.locator(".message", has_text="Created CPL-").first
    found = re.search(r"CPL-[A-Z0-9]{4}", created.inner_text())
    assert found, created.inner_text()
    return found.group(0)


def log_in_modal(page: Page, code: str, ratings: tuple[int, ...]) -> None:
    go(page, "dm")
    type_command(page, f"/alliance {code}")
    modal = page.locator(".modal")
    modal.wait_for()
    assert modal.locator(".modal-title").inner_text() == "Alliance check-in"
    selects = modal.locator(".input[data-block-id^='rating:'] select")
    assert selects.count() == len(ratings)
    for index, rating in enumerate(ratings):
        selects.nth(index).select_option(label={0: "0 · very weak", 10: "10 · very strong"}.get(rating, str(rating)))
    modal.get_by_role("button", name="Save").click()
    modal.wait_for(state="detached")


def warning_root(page: Page, code: str) -> Any:
    be(page, SUPERVISOR.id)
    go(page, "C0SUPERV1")
    root = page.locator("#messages > .message", has_text=code).filter(has_text="Stall warning").first
    root.wait_for()
    return root


def case_with_warning(page: Page) -> str:
    code = new_case(page)
    type_command(page, f"/alliance log {code} 8 8 8 8")
    page.locator(".message", has_text="Logged session 1").wait_for()
    log_in_modal(page, code, SERIOUS)
    return code


# -- the tests --------------------------------------------------------------------------
def test_a_case_is_created_and_a_check_in_logged_through_the_modal(page: Page) -> None:
    go(page, "dm")
    page.fill("#compose", "/al")
    assert "new couple | log CPL-7KQ2 8 7 8 8" in page.locator("#usage").inner_text()  # the manifest's usage hint
    code = new_case(page)
    assert page.locator(".message.ephemeral", has_text="Created").locator(".only-you").inner_text() == "Only visible to you"
    log_in_modal(page, code, (7, 8, 7, 8))
    logged = page.locator("#messages > .message", has_text=f"Logged session 1 of {code}")
    logged.wait_for()
    assert "A 7 · B 8 · unit 7 · collective 8" in logged.inner_text()


def test_a_missing_rating_is_shown_on_its_field_and_nothing_is_saved(page: Page, request: pytest.FixtureRequest) -> None:
    code = new_case(page)
    type_command(page, f"/alliance {code}")
    modal = page.locator(".modal")
    modal.get_by_role("button", name="Save").click()
    error = modal.locator(".input[data-block-id='rating:A'] .field-error")
    error.wait_for(state="visible")
    assert "Rate A" in error.inner_text()
    snap(page, request, "errors")
    modal.get_by_role("button", name="Cancel").click()
    modal.wait_for(state="detached")
    assert page.locator(".message", has_text="Logged session").count() == 0


def test_the_warning_appears_in_the_supervision_channel(page: Page) -> None:
    code = case_with_warning(page)
    root = warning_root(page, code)
    assert "Status: open" in root.inner_text()
    assert root.get_by_role("button", name="Resolve").is_visible()


def test_a_reply_in_the_thread_turns_the_warning_to_discussing(page: Page) -> None:
    code = case_with_warning(page)
    root = warning_root(page, code)
    root.hover()
    root.locator(".thread-link").click()
    page.fill("#reply", "What did the last session feel like?")
    page.press("#reply", "Enter")
    page.locator("#thread-messages .message", has_text="What did the last session feel like?").wait_for()
    page.locator("#messages > .message", has_text=code).filter(has_text="Status: discussing").wait_for()
    page.locator("#messages > .message", has_text=code).locator(".thread-link", has_text="1 reply").wait_for()
    assert page.locator("#thread").is_visible()


def test_resolve_is_refused_to_an_unrelated_therapist_and_done_by_the_case_therapist(page: Page, request: pytest.FixtureRequest) -> None:
    code = case_with_warning(page)
    be(page, THERAPIST_B.id)
    root = warning_root_as(page, code)
    root.get_by_role("button", name="Resolve").click()
    refusal = page.locator("#messages .message.ephemeral", has_text="Only the case's therapists")
    refusal.wait_for()
    assert "Only visible to you" in refusal.inner_text()
    assert page.locator(".modal").count() == 0
    assert "resolved" not in root.inner_text().lower()
    snap(page, request, "refused")

    be(page, THERAPIST_A.id)
    root = warning_root_as(page, code)
    root.get_by_role("button", name="Resolve").click()
    modal = page.locator(".modal")
    modal.wait_for()
    modal.locator(".choice").first.click()
    snap(page, request, "modal")
    modal.get_by_role("button", name=re.compile("Resolve|Save|Submit")).click()
    modal.wait_for(state="detached")
    page.locator("#messages > .message", has_text=code).filter(has_text="resolved by").wait_for()


def warning_root_as(page: Page, code: str) -> Any:
    go(page, "C0SUPERV1")
    root = page.locator("#messages > .message", has_text=code).filter(has_text="Stall warning").first
    root.wait_for()
    return root


def test_app_home_lists_the_therapists_cases(page: Page) -> None:
    code = new_case(page)
    page.click("#app-home")
    page.locator(".home", has_text=code).wait_for()
    assert page.locator("#title").inner_text() == "Alliance · Home"
    page.locator(".home").get_by_role("button", name="Log").click()  # an action in a view, then views.open
    modal = page.locator(".modal")
    modal.wait_for()
    assert code in modal.inner_text() and modal.locator(".input[data-block-id^='rating:'] select").count() == 4


def test_moving_the_clock_to_friday_sends_the_weekly_reminder(page: Page) -> None:
    code = new_case(page)
    page.click("[data-when='next Friday 15:00']")
    page.locator("#clock-log", has_text="reminders").wait_for()
    page.locator("#clock-now", has_text="Fri").wait_for()
    reminder = page.locator("#messages > .message:not(.ephemeral)", has_text=code).filter(has_text="check-in").last
    reminder.wait_for()


def test_every_block_kind_alliance_may_send_is_drawn(page: Page, sandbox: Sandbox) -> None:
    from slack_sdk import WebClient

    from bot.sandbox.runner import BOT_TOKEN

    client = WebClient(token=BOT_TOKEN, base_url=sandbox.standin.api_url)
    from bot.slack.charts import ThreadLine, draw_lines

    chart = draw_lines([ThreadLine("CPL-7KQ2 B", ((1, 8), (2, 6), (3, 4)))], "Trend", reference=6.0)
    client.files_upload_v2(channel="C0SUPERV1", file=chart, filename="trend.png", title="A chart, uploaded")
    [shared] = [m for m in sandbox.standin.workspace.visible("C0SUPERV1", SUPERVISOR.id) if m.get("files")]
    image_url = sandbox.page_base + shared["files"][0]["url_private"]

    def option(value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": f"Option {value}"}, "value": value}

    client.chat_postMessage(channel="C0SUPERV1", text="every block", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "A header"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*bold* _italic_ ~struck~ `code` <https://example.org|a link> <@U0THERB01>"},
         "fields": [{"type": "mrkdwn", "text": "*Field one*\n1"}, {"type": "mrkdwn", "text": "*Field two*\n2"}],
         "accessory": {"type": "overflow", "action_id": "more", "options": [option("a"), option("b")]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "With a select"},
         "accessory": {"type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"},
                       "options": [option("x"), option("y")]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "context line"}]},
        {"type": "divider"},
        {"type": "actions", "elements": [{"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "A button"}, "style": "primary"}]},
        {"type": "image", "image_url": image_url, "alt_text": "the uploaded chart again", "title": {"type": "plain_text", "text": "An image block"}},
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "Rich ", "style": {"bold": True}},
                                                        {"type": "emoji", "name": "warning"}]},
            {"type": "rich_text_list", "style": "bullet", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "first point"}]}]},
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "a quote"}]}]},
    ])
    be(page, SUPERVISOR.id)
    go(page, "C0SUPERV1")
    message = page.locator("#messages > .message", has_text="A header")
    message.wait_for()
    assert message.locator("strong", has_text="bold").count() == 1 and message.locator("s", has_text="struck").count() == 1
    assert message.locator(".mention", has_text="@Therapist B").count() == 1
    assert message.locator(".fields > *").count() == 2
    assert message.locator("hr.divider").count() == 1 and message.locator(".context", has_text="context line").count() == 1
    assert message.locator("li", has_text="first point").count() == 1 and message.locator("blockquote", has_text="a quote").count() == 1
    assert "⚠" in message.locator(".rich-text").inner_text()
    natural = message.locator("figure.image-block img").evaluate("img => img.complete ? img.naturalWidth : -1")
    assert natural > 100, "the image block did not load from the workspace"
    assert page.locator(".file-image").evaluate("img => img.naturalWidth") > 100
    message.locator(".overflow-toggle").click()
    with page.expect_request("**/api/action") as sent:
        message.locator(".overflow-item", has_text="Option b").click()
    action = sent.value.post_data_json["action"]
    assert (action["type"], action["action_id"], action["selected_option"]["value"]) == ("overflow", "more", "b")
    with page.expect_request("**/api/action") as sent:
        message.locator("select").select_option(label="Option y")
    action = sent.value.post_data_json["action"]
    assert (action["type"], action["action_id"], action["selected_option"]["value"]) == ("static_select", "pick", "y")
    message.locator(".overflow-toggle").click()  # leave the menu open for the screenshot
