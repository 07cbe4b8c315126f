"""Every hint an error message gives (a command, a `key=` option) is also in `/alliance help`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.slack.templating import render

ROOT = Path(__file__).resolve().parent.parent
COMMAND_HINT = re.compile(r"`/alliance ([a-z]+)(?: ([a-z]+))?")
OPTION_HINT = re.compile(r"`[^`]*?\b([a-z_]+)=")
WITH_SUBCOMMAND = {"config", "remind", "away"}  # their second word is part of the command
IN_CODE_ONLY = {"key", "attribute"}  # `key=value` describing the grammar; Jinja's map(attribute=…) in templates


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def user_facing_strings() -> list[str]:
    """String literals in bot/ and handlers/ (not docstrings), the examples given to
    CommandError (which adds `/alliance `), and the message templates."""
    texts = []
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "CommandError" and len(node.args) == 2:
                example = _text(node.args[1])
                if example:
                    texts.append(f"`/alliance {example}`")
            if id(node) not in skip and isinstance(node, (ast.Constant, ast.JoinedStr)):
                text = _text(node)
                if text:
                    texts.append(text)
    for path in ROOT.joinpath("templates", "messages").rglob("*.j2"):
        if path.name != "help.j2":
            texts.append(path.read_text())
    return texts


def hints(texts: list[str]) -> tuple[set[str], set[str]]:
    commands, options = set(), set()
    for text in texts:
        for verb, second in COMMAND_HINT.findall(text):
            commands.add(f"{verb} {second}" if verb in WITH_SUBCOMMAND and second else verb)
        options.update(key for key in OPTION_HINT.findall(text) if key not in IN_CODE_ONLY)
    return commands, options


def test_the_scan_finds_the_hints_it_should() -> None:
    commands, options = hints(user_facing_strings())
    assert {"log", "new", "config set", "away until", "config reset"} <= commands
    assert {"labels", "date", "session", "client", "rupture", "flags"} <= options


def test_every_hint_in_an_error_message_is_in_help() -> None:
    help_text = render("messages/help.j2")
    commands, options = hints(user_facing_strings())
    missing_commands = sorted(c for c in commands if f"`/alliance {c}" not in help_text and f"`{c}" not in help_text)
    missing_options = sorted(o for o in options if f"{o}=" not in help_text)
    assert missing_commands == [] and missing_options == []
