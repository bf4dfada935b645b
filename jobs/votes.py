"""Votes and polls that have opened: the applicants who asked are told (pos.services.votes.announce_openings).

Opening is time-driven (the period), so the ticker runs this every tick period of the sweep; a vote is
announced once, whatever the number of runs or workers (its mark and the outbox row's unique key).
"""
from __future__ import annotations

from pos.services import votes


def run() -> int:
    """RQ job."""
    from jobs import runtime

    with runtime.session() as session:
        return votes.announce_openings(session)
