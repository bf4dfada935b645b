"""Summary data (2.1.9) on hand-built messages: by source, stage, result and local day; the shares."""
from __future__ import annotations

from datetime import date

import pytest

from pos.services import analytics_summary as summary
from tests.analytics_data import Data, local


@pytest.fixture
def data(session):
    return Data(session)


def _parts(parts):
    return [(p.key, p.label, p.count) for p in parts]


def test_by_source_stage_and_result(session, data):
    d = data
    d.message(local(11, 11), org=d.transport, source="web")
    d.message(local(11, 12), org=d.transport, source="web", stage="answered", result="resolved")
    d.message(local(11, 12), org=d.transport, source="embed", stage="answered", result="not_resolved")
    d.message(local(11, 13), org=d.housing, source="api", stage="postponed", result="postponed")
    d.message(local(11, 13), org=d.housing, source="seed", stage="rejected")
    d.message(local(11, 14), org=d.housing, source="web", stage="answered", result="resolved")
    d.message(local(11, 14), org=d.housing, source="web", stage="execution", result="resolved")  # not yet given
    d.message(local(11, 5), org=d.housing, source="api", stage="answered", result="rejected")  # before the period
    m = summary.messages(session, d.scope())
    assert m.total == 7
    assert _parts(m.by_source) == [("web", "сайт", 4), ("embed", "встроенная форма", 1), ("api", "API", 1),
                                   ("seed", "демо", 1)]
    assert _parts(m.by_stage) == [("moderation", "Модерация", 1), ("execution", "Исполнение", 1),
                                  ("postponed", "Отложено", 1), ("answered", "Ответ дан", 3),
                                  ("rejected", "Отклонено модератором", 1)]
    assert _parts(m.by_result) == [("resolved", "решено", 2), ("not_resolved", "не решено", 1),
                                   ("postponed", "отложено", 1),
                                   ("rejected_by_moderator", "отклонено модератором", 1)]
    assert m.answered == 5


def test_repeated_and_accelerated_shares(session, data):
    d = data
    d.message(local(11, 12), org=d.housing, repeated=True)
    d.message(local(11, 12), org=d.housing, accelerated=True)
    d.message(local(11, 12), org=d.housing, repeated=True, accelerated=True)
    d.message(local(11, 12), org=d.housing)
    m = summary.messages(session, d.scope())
    assert (m.total, m.repeated, m.accelerated) == (4, 2, 2)
    assert m.share(m.repeated) == 50.0 and m.share(m.accelerated) == 50.0


def test_an_empty_period_has_no_shares(session, data):
    m = summary.messages(session, data.scope())
    assert (m.total, m.repeated, m.by_source, m.by_result) == (0, 0, [], [])
    assert m.share(0) is None
    assert len(m.per_day) == 10 and all(day.count == 0 for day in m.per_day)


def test_per_day_counts_local_days_every_day_listed(session, data):
    d = data
    d.message(local(11, 11, 0, 0), org=d.housing, source="web")  # 15:00 UTC on the 10th: the 11th here
    d.message(local(11, 11, 23, 30), org=d.housing, source="api")
    d.message(local(11, 12, 0, 30), org=d.housing, source="web")  # 15:30 UTC on the 11th: the 12th here
    d.message(local(11, 20, 23, 59), org=d.housing, source="embed")
    d.message(local(11, 21, 0, 0), org=d.housing)  # the day after the period
    days = summary.messages(session, d.scope()).per_day
    assert [day.day for day in days] == [date(2026, 11, n) for n in range(11, 21)]
    by_day = {day.day.day: (day.count, day.by_source) for day in days}
    assert by_day[11] == (2, {"web": 1, "api": 1})
    assert by_day[12] == (1, {"web": 1})
    assert by_day[20] == (1, {"embed": 1})
    assert sum(day.count for day in days) == 4


def test_a_long_period_is_counted_in_chunks_of_days(session, data, monkeypatch):
    monkeypatch.setattr(summary, "_DAYS_PER_QUERY", 3)  # SQLite's limit of compound terms, made small
    d = data
    for day in range(11, 21):
        d.message(local(11, day), org=d.housing)
    days = summary.messages(session, d.scope()).per_day
    assert [day.count for day in days] == [1] * 10


def test_the_scope_limits_every_figure(session, data):
    d = data
    d.message(local(11, 12), org=d.transport, source="web", repeated=True)
    d.message(local(11, 12), org=d.roads, source="api")
    d.message(local(11, 12), org=d.housing, source="embed", accelerated=True)
    d.message(local(11, 12), source="web")  # unrouted
    m = summary.messages(session, d.scope(organization=d.transport))
    assert (m.total, m.repeated, m.accelerated) == (2, 1, 0)
    assert _parts(m.by_source) == [("web", "сайт", 1), ("api", "API", 1)]
    assert sum(day.count for day in m.per_day) == 2
    m = summary.messages(session, d.scope(jurisdiction=d.city))
    assert m.total == 0
    assert summary.messages(session, d.scope()).total == 4


def test_the_summary_is_the_page_content_with_messages_first(session, data):
    data.message(local(11, 12), org=data.housing)
    result = summary.summary(session, data.scope())
    assert result.messages.total == 1
