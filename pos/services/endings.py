"""How a message's deadline reads: a running deadline while it is worked on, how it ended once it has.

A final state (answered, rejected) never shows a running answer deadline; a
postponed message shows its control date (the postponement's) and the answer
given. Every page, letter and API answer asks here, so they all say the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pos import clock
from pos.workflow import ACTIVE_STAGES, Stage, answered_on_time


@dataclass(frozen=True)
class Ending:
    code: str  # answered | rejected | postponed | closed (an incident: «не требует ответа»)
    at: datetime | None  # the answer given, the rejection (aware UTC)
    on_time: bool | None = None  # the answer within its deadline
    until: date | None = None  # postponed: the control date
    reason: str = ""  # rejected: the letter of clause 3.3


def is_running(message) -> bool:
    """Whether the answer deadline runs: in the active stages only (not postponed, not final)."""
    return message.stage in ACTIVE_STAGES


def ending_of(message) -> Ending | None:
    """How the message ended (or waits, postponed); None while its deadline runs."""
    on_time = answered_on_time(message.answered_at, message.answer_due_at)
    match message.stage:
        case Stage.ANSWERED:
            return Ending("answered", message.answered_at, on_time)
        case Stage.POSTPONED:
            return Ending("postponed", message.answered_at, on_time, until=message.postponed_until)
        case Stage.REJECTED:
            # Nothing leaves «rejected»: the stage was entered at the rejection.
            return Ending("rejected", message.stage_entered_at, reason=message.rejection_reason or "")
        case Stage.CLOSED:
            return Ending("closed", message.stage_entered_at)
    return None


def _day(moment: datetime | None, tz: str) -> str:
    return clock.as_utc(moment).astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y") if moment else ""


def answer_given(ending: Ending, tz: str) -> str:
    """«Ответ дан 12.12.2026, в срок» (or «с нарушением срока»)."""
    if ending.at is None:
        return "Ответ дан"
    timing = "" if ending.on_time is None else (", в срок" if ending.on_time else ", с нарушением срока")
    return f"Ответ дан {_day(ending.at, tz)}{timing}"


def ending_lines(message, tz: str) -> list[str]:
    """How it ended, in words, the main line first; [] while the deadline runs."""
    ending = ending_of(message)
    if ending is None:
        return []
    if ending.code == "answered":
        return [answer_given(ending, tz)]
    if ending.code == "postponed":
        lines = [f"Отложено до {ending.until:%d.%m.%Y}" if ending.until else "Отложено"]
        return lines + ([answer_given(ending, tz)] if ending.at else [])
    if ending.code == "closed":
        return [f"Закрыто модератором {_day(ending.at, tz)}: не требует ответа"]
    reason = f": причина {ending.reason})" if ending.reason else ""
    return [f"Отклонено модератором {_day(ending.at, tz)}{reason}"]
