"""The Jinja environment and the reflection-question templates."""

from __future__ import annotations

import json
import re

import jinja2
import pytest

from bot.slack import question_text as question_texts
from bot.slack import templating
from bot.domain.questions import THEMES, QuestionRef, choose_questions, themes_for
from bot.slack.question_text import question_counts, render_questions
from bot.slack.templating import (
    DEFAULT_TEMPLATES_DIR,
    Mrkdwn,
    escape_mrkdwn,
    get_environment,
    link,
    mention,
    render,
)

MEMBERS = (None, "B")


@pytest.fixture
def fresh_environment():
    get_environment.cache_clear()
    question_texts.clear_cache()
    yield
    get_environment.cache_clear()
    question_texts.clear_cache()


def render_string(source: str, **context) -> str:
    return get_environment().from_string(source).render(**context)


# --- the environment -------------------------------------------------------


def test_environment_follows_the_style_guide():
    env = get_environment()
    assert env is get_environment()
    assert env.autoescape is False
    assert env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks
    assert env.keep_trailing_newline is False


def test_escape_mrkdwn():
    assert escape_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape_mrkdwn("&lt;") == "&amp;lt;"
    assert escape_mrkdwn("plain *bold*") == "plain *bold*"


def test_user_supplied_values_are_escaped():
    note = "<!channel> Tom & Jerry <https://evil.example|click>"
    assert render_string("Note: {{ note }}", note=note) == (
        "Note: &lt;!channel&gt; Tom &amp; Jerry &lt;https://evil.example|click&gt;"
    )


def test_non_string_values_are_rendered_and_escaped():
    assert render_string("{{ n }} {{ items }}", n=3, items=["<a>"]) == "3 ['&lt;a&gt;']"


def test_mrkdwn_values_pass_through():
    assert render_string("{{ who }} said {{ what }}", who=mention("U123ABC"), what="1 < 2") == (
        "<@U123ABC> said 1 &lt; 2"
    )
    assert render_string("{{ m }}", m=Mrkdwn("<https://x.example|x>")) == "<https://x.example|x>"


def test_string_operations_on_mrkdwn_lose_the_mark():
    # Concatenating with an unsafe str yields a plain str, which is escaped again.
    assert render_string("{{ m ~ '<b>' }}", m=Mrkdwn("<@U1>")) == "&lt;@U1&gt;&lt;b&gt;"


def test_mention_validates_user_ids():
    assert mention("U0123ABCD") == "<@U0123ABCD>"
    assert mention("W0123ABCD") == "<@W0123ABCD>"
    assert isinstance(mention("U0123ABCD"), Mrkdwn)
    for bad in ("", "U1", "u0123abcd", "C0123ABCD", "U0123>ABC", "U0123 <!channel>", "U01\n"):
        with pytest.raises(ValueError):
            mention(bad)


def test_link_escapes_text_and_separators():
    assert link("https://example.com/a?x=1&y=2", "Q&A <now>") == (
        "<https://example.com/a?x=1&amp;y=2|Q&amp;A &lt;now&gt;>"
    )
    spoof = link("https://evil.example?x|https://good.example", "a|b")
    assert spoof.count("|") == 1
    assert spoof.startswith("<https://evil.example?x%7Chttps://good.example|")
    assert isinstance(spoof, Mrkdwn)
    with pytest.raises(ValueError):
        link("javascript:alert(1)", "x")


def test_strict_undefined_raises_on_a_missing_variable():
    with pytest.raises(jinja2.UndefinedError):
        render_string("Hello {{ nobody }}")
    with pytest.raises(jinja2.UndefinedError):
        render("questions/missing.j2", member=None)  # no case_code
    with pytest.raises(jinja2.UndefinedError):
        render("questions/split.j2", case_code="C-1")  # no member


def test_render_strips_and_templates_dir_is_overridable(monkeypatch, tmp_path, fresh_environment):
    (tmp_path / "hello.j2").write_text("\n  Hello {{ name }}!\n\n")
    monkeypatch.setenv(templating.TEMPLATES_DIR_ENV, str(tmp_path))
    get_environment.cache_clear()
    assert render("hello.j2", name="<you>") == "Hello &lt;you&gt;!"


def test_default_templates_dir_is_the_repo_templates_folder():
    assert DEFAULT_TEMPLATES_DIR.name == "templates"
    assert (DEFAULT_TEMPLATES_DIR / "questions").is_dir()


