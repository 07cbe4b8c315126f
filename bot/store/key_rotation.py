"""`alliance-bot keys rotate`: re-encrypt every stored note under a new key.

All ciphertext columns are rewritten in one transaction: either every note is
under the new key afterwards, or nothing changed. Blobs already under the new
key are skipped, so a rotation that was interrupted, or run twice, is safe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bot.store.crypto import KeyProblem, NoteCipher
from bot.store.models import Checkin, Flag, RepairPlan
from bot.settings import Settings, SettingsError

NEW_KEY_ENV = "ALLIANCE_NEW_ENCRYPTION_KEY"
NOTE_CONTEXT = b"note"  # checkins: NoteCipher's default
PLAN_NOTE_CONTEXT = b"plan-note"  # as bot/usecases/flag_actions.py seals plan notes
RESOLUTION_NOTE_CONTEXT = b"resolution-note"  # and resolution notes (a test holds them equal)

# Every column that holds ciphertext, with the context it was sealed under. A new
# encrypted column must be added here, or `keys rotate` would leave it behind.
CIPHERTEXT_COLUMNS: tuple[tuple[Any, str, bytes], ...] = (
    (Checkin, "note_ciphertext", NOTE_CONTEXT),
    (Flag, "resolution_note_ciphertext", RESOLUTION_NOTE_CONTEXT),
    (RepairPlan, "note_ciphertext", PLAN_NOTE_CONTEXT),
)


@dataclass(frozen=True)
class ColumnRotation:
    column: str
    rotated: int
    already_new: int


def rotate_column(session: Session, model: Any, column: str, context: bytes,
                  old: NoteCipher, new: NoteCipher) -> ColumnRotation:
    attribute = getattr(model, column)
    rotated = already = 0
    rows = session.execute(select(model.id, attribute).where(attribute.is_not(None)).order_by(model.id))
    for row_id, blob in rows.all():
        blob = bytes(blob)
        if new.owns(blob):
            already += 1
            continue
        if not old.owns(blob):
            raise KeyProblem(f"{model.__tablename__}.{column} row {row_id} is sealed with neither the current "
                             "nor the new key; nothing was changed")
        plaintext = old.decrypt(blob, context)
        session.execute(update(model).where(model.id == row_id).values({column: new.encrypt(plaintext, context)}))
        rotated += 1
    return ColumnRotation(column=f"{model.__tablename__}.{column}", rotated=rotated, already_new=already)


def rotate_notes(session: Session, old: NoteCipher, new: NoteCipher) -> list[ColumnRotation]:
    """Re-encrypt every note from `old` to `new`. Never commits; raises KeyProblem
    (and changes nothing once rolled back) if any note cannot be read."""
    if old.key == new.key:
        raise KeyProblem("the new key is the same as the current one; make one with `alliance-bot keys generate`")
    return [rotate_column(session, model, column, context, old, new) for model, column, context in CIPHERTEXT_COLUMNS]


def new_key_text(given: str | None, environ: dict[str, str] | None = None) -> str:
    text = given or (os.environ if environ is None else environ).get(NEW_KEY_ENV)
    if not text:
        raise SettingsError(f"Give the new key with --new-key or {NEW_KEY_ENV}; make one with `alliance-bot keys generate`.")
    return text


def run_rotation(settings: Settings, given_new_key: str | None) -> int:
    """The CLI command: rotate, print counts, and say what to do next."""
    from bot.store.db import make_engine, make_session_factory

    if not settings.encryption_key:
        raise SettingsError("ALLIANCE_ENCRYPTION_KEY (the current key) must be set to rotate.")
    old = NoteCipher.from_text(settings.encryption_key)
    new = NoteCipher.from_text(new_key_text(given_new_key))
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            results = rotate_notes(session, old, new)
    except (OperationalError, ProgrammingError) as error:
        raise SettingsError(f"could not read the database at DATABASE_URL ({type(error.orig).__name__}); "
                            "is it running and migrated (`alliance-bot db upgrade`)? Nothing was changed.") from None
    finally:
        engine.dispose()
    for result in results:
        print(f"{result.column}: {result.rotated} re-encrypted, {result.already_new} already under the new key")
    total = sum(r.rotated for r in results)
    print(f"done: {total} note(s) re-encrypted. Set ALLIANCE_ENCRYPTION_KEY to the new key and restart Alliance.")
    return 0
