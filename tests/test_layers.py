"""The layers: what each package may import, and no import cycles.

Every module's imports are read with `ast`, at any depth (a function-level or
TYPE_CHECKING import counts the same as one at the top). The layers, lowest first:

    domain     pure rules and values: the standard library only
    settings   what the deployment says (environment, .env)
    store      engine, models, migrations, the outbox, note encryption
    usecases   one transaction's work; no Slack, no Jinja
    slack      everything that talks to or renders for Slack, and the Services bundle
    jobs | handlers   two peers at the same height that never import each other
    runtime    app factory, bootstrap, server, CLI, logging
    sandbox    a local Slack workspace for trying Alliance (issue 15), on top of everything

A module may import its own layer and any layer below. Two named exceptions:
`bot.runtime.cli` may import `bot.sandbox` (it dispatches `alliance-bot sandbox`),
and inside `handlers/` a surface imports no other surface, only the shared
`handlers.errors` (where exceptions become what the user sees); `handlers/__init__`
is the registry that registers them all.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "bot" / "domain"
STDLIB = set(sys.stdlib_module_names)

LAYERS: dict[str, int] = {
    "domain": 0, "settings": 1, "store": 2, "usecases": 3, "slack": 4,
    "jobs": 5, "handlers": 5, "public": 5, "runtime": 6, "sandbox": 7,
}
# (importing module, imported layer) pairs allowed although they point up or sideways.
EXCEPTIONS = {("bot.runtime.cli", "sandbox")}
SHARED_HANDLER_MODULES = {"handlers.errors"}
HANDLER_REGISTRY = "handlers"
# Third-party packages a layer must not touch (the domain: nothing outside the standard library).
PRESENTATION = {"slack_sdk", "slack_bolt", "jinja2"}
FORBIDDEN_PACKAGES = {"store": PRESENTATION, "usecases": PRESENTATION}


def layer_of(module: str) -> str | None:
    """The layer a first-party module belongs to; None for a third-party one."""
    parts = module.split(".")
    if parts[0] == "handlers":
        return "handlers"
    if parts[0] != "bot":
        return None
    if module == "bot":
        return "bot"
    if module == "bot.settings":
        return "settings"
    return parts[1] if parts[1] in LAYERS else "(no layer)"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for top in ("bot", "handlers") for p in (ROOT / top).rglob("*.py")
                  if "versions" not in p.parts)


def imported_modules(path: Path, known: set[str] | None = None) -> set[str]:
    name = module_name(path) if path.is_relative_to(ROOT) else path.stem
    return imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known or set())


def imports_in(source: str, this: str, is_package: bool, known: set[str]) -> set[str]:
    """Absolute module names a module imports anywhere. `from pkg import name` counts
    as `pkg.name` when that is a module of ours, else as `pkg`."""
    package = this if is_package else this.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in known else base)
    return names


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = {module_name(p) for p in files}
    return {module_name(p): imported_modules(p, known) for p in files}


def surface(module: str) -> str:
    return ".".join(module.split(".")[:2])


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points up, sideways, at a forbidden package, or out of any layer."""
    found: list[str] = []
    for importer, imported in sorted(graph.items()):
        own = layer_of(importer)
        if own == "(no layer)":
            found.append(f"{importer} is in no layer: move it into one of {sorted(LAYERS)}")
            continue
        for target in sorted(imported):
            theirs = layer_of(target)
            if theirs is None:
                top = target.split(".")[0]
                if own == "domain" and top not in STDLIB:
                    found.append(f"{importer} imports {target}: the domain uses the standard library only")
                elif top in FORBIDDEN_PACKAGES.get(own or "", set()):
                    found.append(f"{importer} imports {target}: {own} has no Slack and no Jinja")
                continue
            if theirs in ("bot", own) and not (own == "handlers" and theirs == "handlers"):
                continue
            if (importer, theirs) in EXCEPTIONS:
                continue
            if own == "handlers" and theirs == "handlers":
                if importer == HANDLER_REGISTRY or target in SHARED_HANDLER_MODULES or surface(target) == surface(importer):
                    continue
                found.append(f"{importer} imports {target}: a handler imports no other handler")
                continue
            if theirs == "(no layer)" or LAYERS[theirs] >= LAYERS[own or ""]:
                found.append(f"{importer} ({own}) imports {target} ({theirs}): not a lower layer")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import each other, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_points_up_or_sideways() -> None:
    assert violations(import_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_only_the_standard_library(path: Path) -> None:
    outside = [m for m in imported_modules(path) if m.split(".")[0] not in STDLIB and layer_of(m) != "domain"]
    assert outside == [], f"{path.name} imports {outside}"


def test_the_check_sees_every_module() -> None:
    graph = import_graph()
    assert {"bot.domain.rules", "bot.store.models", "bot.usecases.checkins", "bot.slack.warning_outbox",
            "bot.jobs.scheduler", "bot.runtime.cli", "handlers.errors"} <= set(graph)
    # a function-level import counts: charts imports matplotlib only inside a function
    assert "matplotlib.figure" in graph["bot.slack.charts"]


# The imports issue 10 found, in today's names: each must be caught.
ISSUE_10_IMPORTS = {
    # the cycle checkins -> private_notes -> flag_actions -> flags -> checkins
    "bot.usecases.checkins": {"bot.usecases.private_notes"},
    "bot.usecases.private_notes": {"bot.usecases.flag_actions"},
    "bot.usecases.flag_actions": {"bot.usecases.flags"},
    "bot.usecases.flags": {"bot.usecases.checkins", "bot.slack.question_text"},  # and Jinja question counts
    "bot.usecases.forget": {"slack_sdk", "bot.slack.blocks"},  # Slack calls in a use case
    "bot.usecases.config": {"bot.slack.templating"},  # the mrkdwn escaper from templating
    "bot.slack.services": {"handlers"},  # the app factory below the listeners
    "handlers.commands.case_commands": {"bot.slack.charts", "bot.jobs.digest"},  # handlers reaching into jobs
    "handlers.home": {"handlers.commands.case_commands", "handlers.errors"},  # a handler importing another
    "handlers.commands.config_commands": {"bot.jobs.due_reminders"},
    "bot.loose_module": {"bot.store.models"},  # a module outside every layer
    "bot.jobs.sweeps": {"handlers.errors"},  # peers never import each other
    "bot.domain.rules": {"sqlalchemy"},
    "bot.slack.notifier": {"bot.sandbox.workspace"},  # only the CLI may reach the sandbox
    "bot.runtime.cli": {"bot.sandbox.workspace"},
}


def test_the_checker_fails_on_the_imports_the_issue_listed() -> None:
    found = violations(ISSUE_10_IMPORTS)
    expected_culprits = {
        ("bot.usecases.flags", "bot.slack.question_text"), ("bot.usecases.forget", "slack_sdk"),
        ("bot.usecases.forget", "bot.slack.blocks"), ("bot.usecases.config", "bot.slack.templating"),
        ("bot.slack.services", "handlers"), ("handlers.commands.case_commands", "bot.jobs.digest"),
        ("handlers.home", "handlers.commands.case_commands"), ("handlers.commands.config_commands", "bot.jobs.due_reminders"),
        ("bot.jobs.sweeps", "handlers.errors"), ("bot.domain.rules", "sqlalchemy"),
        ("bot.slack.notifier", "bot.sandbox.workspace"),
    }
    for importer, target in expected_culprits:
        assert any(line.startswith(f"{importer} ") and f" {target}" in line for line in found), (importer, target)
    assert any(line.startswith("bot.loose_module is in no layer") for line in found)
    allowed = {("handlers.commands.case_commands", "bot.slack.charts"), ("handlers.home", "handlers.errors"),
               ("bot.runtime.cli", "bot.sandbox.workspace")}
    for importer, target in allowed:
        assert not any(line.startswith(f"{importer} ") and line.split(" imports ")[1].startswith(target)
                       for line in found), (importer, target)
    assert cycles(ISSUE_10_IMPORTS) == [["bot.usecases.checkins", "bot.usecases.flag_actions",
                                         "bot.usecases.flags", "bot.usecases.private_notes"]]


def test_the_checker_reads_function_level_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.usecases.private_notes import PrivateNotes\n"
        "def later():\n    from bot.jobs import digest\n    import handlers.home\n"
    )
    found = imports_in(source, "bot.usecases.checkins", False, {"bot.jobs.digest"})
    assert {"bot.usecases.private_notes", "bot.jobs.digest", "handlers.home"} <= found
    assert len(violations({"bot.usecases.checkins": found})) == 2  # jobs and handlers, both above use cases
