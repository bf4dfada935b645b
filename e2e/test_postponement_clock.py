"""A postponed message comes back to its executor on its date: the test moves the platform's clock
through configuration (the clock file the web app and the worker read), never waits for the calendar.

It moves the clock of the server every e2e test shares, so it takes `move_clock`: it runs after all
the others and real time comes back afterwards whatever happens.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, time as day_time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from rq.registry import FinishedJobRegistry

from e2e.test_applicant_journeys import CITIZEN_EMAIL, reload_until
from pos import queue

TEXT = "Просим заасфальтировать двор дома ул. Театральная, 20."  # seeded postponed, `citizen`'s, zhkh.executor2's
YAKUTSK = ZoneInfo("Asia/Yakutsk")  # the installation's time zone: the date comes at local midnight


def postponements_checked_since(server, moment: float, timeout: float = 60) -> None:
    """Wait until the worker has finished a postponement run enqueued after `moment` (wall time), that is
    one that read the clock as it is now."""
    url = queue.redis_url({"REDIS_URL": server.env.get("REDIS_URL", ""),
                           "REDISLITE_PATH": server.env["REDISLITE_PATH"]})
    namespace = server.env["POS_QUEUE_NAMESPACE"]
    finished = FinishedJobRegistry(f"{namespace}-default", connection=queue.connect(url))
    prefix = f"{namespace}-postponed-"  # + the second it was enqueued in (jobs/ticker.py)
    deadline = time.monotonic() + timeout
    while not any(job_id.startswith(prefix) and int(job_id[len(prefix):]) > moment
                  for job_id in finished.get_job_ids()):
        assert time.monotonic() < deadline, f"no postponement run finished within {timeout} s"
        time.sleep(0.2)


def inbox_row(page: Page, number: str):
    page.goto("/staff/")
    expect(page.get_by_role("heading", name="Исполнение: мои сообщения")).to_be_visible()
    return page.get_by_role("table").get_by_role("row").filter(has_text=number)


def test_postponed_message_returns_to_the_executor_when_its_date_comes(server, login_as, mailbox, move_clock):
    curator = login_as("zhkh.curator")
    curator.goto(f"/staff/?stage=postponed&q={quote(TEXT)}")
    row = curator.get_by_role("table").get_by_role("row").filter(has_text=TEXT)
    expect(row).to_have_count(1)
    number = row.get_by_role("link").inner_text().strip()
    until = datetime.strptime(re.search(r"Отложено до (\d\d\.\d\d\.\d{4})", row.inner_text()).group(1),
                              "%d.%m.%Y").date()
    assert until > datetime.now(YAKUTSK).date() + timedelta(days=30)

    executor = login_as("zhkh.executor2")
    expect(inbox_row(executor, number)).to_have_count(0)

    # The eve of the date, half an hour before local midnight: still postponed after the worker looked.
    move_clock(datetime.combine(until - timedelta(days=1), day_time(23, 30), YAKUTSK))
    postponements_checked_since(server, time.time())
    expect(inbox_row(executor, number)).to_have_count(0)

    # 08:00 on the date in Blagoveshchensk, still the eve in UTC: the local date is what counts.
    started = time.monotonic()
    move_clock(datetime.combine(until, day_time(8, 0), YAKUTSK))
    row = executor.get_by_role("table").get_by_role("row").filter(has_text=number)
    reload_until(executor, "/staff/", row)
    assert time.monotonic() - started < 60  # a sweep a second; the bound only absorbs a loaded machine
    cells = row.get_by_role("cell")
    expect(cells.nth(3)).to_have_text("Исполнение")  # Этап
    expect(cells.nth(4)).to_have_text("Никитина Анна Павловна")  # Ожидает: the executor herself
    row.get_by_role("link", name=number).click()
    expect(executor.get_by_role("region", name="История")).to_contain_text("Возвращено в исполнение по наступлении даты")
    expect(executor.get_by_role("form", name="Ответ на сообщение", exact=True)).to_be_visible()
    # A new answer period from the return (clause 3.9), not the deadline counted from the arrival.
    new_due = f"{until + timedelta(days=30):%d.%m.%Y}"
    expect(executor.locator("dl.props").first).to_contain_text(f"Срок ответа{new_due}")
    expect(executor.get_by_role("region", name="История")).to_contain_text("со дня возврата (п. 3.9)")

    notice = executor.get_by_role("link", name=f"Вернулось на исполнение: сообщение № {number} (Исполнение)")
    reload_until(executor, "/staff/notifications", notice)

    citizen = login_as("citizen")
    title = citizen.get_by_role("heading", name=f"Сообщение № {number} снова на исполнении")
    reload_until(citizen, "/my/notifications", title)
    expect(citizen.get_by_role("listitem").filter(has=title)).to_contain_text(
        "Наступила дата, до которой было отложено рассмотрение вашего сообщения")
    letter = mailbox.wait_for(CITIZEN_EMAIL, subject=f"Сообщение № {number} снова на исполнении")
    assert number in letter["text"] and "возвращено на исполнение" in letter["text"]
    assert f"Ответ будет дан не позднее {new_due}" in letter["text"]