def test_no_template_renders_json():
    for path in DEFAULT_TEMPLATES_DIR.rglob("*.j2"):
        source = path.read_text()
        assert "tojson" not in source, path
        assert not source.lstrip().startswith(("{\"", "[", "{ \"")), path
    for theme in THEMES:
        for member in MEMBERS:
            text = render(f"questions/{theme}.j2", member=member, case_code="C-7")
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)


# --- the question templates ------------------------------------------------


def test_every_theme_has_a_template_with_at_least_six_questions():
    counts = question_counts()
    assert set(counts) == set(THEMES)
    for theme in THEMES:
        assert (DEFAULT_TEMPLATES_DIR / "questions" / f"{theme}.j2").is_file()
        assert counts[theme] >= 6, theme


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("member", MEMBERS)
def test_each_question_is_one_short_second_person_sentence(theme, member):
    refs = [QuestionRef(theme, i) for i in range(question_counts()[theme])]
    texts = render_questions(refs, member=member, case_code="C-7")
    assert len(texts) == len(refs)
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert text and text == text.strip()
        assert len(text) <= 200, text
        assert text.endswith("?"), text
        assert text[0].isupper(), text
        assert "{" not in text and "}" not in text, text
        assert "None" not in text, text
        assert re.search(r"\byou(r|rself)?\b", text, re.IGNORECASE), text


@pytest.mark.parametrize("theme", THEMES)
def test_line_count_does_not_depend_on_the_member(theme):
    for member in MEMBERS:
        text = render(f"questions/{theme}.j2", member=member, case_code="C-7")
        assert len([line for line in text.splitlines() if line.strip()]) == question_counts()[theme]


def test_question_templates_hold_no_raw_mrkdwn_control_characters():
    for theme in THEMES:
        source = (DEFAULT_TEMPLATES_DIR / "questions" / f"{theme}.j2").read_text()
        assert not re.search(r"[&<>]", source), theme


def test_member_label_is_used_and_escaped():
    refs = [QuestionRef("split", i) for i in range(question_counts()["split"])]
    with_b = render_questions(refs, member="B", case_code="C-7")
    without = render_questions(refs, member=None, case_code="C-7")
    assert any(re.search(r"\bB\b", text) for text in with_b)
    assert not any(re.search(r"\bB\b", text) for text in without)
    hostile = render_questions(refs, member="<!here>", case_code="C-7")
    assert any("&lt;!here&gt;" in text for text in hostile)
    assert not any("<!here>" in text for text in hostile)


def test_case_code_is_rendered():
    refs = [QuestionRef("missing", i) for i in range(question_counts()["missing"])]
    assert any("C-7" in text for text in render_questions(refs, member=None, case_code="C-7"))


def test_render_questions_keeps_the_order_of_refs():
    refs = [QuestionRef("rupture", 2), QuestionRef("split", 0), QuestionRef("rupture", 0)]
    texts = render_questions(refs, member="A", case_code="C-1")
    rupture = render_questions(
        [QuestionRef("rupture", 0), QuestionRef("rupture", 2)], member="A", case_code="C-1"
    )
    assert texts[0] == rupture[1] and texts[2] == rupture[0]


def test_render_questions_rejects_an_unknown_index():
    with pytest.raises(ValueError):
        render_questions([QuestionRef("split", 99)], member=None, case_code="C-1")


def test_end_to_end_choice_and_rendering():
    themes = themes_for(["split_alliance", "therapist_stuck"], ["resistance"])
    refs = choose_questions(themes, question_counts(), {})
    texts = render_questions(refs, member="B", case_code="C-3")
    assert 2 <= len(texts) <= 4
    assert all(t.endswith("?") for t in texts)


def test_the_new_case_message_keeps_its_lines_apart() -> None:
    """A line ending in a block tag lost its newline (trim_blocks): "collective.Keep the code"."""
    for cadence in (None, "every two weeks"):
        text = render("messages/case_created.j2", code="CPL-7KQ2", kind="couple",
                      threads=["A", "B", "unit", "collective"], cadence=cadence, example="8 7 8 8")
        first, second, third = text.splitlines()
        assert first.endswith(".") and second.startswith("Keep the code") and third.startswith("Log a session")
