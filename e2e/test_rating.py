"""The monthly rating in the browser: the analyst opens last month's draft, publishes it and downloads the
XLSX; the curator of an ИОГВ then sees their place and gets the letter (issue 9, item 3).

The platform publishes a draft itself from the 15th, so the test does not depend on today's date: it walks
a month of passages through the services into the server's database (this month), then moves the clock
to the 10th of the next one, where this month is "last month" and its draft is the ticker's, unpublished.
"""
from __future__ import annotations

import io
import re
import time
from datetime import datetime, time as day_time
from zoneinfo import ZoneInfo

import openpyxl
from playwright.sync_api import expect
from sqlmodel import Session, select

from pos import clock
from pos.db import make_engine
from pos.models import Category, Organization, Subcategory, User
from pos.services import rating, rating_snapshots
from pos.services.messages import Env
from seed import rating as seeded

# The clock goes to the 10th of next month here; other tests move it months ahead (and past the 15th, where
# the platform publishes by itself), so this module runs first among them.
CLOCK_ORDER = 0

YAKUTSK = ZoneInfo("Asia/Yakutsk")
ORGS = {"zhkh": "МинЖКХ АО", "transport": "Минтранс АО", "health": "Минздрав АО"}


def walk_month(server, month) -> None:
    """The demo's rating passages (seed/rating.py) in `month`, straight in the server's database."""
    engine = make_engine(server.env["DATABASE_URL"])
    env = Env(timezone="Asia/Yakutsk", upload_dir=server.env["UPLOAD_DIR"])
    with Session(engine, expire_on_commit=False) as s:
        user = lambda login: s.exec(select(User).where(User.login == login)).one()  # noqa: E731
        applicant = None  # as the seed: no author
        for key, ((category, subcategory), coordinator, head, lateness) in seeded.BODIES.items():
            cat = s.exec(select(Category).where(Category.name == category)).one()
            sub = s.exec(select(Subcategory).where(Subcategory.category_id == cat.id,
                                                   Subcategory.name == subcategory)).one()
            org = s.exec(select(Organization).where(Organization.short_name == ORGS[key])).one()
            for i, late in enumerate(lateness):
                seeded._walk(s, env, applicant, org.id, cat.id, sub.id, user(coordinator), user(head),
                             user("moderator"), datetime.combine(month.replace(day=2 + 3 * i), day_time(10), YAKUTSK),
                             late)
    engine.dispose()


def wait_for_draft(server, month, timeout: float = 120):
    engine = make_engine(server.env["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while True:
            with Session(engine) as s:
                snapshot = rating_snapshots.get(s, month)
                if snapshot is not None:
                    return snapshot
            assert time.monotonic() < deadline, "the ticker did not compute the draft"
            time.sleep(0.5)
    finally:
        engine.dispose()


def test_the_analyst_publishes_last_month_and_a_curator_sees_the_place(server, login_as, mailbox, move_clock):
    month = clock.now().astimezone(YAKUTSK).date().replace(day=1)
    walk_month(server, month)
    move_clock(datetime.combine(rating.next_month(month).replace(day=10), day_time(10), YAKUTSK))
    assert wait_for_draft(server, month).status == "draft"
    shown = f"{month:%m.%Y}"

    page = login_as("analyst")
    page.goto("/staff/")
    page.get_by_role("link", name="Рейтинг ИОГВ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Рейтинг ИОГВ за {shown}")
    expect(page.get_by_text("Статус: черновик")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("row").filter(has_text="Министерство жилищно-коммунального")) \
        .to_have_count(1)
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.get_by_text(f"Рейтинг за {shown} опубликован")).to_be_visible()
    expect(page.get_by_text("Статус: опубликован")).to_be_visible()
    expect(page.get_by_role("button", name="Опубликовать")).to_have_count(0)
    expect(page.get_by_role("button", name="Пересчитать")).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:2] == ("ID организации", "Организация") and rows[0][-2:] == ("Статус", "Опубликован")
    [zhkh] = [r for r in rows[1:] if r[1] == "Министерство жилищно-коммунального хозяйства Амурской области"]
    placed = [r for r in rows[1:] if r[-3] is not None]
    assert len(placed) == 3 and zhkh[-3] in (1, 2, 3) and {r[-2] for r in rows[1:]} == {"published"}

    curator = login_as("zhkh.curator")
    curator.goto("/staff/")
    curator.get_by_role("link", name="Рейтинг ИОГВ").click()
    expect(curator.get_by_text(f"Место: {zhkh[-3]} из 3")).to_be_visible()
    expect(curator.get_by_role("table")).to_contain_text("Координация")
    expect(curator.get_by_text("Министерство транспорта")).to_have_count(0)
    letter = mailbox.wait_for("zhkh.curator@pos.local", subject=f"Опубликован рейтинг ИОГВ за {shown}",
                              timeout=120)  # behind the letters of the whole seed
    assert f"{zhkh[-3]}-е место из 3" in letter["text"]
    assert re.search(r"/staff/rating\?month=\d{4}-\d\d", letter["text"])
