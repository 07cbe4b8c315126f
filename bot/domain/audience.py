"""Who sees a member's custom label (SPEC §3, issue 12).

A case may name its members with short custom labels (`labels=P1,P2`). A label
can still be a name — no pattern tells a name from a word — so it stays with the
case's own therapists: their replies, their DMs, their own App Home. Everything
that leaves their view (the supervision channel, warning threads, the digest,
the export, a supervisor's App Home or `history`, charts) shows the member's
position letter instead: the first member is `A`, the second `B`, and so on.
`unit` and `collective` are thread names, not labels, and pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from bot.domain.cases import MAX_LABEL_LENGTH
from bot.domain.checkins import CheckinRecord, Rupture


class Audience(StrEnum):
    THERAPISTS = "therapists"  # the case's own therapists, privately
    OTHERS = "others"  # anyone else: a channel, a supervisor, a file


def position_letter(index: int) -> str:
    """A, B, ... Z, then A2, B2, ... for very large families."""
    letter = chr(ord("A") + index % 26)
    return letter if index < 26 else f"{letter}{index // 26 + 1}"


def public_names(member_labels: Sequence[str]) -> dict[str, str]:
    return {label: position_letter(i) for i, label in enumerate(member_labels)}


def member_name(thread: str, member_labels: Sequence[str], audience: Audience) -> str:
    """What `audience` may see for a thread or member: the label or its letter."""
    if audience is Audience.THERAPISTS:
        return thread
    return public_names(member_labels).get(thread, thread)


def relabel_keys(values: Mapping[str, object], member_labels: Sequence[str], audience: Audience) -> dict[str, object]:
    return {member_name(k, member_labels, audience): v for k, v in values.items()}


def relabel_all(threads: Iterable[str], member_labels: Sequence[str], audience: Audience) -> list[str]:
    return [member_name(t, member_labels, audience) for t in threads]


def record_for(record: CheckinRecord, member_labels: Sequence[str], audience: Audience) -> CheckinRecord:
    """A check-in with its threads and members named for `audience`."""
    if audience is Audience.THERAPISTS:
        return record
    return replace(
        record,
        ratings={member_name(k, member_labels, audience): v for k, v in record.ratings.items()},
        client_scores={member_name(k, member_labels, audience): v for k, v in record.client_scores.items()},
        rupture=Rupture(kind=record.rupture.kind,
                        members=tuple(relabel_all(record.rupture.members, member_labels, audience))),
    )


def relabel_text(text: str, member_labels: Sequence[str], audience: Audience) -> str:
    """`text` with every custom label, as a whole word, replaced by its letter."""
    names = {label: letter for label, letter in public_names(member_labels).items() if label != letter}
    if audience is Audience.THERAPISTS or not names or not text:
        return text
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
                         + r")(?![\w-])")
    return pattern.sub(lambda m: names[m.group(0)], text)


_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def label_problem(position: int, label: str) -> str | None:
    """None for a usable custom label, else one line saying why not (never the
    label itself: it may hold invisible characters). `position` counts from 1."""
    import unicodedata

    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in label):
        return (f"Member label {position} holds an invisible or control character (a direction override, "
                "a zero-width space ...); labels use letters, digits and - only, e.g. `labels=P1,P2`.")
    if not 1 <= len(label) <= MAX_LABEL_LENGTH:
        return f"Member labels are 1 to {MAX_LABEL_LENGTH} characters, e.g. `labels=P1,P2`."
    if not _LABEL.fullmatch(label) or "_" in label:
        return (f"Member label {position} may use only letters, digits and - (at most {MAX_LABEL_LENGTH}), "
                "e.g. `labels=P1,P2`.")
    return None


def audience_of_channel(channel_id: str) -> Audience:
    """A direct message (`D…`, or a user ID posted to) stays with its reader;
    any channel (`C…`, `G…`) is seen by others."""
    return Audience.THERAPISTS if channel_id[:1] in ("D", "U", "W") else Audience.OTHERS
