"""Checking a whole form at once: every refusal kept with its field, raised together."""
from __future__ import annotations

from pos.workflow import Invalid


class Problems(Invalid):
    """Every problem of a form at once: (field, message) pairs; the first one is the exception's text."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1], problems[0][0])
        self.problems = problems


class Collector:
    """Runs each check and keeps its refusal, so that one submit reports every field at fault."""

    def __init__(self):
        self.problems: list[tuple[str | None, str]] = []

    def check(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            for field, message in getattr(exc, "problems", None) or [(exc.field, str(exc))]:
                self.add(field, message)
            return ""

    def add(self, field: str | None, message: str) -> None:
        if (field, message) not in self.problems:
            self.problems.append((field, message))

    def raise_any(self) -> None:
        if self.problems:
            raise Problems(self.problems)
