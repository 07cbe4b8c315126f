"""PHI guard: spot identifying details in free text before anything is saved.

Every value a user can put text into goes through `check_free_text`: member
labels, private notes, resolution notes, plan text, and values of fields that
are normally choices (a forged submission can put anything there). The text is
normalised first (`text_normal.normalise`: NFKC, zero-width and format
characters removed, whitespace collapsed), so `555\u200b123 4567` or full-width
digits are seen as what they show. Names are not detected — no pattern can tell
a name from a word (SECURITY.md) — which is why labels never leave the case's
therapists. A refusal names the kind of thing found, never the matched text.

What passes, on purpose: scores and score lists (`8/10`, `12/15/18`), session
and week lists (`weeks 4/8/12`), ages, durations, counts, money, times, ranges
(`2-3`, `10-15 minutes`), versions (`2.1.10`) and case codes (`CPL-7KQ2`).

Judgement calls:
- Digits in groups with separators (space . - / _ parentheses) totalling 7-15
  digits are a PHONE number, unless every group has at most two digits, groups
  split by spaces have none of four digits ("100 200 300") or mix with "/"
  ("8/10 8/10 100"), the groups are years ("2019 2021") or the whole is shaped
  like a date (left to the date rules). After a phone word ("cell", "tel",
  "mobile" ...) five digits in any grouping are enough ("5 5 5 8 6 7 5 3 0 9").
- An unbroken run of exactly 10 digits, or 11 starting with 0 or 1, is a PHONE
  number; any other unbroken run of 7+ digits is a RECORD_NUMBER. After a word
  such as MRN, ID, insurance, Medicaid, policy, passport or member, any token of
  four or more characters holding three or more digits is a RECORD_NUMBER.
- A numeric date with a two-digit year whose parts could be scores is read as
  scores when they follow a score word ("scored", "weeks", "subscales" ...), form
  an even progression (4/8/12, 12/15/18) or are all 10 or less (8/7/10).
- Addresses: a house number, 1-4 words and a street word, in English
  ("12 baker st"); a street word, then a house number, in German, Dutch, French,
  Spanish, Italian and Portuguese forms ("Hauptstrasse 5", "Rue de la Paix 12");
  postcodes next to a town ("10115 Berlin", "BS1 4RN", "1017 BP") or after "zip".
- Bare domains need a known top-level domain ("annajones.ru"); two-letter ones
  that are English words ("it", "me", "in") only in lower case after a 3+ letter label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.phi_rules import RULES, PhiKind
from bot.domain.text_normal import normalise

__all__ = ["PhiKind", "PhiFinding", "find_phi", "phi_refusal", "check_free_text"]


@dataclass(frozen=True)
class PhiFinding:
    kind: PhiKind
    start: int
    end: int


_TRAILING = ".,;:!?)]}'\"’”"


def find_phi(text: str) -> list[PhiFinding]:
    """Every identifying-looking stretch of `text` (positions in `text` itself),
    in order, overlaps merged into the most specific kind involved."""
    seen = normalise(text)
    plain = seen.text
    candidates: list[tuple[int, int, int, PhiKind]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(plain):
            if rule.accept is not None and not rule.accept(match):
                continue
            start, end = match.span(rule.group)
            if rule.trim_punctuation:
                end = start + len(plain[start:end].rstrip(_TRAILING))
            if end > start:
                candidates.append((start, end, rule.rank, rule.kind))
    candidates.sort(key=lambda c: (c[0], -c[1]))

    spans: list[tuple[int, int, int, PhiKind]] = []
    for start, end, rank, kind in candidates:
        if spans and start < spans[-1][1]:
            s0, e0, r0, k0 = spans[-1]
            best_rank, best_kind = (rank, kind) if rank > r0 else (r0, k0)
            spans[-1] = (s0, max(e0, end), best_rank, best_kind)
        else:
            spans.append((start, end, rank, kind))
    findings: list[PhiFinding] = []
    for start, end, _, kind in spans:
        first, last = seen.span_in_original(start, end)
        if findings and first < findings[-1].end:
            first = findings[-1].end
        if last > first:
            findings.append(PhiFinding(kind, first, last))
    return findings


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def phi_refusal(field_name: str, findings: Sequence[PhiFinding]) -> str | None:
    """One line saying what kinds were found where; never echoes the text itself."""
    if not findings:
        return None
    kinds: list[PhiKind] = []
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if finding.kind not in kinds:
            kinds.append(finding.kind)
    field = " ".join(field_name.split()) or "text"
    return (
        f"The {field} looks like it contains {_join([k.description for k in kinds])}, "
        "so nothing was saved. Keep identifying details out of Alliance."
    )


def check_free_text(field_name: str, text: str) -> str | None:
    """None when `text` is safe to store, else the refusal to show the user."""
    return phi_refusal(field_name, find_phi(text))

