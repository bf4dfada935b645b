"""The platform's clock: aware UTC everywhere, replaceable through configuration."""
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

_clock_file: str = ""
_frozen: datetime | None = None


def configure(clock_file: str) -> None:
    global _clock_file
    _clock_file = clock_file


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Run a block at a given moment (seeding the past, tests)."""
    global _frozen
    previous, _frozen = _frozen, as_utc(at)
    try:
        yield
    finally:
        _frozen = previous


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def now() -> datetime:
    """Current time, aware UTC; a configured clock file (tests) overrides it."""
    if _frozen is not None:
        return _frozen
    if _clock_file:
        path = Path(_clock_file)
        if path.exists():
            text = path.read_text().strip()
            if text:
                return as_utc(datetime.fromisoformat(text))
    return datetime.now(timezone.utc)
