"""A check-in's path: one handler, one use-case call, the case looked up once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from bot.store.models import OutboxMessage

from bot.domain import grammar
from bot.domain.cases import CaseKind
from bot.runtime.bootstrap import Runtime
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from handlers.commands import case_commands
from tests.support.slack_standin import SlackStandIn
from tests.test_flags import THERAPIST


def watch_case_lookups(runtime: Runtime) -> tuple[list[str], Any]:
    """Every SELECT of a case by its code, from now on."""
    seen: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        lowered = " ".join(statement.lower().split())
        if lowered.startswith("select") and "from cases" in lowered and "cases.code =" in lowered:
            seen.append(lowered)

    event.listen(runtime.engine, "before_cursor_execute", on_execute)
    return seen, on_execute


def test_log_looks_the_case_up_once_and_calls_one_use_case(runtime: Runtime, standin: SlackStandIn,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with runtime.services.session_factory.begin() as session:
        code = case_uc.create_case(session, THERAPIST, CaseKind.COUPLE, 2, (), runtime.services.now()).code
    calls: list[str] = []
    for name in ("log_checkin_or_ask", "log_checkin", "record_checkin"):
        original = getattr(checkin_uc, name)

        def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(checkin_uc, name, counted)
    standin.clear()
    seen, listener = watch_case_lookups(runtime)
    try:
        result = case_commands.log_checkin(runtime.services, THERAPIST.user_id,
                                           grammar.LogCheckin(code=code, ratings=("8", "7", "8", "8")))
    finally:
        event.remove(runtime.engine, "before_cursor_execute", listener)
    assert code in result.reply["text"]  # stored, its stall rules run in the same transaction
    with runtime.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # 8 7 8 8 raises nothing
    assert calls == ["log_checkin_or_ask"]
    assert len(seen) == 1, seen
    assert len(standin.calls_to("users.info")) <= 1
