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


def test_a_page_is_set_against_the_bare_requests_asked_in_turn_with_it():
    """The ratio of a page is over the bare app's requests of the same stretch of the run, not over all."""
    slow_stretch = pages.Floor([0.004] * 20)
    quick_stretch = pages.Floor([0.001] * 20)
    first = pages.Measured("a page", [0.008] * 20, 1000, 2, 200, slow_stretch)
    second = pages.Measured("another", [0.008] * 20, 1000, 2, 200, quick_stretch)
    floor = pages.Measured("bare Flask, 50 rows", slow_stretch.times + quick_stretch.times, 900, None, 200)
    lines = pages.table({"pages": [first, second], "floor": floor})
    ratios = {line.split("|")[1].strip(): line.split("|")[6].strip() for line in lines[2:]}
    assert ratios == {"a page": "2.0", "another": "8.0", "bare Flask, 50 rows": "1.0"}
