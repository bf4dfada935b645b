"""A moderator accepts a whole inbox page at once (issue 11, item 4): «Выбрать все на странице» and
«Принять», with JavaScript (htmx ticks the rows) and without it (the checkbox itself goes with the form)."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from e2e.data import messages_in_moderation
from pos.db import make_engine
from pos.models import Message
from pos.workflow import Stage


def _stages(server, ids: list[int]) -> list[tuple[str, str]]:
    engine = make_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        rows = [(m.number, m.stage) for m in session.exec(select(Message).where(Message.id.in_(ids)))]
    engine.dispose()
    return rows


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_a_moderator_accepts_a_page_at_once(server, login_as, javascript):
    tag = f"Пакет-{uuid.uuid4().hex[:6]}"
    ids = messages_in_moderation(server, tag, 3)
    numbers = [number for number, _stage in _stages(server, ids)]
    page = login_as("moderator", javascript=javascript)
    page.goto(f"/staff/?q={tag}")
    expect(page.get_by_role("status").filter(has_text="Найдено")).to_have_text("Найдено: 3")
    page.get_by_label("Выбрать все на странице").check()
    if javascript:  # htmx brought the rows back ticked
        for number in numbers:
            expect(page.get_by_label(f"Выбрать {number}")).to_be_checked()
    page.get_by_role("button", name="Принять").click()
    expect(page.get_by_role("heading", name="Результат: «Принять»")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Выполнено")).to_have_text("Выполнено: 3. Не выполнено: 0.")
    for number in numbers:
        expect(page.get_by_role("link", name=number)).to_be_visible()
    assert {stage for _number, stage in _stages(server, ids)} == {Stage.COORDINATION}
    page.get_by_role("link", name="← К списку").click()
    expect(page.get_by_text("Сообщений нет.")).to_be_visible()  # accepted: no longer in moderation
