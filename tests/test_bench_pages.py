"""`python -m bench pages` end to end at a tiny size: generated data on SQLite, gunicorn serving the platform
and the bare app, every page of `PAGES` (and a page given as a tuple) asked as its person. Behaviour, not
time: the table has a row per page and the floor, each with its figures."""
from __future__ import annotations

import re

from bench import pages
from tests.web_redis import web_redis_url


def test_the_harness_serves_and_times_every_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_SQLITE_DIR", str(tmp_path))
    monkeypatch.setenv("BENCH_REDIS_URL", web_redis_url())
    extra = ("Входящие, тест", "analyst", lambda _session: "/staff/analytics/summary?date_from=2026-11-01", {})
    assert pages.main(["--messages", "2000", "--databases", "sqlite", "--requests", "3", "--warmup", "1"],
                      [*pages.PAGES, extra]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[\d.]+", cells[1]):
            rows[cells[0]] = cells
    expected = [pages.as_page(p).label for p in pages.PAGES] + ["Входящие, тест", "bare Flask, 50 rows"]
    assert list(rows) == expected
    for label, (_, p50, p95, size, sql, ratio) in rows.items():
        assert 0 < float(p50) <= float(p95) and int(size) > 500, label
        if label != "bare Flask, 50 rows":
            assert int(sql) > 0, label  # the served app counted its statements
    assert rows["bare Flask, 50 rows"][4] == "—" and rows["bare Flask, 50 rows"][5] == "1.0"
    assert "sqlite, 2000 messages" in out and "load average" in out
