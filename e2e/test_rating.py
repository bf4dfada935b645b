"""The monthly rating in the browser: the analyst opens last month's draft, publishes it and downloads the
XLSX; the curator of an ИОГВ then sees their place and gets the letter (issue 9, item 3)."""
from __future__ import annotations

import io
import re

import openpyxl
from playwright.sync_api import expect


def test_the_analyst_publishes_last_month_and_a_curator_sees_the_place(login_as, mailbox):
    page = login_as("analyst")
    page.goto("/staff/")
    page.get_by_role("link", name="Рейтинг ИОГВ").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Рейтинг ИОГВ за")
    month = re.search(r"\d\d\.\d{4}", heading.inner_text()).group(0)
    expect(page.get_by_text("Статус: черновик")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("row").filter(has_text="Министерство жилищно-коммунального")) \
        .to_have_count(1)
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.get_by_text(f"Рейтинг за {month} опубликован")).to_be_visible()
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
    letter = mailbox.wait_for("zhkh.curator@pos.local", subject=f"Опубликован рейтинг ИОГВ за {month}",
                              timeout=120)  # behind the letters of the whole seed
    assert f"{zhkh[-3]}-е место из 3" in letter["text"]
