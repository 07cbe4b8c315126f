"""The reflection-question themes of SPEC §6 and the case kinds their wordings fit:
names only, shared by the rule registry (which rules ask which themes) and the
question chooser."""

from __future__ import annotations

SPLIT = "split"
WEAK_UNIT = "weak_unit"
RUPTURE = "rupture"
STALLED = "stalled"
THERAPIST = "therapist"
RESISTANCE = "resistance"
MISSING = "missing"

THEMES: tuple[str, ...] = (SPLIT, WEAK_UNIT, RUPTURE, STALLED, THERAPIST, RESISTANCE, MISSING)

KINDS: tuple[str, ...] = ("individual", "couple", "family")
