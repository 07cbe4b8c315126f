"""Cases: kinds, random case codes and the threads of a relationship."""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Sequence

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_BODY_LENGTH = 4
CODE_PATTERN = re.compile(r"^(IND|CPL|FAM)-([0-9A-HJKMNP-TV-Z]{4})$")
# How a code may be typed: any case, Crockford's look-alikes (O for 0, I/L for 1),
# any dash (en dash, em dash, minus sign…), a space or nothing between its parts.
_TYPED_CODE = re.compile(r"^(ind|cpl|fam)(?:-| +)?([0-9a-z]{4})$", re.IGNORECASE)
CODE_PREFIXES = ("IND", "CPL", "FAM")

UNIT = "unit"
COLLECTIVE = "collective"
MAX_MEMBERS = 8
MAX_LABEL_LENGTH = 12  # custom member labels are short tokens (issue 12; bot.domain.audience)


class CaseKind(StrEnum):
    INDIVIDUAL = "individual"
    COUPLE = "couple"
    FAMILY = "family"

    @property
    def prefix(self) -> str:
        return {"individual": "IND", "couple": "CPL", "family": "FAM"}[self.value]

    @property
    def default_members(self) -> int:
        return {"individual": 1, "couple": 2, "family": 3}[self.value]

    @property
    def min_members(self) -> int:
        return {"individual": 1, "couple": 2, "family": 2}[self.value]

    @property
    def max_members(self) -> int:
        return {"individual": 1, "couple": 2, "family": MAX_MEMBERS}[self.value]


class CaseStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


def generate_case_code(kind: CaseKind, rng: secrets.SystemRandom | None = None) -> str:
    """A random code, derived from nothing about the clients: `CPL-7KQ2`."""
    choose = (rng or secrets.SystemRandom()).choice
    return f"{kind.prefix}-" + "".join(choose(CROCKFORD) for _ in range(CODE_BODY_LENGTH))


def plain_dashes(text: str) -> str:
    """Every kind of dash (and the minus sign) as a plain hyphen."""
    return "".join("-" if unicodedata.category(ch) == "Pd" or ch == "\u2212" else ch for ch in text)


def normalize_case_code(text: str) -> str | None:
    """The canonical form of a typed code, or None when it is not code-shaped:
    `IND–SWBQ`, `IND SWBQ` and `indswbq` are all `IND-SWBQ`."""
    match = _TYPED_CODE.match(plain_dashes(text.strip()))
    if not match:
        return None
    body = match.group(2).upper().translate(_DECODE_ALIASES)
    if "U" in body:
        return None
    code = f"{match.group(1).upper()}-{body}"
    return code if CODE_PATTERN.match(code) else None


def default_member_labels(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def thread_names(member_labels: Sequence[str]) -> list[str]:
    """Members first, then `unit` and `collective` when there are two or more."""
    threads = list(member_labels)
    if len(member_labels) >= 2:
        threads += [UNIT, COLLECTIVE]
    return threads


def describe_thread(thread: str) -> str:
    """Plain words for a thread, as a modal label or a help line."""
    if thread == UNIT:
        return "Alliance with them as a unit"
    if thread == COLLECTIVE:
        return "The room: safety and shared purpose"
    return f"Your rapport with {thread}"
