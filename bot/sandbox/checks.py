"""What Slack would reject: every block parsed by slack_sdk's models, and
Slack's limits on blocks, section text and view titles."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
SECTION_TEXT_LIMIT = 3000
TITLE_LIMIT = 24
MESSAGE_TEXT_LIMIT = 40_000


def check_blocks(blocks: Any, limit: int, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(blocks, list):
        return [f"{where}: blocks is not a list"]
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks, over Slack's {limit}")
    for index, raw in enumerate(blocks):
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"{where}: block {index} of unknown type {raw.get('type')!r}")
                continue
            parsed.to_dict()
        except Exception as error:  # noqa: BLE001 - report every rejection
            problems.append(f"{where}: block {index} rejected: {error}")
        if isinstance(raw, dict) and raw.get("type") == "section":
            text = (raw.get("text") or {}).get("text", "")
            if len(text) > SECTION_TEXT_LIMIT:
                problems.append(f"{where}: section {index} has {len(text)} characters, over 3,000")
    return problems


def check_view(view: Any, where: str) -> list[str]:
    if not isinstance(view, dict):
        return [f"{where}: view is not an object"]
    problems = check_blocks(view.get("blocks", []), VIEW_BLOCK_LIMIT, where)
    try:
        View(**view).to_dict()
    except Exception as error:  # noqa: BLE001
        problems.append(f"{where}: view rejected: {error}")
    title = (view.get("title") or {}).get("text", "")
    if len(title) > TITLE_LIMIT:
        problems.append(f"{where}: title of {len(title)} characters, over 24")
    return problems
