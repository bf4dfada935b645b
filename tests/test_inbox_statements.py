"""An inbox page costs the same number of statements for 5 rows as for 50, in every role, as a page and as
the htmx partial, with filters, a search and a deep page: no lookups per row."""
from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from pos import clock
from pos.models import Category, Message, User
from tests.staff_app import StaffApp

ROWS = {"HX-Request": "true", "HX-Target": "rows"}
# (login, query string): each role's inbox, some with filters, a search or all stages.
PAGES = [
    ("moderator", ""),
    ("zhkh.coordinator", ""),
    ("zhkh.executor", ""),
    ("zhkh.minister", ""),
    ("zhkh.curator", ""),
    ("zhkh.curator", "stage=all"),
    ("zhkh.curator", "stage=execution&category_id={category}&deadline=overdue"),
    ("zhkh.curator", "q=подъезд"),
    ("analyst", "stage=all&category_id={category}"),
    ("analyst", "q=подъездах"),
]


@pytest.fixture(scope="module")
def staff_app():
    return StaffApp("inbox_statements")


@contextmanager
def counted(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _copies(staff_app: StaffApp, per_stage: int) -> int:
    """Messages in every stage the roles above wait on, with assignees and categories that vary by row
    (a per-row lookup, cached or not, would show as more statements)."""
    with staff_app.session() as s:
        models = {m.stage: m for m in s.exec(select(Message)).all()}
        users = [u.id for u in s.exec(select(User).where(User.is_staff)).all()]
        categories = [c.id for c in s.exec(select(Category)).all()]
        cycle = itertools.count()
        for stage, model in models.items():
            have = len(s.exec(select(Message.id).where(Message.stage == stage)).all())
            for _ in range(max(0, per_stage - have)):
                i = next(cycle)
                fields = model.model_dump(exclude={"id", "number", "api_token", "form_token", "version"})
                fields.update(text=f"{model.text} В подъездах грязно, копия {i}.",
                              category_id=categories[i % len(categories)])
                if stage == "execution":  # the curator's filters: this category, overdue
                    fields.update(category_id=model.category_id,
                                  stage_due_at=clock.now() - timedelta(days=1, minutes=i))
                if stage not in ("moderation", "coordination", "agreement", "approval"):  # heads: their turn
                    fields["assignee_id"] = model.assignee_id if i % 2 else users[i % len(users)]
                copy = Message(**fields)
                s.add(copy)
                s.flush()
                copy.number = f"ПОС-{copy.received_at.year}-{copy.id:06d}"
        s.commit()
        return models["execution"].category_id


def _count(staff_app, clients, login, query, headers=None) -> tuple[int, int, str]:
    with counted(staff_app.engine) as statements:
        response = clients[login].get(f"/staff/?{query}", headers=headers or {})
    assert response.status_code == 200, (login, query, response.status_code)
    html = response.get_data(as_text=True)
    return len(statements), len(re.findall(r'href="/staff/messages/\d+', html)), "\n".join(statements)


def test_a_page_costs_the_same_statements_for_5_and_for_50_rows(staff_app):
    minister = staff_app.user("zhkh.minister").id
    executor = staff_app.user("zhkh.executor").id
    staff_app.new_message("Грязно в подъезде", steps=[("moderator", "accept", {})])
    staff_app.new_message("Грязно в подъезде", steps=[
        ("moderator", "accept", {}), ("zhkh.coordinator", "assign_executor", {"executor_id": executor})])
    staff_app.new_message("Грязно в подъезде", steps=[
        ("moderator", "accept", {}), ("zhkh.coordinator", "assign_executor", {"executor_id": executor}),
        ("zhkh.executor", "prepare_answer", dict(result="resolved", answer_text="Убрано.", executor_position="С",
                                                 executor_name="В. С. Н.", approver_id=minister))])
    category = _copies(staff_app, 5)
    pages = [(login, query.format(category=category)) for login, query in PAGES]
    clients = {login: staff_app.client(login) for login, _ in pages}
    for client in clients.values():  # the first request after signing in also renews the session
        client.get("/staff/")
    for login, query in pages:  # and the first of a page reads the directory this process then keeps
        for headers in (None, ROWS):
            clients[login].get(f"/staff/?{query}", headers=headers or {})
    few = {(login, query, h): _count(staff_app, clients, login, query, headers)
           for login, query in pages for h, headers in (("page", None), ("rows", ROWS))}
    _copies(staff_app, 60)
    for (login, query, h), (statements, rows, listing) in few.items():
        headers = ROWS if h == "rows" else None
        more, more_rows, more_listing = _count(staff_app, clients, login, query, headers)
        assert rows >= 1 and more_rows == 50 and more_rows > rows, (login, query, rows, more_rows)
        # Never more for more rows (fewer, where the first half alone now fills the page).
        assert more <= statements, f"{login} {query} {h}: {statements} → {more}\n{listing}\n=====\n{more_listing}"
        # Small and fixed: the person with the directory's token, then the page with its count; a search on
        # PostgreSQL first asks whether the words are rare (inbox._rare); SQLite's BEGIN IMMEDIATE is one too;
        # a page of every stage whose messages in work end within it reads the finished ones after them.
        expected = 2 + ("q=" in query and staff_app.engine.dialect.name == "postgresql") \
            + (staff_app.engine.dialect.name == "sqlite")
        both_halves = "stage=all" in query
        assert expected <= statements <= expected + both_halves, f"{login} {query} {h}: {statements}\n{listing}"
        assert expected <= more <= expected + both_halves, f"{login} {query} {h}: {more}\n{more_listing}"


def test_a_deep_page_costs_the_same_as_the_first(staff_app):
    client = staff_app.client("analyst")
    client.get("/staff/")
    client.get("/staff/?stage=all", headers=ROWS)  # reads the directory this process then keeps
    with counted(staff_app.engine) as first:
        html = client.get("/staff/?stage=all", headers=ROWS).get_data(as_text=True)
    after = re.search(r'href="/staff/\?after=([^"&]+)', html)
    assert after, "no next page"
    with counted(staff_app.engine) as second:
        response = client.get(f"/staff/?stage=all&after={after.group(1)}", headers=ROWS)
    # No more than the first (one fewer when none of its rows waits for a person: no names to read).
    assert response.status_code == 200
    assert len(second) <= len(first), "\n".join(first) + "\n=====\n" + "\n".join(second)


def test_a_message_page_costs_the_same_for_a_short_and_a_long_history(staff_app):
    """The card's statements are fixed: the person, the message with what they may see of it, its chain, its
    history with the names of everyone in it (one statement however many), its author, its files."""
    minister = staff_app.user("zhkh.minister").id
    executor = staff_app.user("zhkh.executor").id
    short = staff_app.new_message("Течёт крыша", steps=[("moderator", "accept", {})])
    long = staff_app.new_message("Течёт крыша", steps=[
        ("moderator", "accept", {}), ("zhkh.coordinator", "assign_executor", {"executor_id": executor}),
        ("zhkh.executor", "prepare_answer", dict(result="resolved", answer_text="Починено.", executor_position="С",
                                                 executor_name="В. С. Н.", approver_id=minister))])
    client = staff_app.client("zhkh.curator")
    counts = {}
    for name, message_id in (("short", short.id), ("long", long.id)):
        client.get(f"/staff/messages/{message_id}")  # the first of a page reads the directory this process keeps
        with counted(staff_app.engine) as statements:
            page = client.get(f"/staff/messages/{message_id}")
        assert page.status_code == 200 and "Течёт крыша" in page.get_data(as_text=True)
        counts[name] = [s for s in statements if not s.startswith("BEGIN")]
    assert len(counts["long"]) == len(counts["short"]), \
        "\n".join(counts["long"]) + "\n=====\n" + "\n".join(counts["short"])
    assert len(counts["long"]) <= 7, "\n".join(counts["long"])
