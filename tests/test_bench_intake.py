"""`python -m bench intake` end to end at a tiny size: a generated database on SQLite, gunicorn serving the
platform and the bare POST app, every POST answered and its message checked. Behaviour, not speed."""
from __future__ import annotations

import re

from bench import intake
from tests.web_redis import web_redis_url


def test_the_harness_posts_from_threads_and_checks_every_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_SQLITE_DIR", str(tmp_path))
    monkeypatch.setenv("BENCH_REDIS_URL", web_redis_url())
    assert intake.main(["--databases", "sqlite", "--requests", "40", "--threads", "3", "--messages", "300"]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"\d+", cells[1]):
            rows[cells[0]] = cells
    assert list(rows) == ["Open311 POST requests", "bare Flask POST"]
    _, rate, p50, p95, sql, cpu, ratio, _ = rows["Open311 POST requests"]
    assert int(rate) > 0 and 0 < float(p50) <= float(p95) and int(sql) > 0
    web, database, client = cpu.split(" / ")
    assert float(web) > 0 and database == "—" and float(client) > 0  # SQLite: inside the web workers
    assert rows["bare Flask POST"][4] == "—" and rows["bare Flask POST"][6] == "1.0"
    assert "checked: 40 messages, each with its own number" in out
    assert "sqlite: Open311 intake, 40 POSTs from 3 threads" in out and "load average" in out


def test_the_requests_vary_and_carry_what_the_api_needs():
    forms = [intake.form(i, "key", ["11", "12"]) for i in range(6)]
    assert all(f["api_key"] == "key" and f["service_code"] in ("11", "12") and f["description"] for f in forms)
    assert all(bool(f.get("address_string")) != bool(f.get("lat") and f.get("long")) for f in forms)
    assert sum("email" in f for f in forms) == 3
