"""Running contenders at the same moment, for tests of races."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def race(count: int, contender: Callable[[int], T]) -> list[T | None]:
    """Run `count` contenders at once (released together by a barrier); their answers
    in order. Whatever one raises fails the test, in the test's thread."""
    barrier = threading.Barrier(count)
    answers: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = contender(index)
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return answers
