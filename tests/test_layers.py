"""The domain layer imports nothing but the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"
ALLOWED = set(sys.stdlib_module_names)


def imported_modules(path: Path) -> list[str]:
    """Absolute module names a file imports anywhere (relative imports skipped)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def is_allowed(module: str) -> bool:
    return module.split(".")[0] in ALLOWED or module == "bot.domain" or module.startswith("bot.domain.")


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_only_the_standard_library(path: Path) -> None:
    outside = [m for m in imported_modules(path) if not is_allowed(m)]
    assert outside == [], f"{path.name} imports {outside}"


def test_the_check_sees_the_domain_modules() -> None:
    assert {"rules.py", "thresholds.py", "sparkline.py"} <= {p.name for p in DOMAIN.glob("*.py")}
    assert not is_allowed("slack_sdk") and not is_allowed("sqlalchemy.orm") and not is_allowed("jinja2")
    assert not is_allowed("bot.store") and is_allowed("bot.domain.cases") and is_allowed("datetime")
