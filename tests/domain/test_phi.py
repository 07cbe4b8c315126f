"""The PHI guard: refuse identifying details, let therapy-note language through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.phi import PhiFinding, PhiKind, check_free_text, find_phi, phi_refusal

E, P, D, S, R, U, A = (
    PhiKind.EMAIL,
    PhiKind.PHONE,
    PhiKind.DATE,
    PhiKind.SSN,
    PhiKind.RECORD_NUMBER,
    PhiKind.URL,
    PhiKind.ADDRESS,
)

# (text, the identifying part, its kind)
POSITIVES: list[tuple[str, str, PhiKind]] = [
    ("mail her at jo.smith@example.com later", "jo.smith@example.com", E),
    ("cc j+therapy@mail.clinic.co.uk.", "j+therapy@mail.clinic.co.uk", E),
    ("B's address is BOB_99@Work-Place.ORG", "BOB_99@Work-Place.ORG", E),
    ("call (555) 123-4567 after 5", "(555) 123-4567", P),
    ("B's cell 555-123-4567", "555-123-4567", P),
    ("or 555.123.4567", "555.123.4567", P),
    ("US: +1 555 123 4567", "+1 555 123 4567", P),
    ("UK mobile +44 20 7946 0958", "+44 20 7946 0958", P),
    ("reach A on 07700 900123 evenings", "07700 900123", P),
    ("landline 020 7946 0958", "020 7946 0958", P),
    ("number 5551234567 from intake", "5551234567", P),
    ("+44 (0)20 7946 0958 is the office", "+44 (0)20 7946 0958", P),
    ("born 2024-03-15", "2024-03-15", D),
    ("seen 15/03/2024 first", "15/03/2024", D),
    ("on 3/15/24 B left", "3/15/24", D),
    ("DOB 15.03.2024", "15.03.2024", D),
    ("since March 15, 2024 things improved", "March 15, 2024", D),
    ("since 15 March 2024 things improved", "15 March 2024", D),
    ("Mar 15 2024 was the fight", "Mar 15 2024", D),
    ("on the 3rd of May, 2023", "3rd of May, 2023", D),
    ("accident 15-Mar-2024", "15-Mar-2024", D),
    ("born 3/4/85", "3/4/85", D),
    ("seen 01.02.23 at intake", "01.02.23", D),
    ("ssn 123-45-6789 on file", "123-45-6789", S),
    ("123 45 6789", "123 45 6789", S),
    ("MRN 1234567 at the hospital", "MRN 1234567", R),
    ("chart #123456 in the EHR", "chart #123456", R),
    ("ID: 654321", "ID: 654321", R),
    ("reference 98765432 from the insurer", "98765432", R),
    ("NHS number 485 777 3456", "NHS number 485 777 3456", R),
    ("see https://example.com/path?q=1.", "https://example.com/path?q=1", U),
    ("try www.couples-help.xyz for homework", "www.couples-help.xyz", U),
    ("the clinic.com site", "clinic.com", U),
    ("read example.org/path/to/page, then", "example.org/path/to/page", U),
    ("lives at 12 Baker Street now", "12 Baker Street", A),
    ("1600 Pennsylvania Ave is far", "1600 Pennsylvania Ave", A),
    ("moved to 4B Elm Rd. last year", "4B Elm Rd.", A),
    ("write to PO Box 123", "PO Box 123", A),
    ("at 221B Baker street", "221B Baker street", A),
    ("from 10 St Mary's Close", "10 St Mary's Close", A),
]

NEGATIVES: list[str] = [
    "B withdrew when money came up; 8/10 → 4/10",
    "session 12",
    "client 34/40",
    "CPL-7KQ2",
    "FAM-0000 and IND-9ZZZ",
    "2-3 times a week",
    "10-15 minutes",
    "3-4 sessions",
    "in March",
    "March 2024",
    "the 15th of March",
    "e.g. homework",
    "i.e. the usual fight, etc.",
    "felt pulled to take sides at 10:30",
    "A: 8, B: 7",
    "score dropped 2 points",
    "3 sessions ago",
    "9am",
    "50 minutes",
    "1st session",
    "ratings 8 7 8 8",
    "Flat 4/10 again",
    "version-like v2.1",
    "release 2.1.10 of the app",
    "3 way conversation",
    "walked 2 dogs down the lane",
    "2 sessions",
    "spoke to Dr.Smith about it",
    "saw Dr. Smith on 2 occasions",
    "after 2 st. johns wort doses",
    "ORS 35/40, SRS 36/40",
    "10:30-11:20 session, 50 min",
    "paid $1,200 for 12 sessions",
    "the id and the ego",
    "+2 since last week, -1 for A",
    "scores 8/10, 7/10, 9/10",
    "8/10",
    "May was hard for both",
    "week 6 of 12",
    "3 month follow-up",
    "A rated 7.5 and B 6.5",
    "family ratings A/B/C 8/7/10",
    "10/10/10 all round",
]


@pytest.mark.parametrize(("text", "part", "kind"), POSITIVES)
def test_positive_is_found_with_its_kind(text: str, part: str, kind: PhiKind) -> None:
    findings = find_phi(text)
    start = text.index(part)
    hits = [f for f in findings if f.start < start + len(part) and start < f.end]
    assert len(hits) == 1, findings
    assert hits[0].kind is kind
    assert hits[0].start <= start and hits[0].end >= start + len(part)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_is_not_found(text: str) -> None:
    assert find_phi(text) == []
    assert check_free_text("private note", text) is None


def test_phone_and_record_runs_are_classified_consistently() -> None:
    assert [f.kind for f in find_phi("5551234567")] == [P]  # exactly 10 digits
    assert [f.kind for f in find_phi("15551234567")] == [P]  # 11 digits, leading 1
    assert [f.kind for f in find_phi("07700900123")] == [P]  # 11 digits, leading 0
    assert [f.kind for f in find_phi("25551234567")] == [R]  # 11 digits otherwise
    assert [f.kind for f in find_phi("123456789")] == [R]  # 9 digits
    assert [f.kind for f in find_phi("MRN 5551234567")] == [R]  # keyword wins


def test_findings_are_ordered_and_merged_preferring_the_more_specific_kind() -> None:
    text = "x@clinic.com then 555-123-4567 then example.org/12345678"
    findings = find_phi(text)
    assert [f.kind for f in findings] == [E, P, U]
    assert text[findings[0].start : findings[0].end] == "x@clinic.com"
    assert text[findings[2].start : findings[2].end] == "example.org/12345678"


def test_refusal_names_kinds_in_order_and_never_echoes_the_text() -> None:
    text = "call 555-123-4567 or mail jo@example.com"
    message = check_free_text("private note", text)
    assert message == (
        "The private note looks like it contains a phone number and an e-mail address, "
        "so nothing was saved. Keep identifying details out of Alliance."
    )
    for finding in find_phi(text):
        assert text[finding.start : finding.end] not in message


@pytest.mark.parametrize(("text", "part", "kind"), POSITIVES)
def test_refusal_for_each_positive_names_the_kind_only(
    text: str, part: str, kind: PhiKind
) -> None:
    message = check_free_text("resolution note", text)
    assert message is not None
    assert "\n" not in message
    assert kind.description in message
    assert "resolution note" in message and "nothing was saved" in message
    assert part not in message


def test_refusal_lists_three_kinds_once_each() -> None:
    findings = [
        PhiFinding(D, 30, 40),
        PhiFinding(E, 0, 10),
        PhiFinding(P, 12, 20),
        PhiFinding(E, 50, 60),
    ]
    message = phi_refusal("member label", findings)
    assert message is not None
    assert "an e-mail address, a phone number and a full date," in message
    assert message.count("e-mail") == 1


def test_no_findings_means_no_refusal() -> None:
    assert phi_refusal("private note", []) is None
    assert check_free_text("private note", "") is None


def test_every_kind_has_plain_words() -> None:
    assert {k.description for k in PhiKind} == {
        "an e-mail address",
        "a phone number",
        "a full date",
        "an SSN-like number",
        "a record-number-like digit run",
        "a web address",
        "a street address",
    }


@settings(max_examples=300)
@given(st.text())
def test_find_phi_is_total_and_findings_are_sane(text: str) -> None:
    findings = find_phi(text)
    previous_end = 0
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.start >= previous_end  # ordered, non-overlapping
        previous_end = finding.end
    assert (check_free_text("note", text) is None) == (findings == [])


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(categories=["L"]) | st.just(" ")))
def test_words_only_text_has_no_findings(text: str) -> None:
    assert find_phi(text) == []


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["8/10", "34/40", "session", "12", "2-3", "times", "A:", "B:", "9am"])
        | st.integers(0, 999).map(str),
        max_size=12,
    )
)
def test_short_numbers_and_scores_never_trigger(words: list[str]) -> None:
    assert find_phi(" ".join(words)) == []
