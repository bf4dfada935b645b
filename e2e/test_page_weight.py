"""What the staff pages cost on a slow network: bytes transferred, measured by the browser (Resource Timing).

Prints the figures (run with -s to see them) and holds them under budgets.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import expect

NAVIGATION = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const sum = (list, key) => list.reduce((total, e) => total + e[key], 0);
  return {document: nav.transferSize, document_body: nav.encodedBodySize, document_decoded: nav.decodedBodySize,
          resources: sum(res, 'transferSize'), resources_decoded: sum(res, 'decodedBodySize'),
          total: nav.transferSize + sum(res, 'transferSize'), count: res.length};
}"""
LAST_XHR = """() => {
  const xhr = performance.getEntriesByType('resource').filter(e => e.initiatorType === 'xmlhttprequest');
  const last = xhr[xhr.length - 1];
  return {transfer: last.transferSize, body: last.encodedBodySize, decoded: last.decodedBodySize, url: last.name};
}"""

# Budgets for a slow municipal line (measured about 25 KB, 5 KB and 1–6 KB).
FIRST_VISIT_BUDGET = 40_000
REPEAT_VISIT_BUDGET = 12_000
PARTIAL_BUDGET = 8_000


def test_inbox_and_partial_weights(login_as):
    page = login_as("moderator")
    page.goto("/staff/")
    expect(page.get_by_role("heading", name=re.compile("^Модерация"))).to_be_visible()
    first = page.evaluate(NAVIGATION)
    page.goto("/staff/")  # the repeat visit: the stylesheet and htmx come from the browser's cache
    expect(page.get_by_role("heading", name=re.compile("^Модерация"))).to_be_visible()
    repeat = page.evaluate(NAVIGATION)

    page.get_by_role("search", name="Фильтры").get_by_label("Срок", exact=True).select_option(label="просрочено")
    expect(page).to_have_url(re.compile("deadline=overdue"))
    rows = page.evaluate(LAST_XHR)

    page.goto(f"/staff/?q={quote('провал асфальта')}")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("region", name="Действия").get_by_role("button", name="Изменить категорию", exact=True).click()
    form = page.get_by_role("form", name="Изменить категорию и подкатегорию", exact=True)
    form.get_by_label("Подкатегория", exact=True).select_option(label="Отсутствие дорожной разметки или знаков")
    form.get_by_role("button", name="Изменить категорию", exact=True).click()
    expect(page.get_by_text("Выполнено: «Изменить категорию».")).to_be_visible()
    action = page.evaluate(LAST_XHR)

    print(f"\ninbox first visit: {first['total']} B transferred ({first['count']} resources; document "
          f"{first['document']} B, body {first['document_body']} B gzip of {first['document_decoded']} B; "
          f"static {first['resources']} B of {first['resources_decoded']} B)")
    print(f"inbox repeat visit: {repeat['total']} B transferred (document {repeat['document']} B, "
          f"static {repeat['resources']} B)")
    print(f"inbox rows partial (filter): {rows['transfer']} B transferred, body {rows['body']} B "
          f"gzip of {rows['decoded']} B")
    print(f"action partial (card after «Изменить категорию»): {action['transfer']} B transferred, "
          f"body {action['body']} B gzip of {action['decoded']} B")

    assert first["document_body"] < first["document_decoded"] / 3  # gzip is on
    assert first["total"] < FIRST_VISIT_BUDGET
    assert repeat["resources"] == 0 and repeat["total"] < REPEAT_VISIT_BUDGET
    assert 0 < rows["transfer"] < PARTIAL_BUDGET
    assert 0 < action["transfer"] < PARTIAL_BUDGET
