"""Text as a reader sees it, before any check: Unicode NFKC (full-width digits,
ligatures and other compatibility forms become plain ones), zero-width and
other format characters removed, dashes made ASCII, whitespace runs collapsed
to one space. Each character of the result remembers where it came from, so
findings in the normalised text can be pointed at in the original."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")


@dataclass(frozen=True)
class Normalised:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original of text[i]
    original_length: int

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        if not self.origin:
            return 0, 0
        first = self.origin[start]
        last = self.origin[end - 1] + 1 if end > start else first
        return first, min(max(last, first), self.original_length)


def is_invisible(ch: str) -> bool:
    """Format characters (Cf: zero-width spaces and joiners, direction overrides,
    soft hyphen, BOM) and controls other than whitespace."""
    category = unicodedata.category(ch)
    return category == "Cf" or (category == "Cc" and not ch.isspace())


def normalise(text: str) -> Normalised:
    chars: list[str] = []
    origin: list[int] = []
    for index, raw in enumerate(text):
        if is_invisible(raw):
            continue
        for ch in unicodedata.normalize("NFKC", raw).translate(_DASHES):
            if is_invisible(ch):
                continue
            if ch.isspace():
                if not chars or chars[-1] == " ":
                    continue
                ch = " "
            chars.append(ch)
            origin.append(index)
    while chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return Normalised("".join(chars), tuple(origin), len(text))
