"""The directory each process keeps between requests (pos.services.reference): a change made anywhere, in
another process's transaction included, is on the next page; a change rolled back never is; and a page that
finds it kept reads none of it again."""
from __future__ import annotations

import re
import secrets

from sqlmodel import select

from pos import clock
from pos.models import Category, Organization, RoleGrant, User
from pos.services import choices, reference
from pos.workflow import Role
from tests.staff_app import staff_app  # noqa: F401
from tests.test_inbox_statements import counted


def _options(html: str, select_name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{select_name}".*?</select>', html, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select_html)


def test_a_kept_page_reads_the_token_and_not_the_directory(staff_app):
    client = staff_app.client("zhkh.curator")
    client.get("/staff/")
    with counted(staff_app.engine) as statements:
        client.get("/staff/")
    assert any("FROM reference_version" in s for s in statements)
    assert not [s for s in statements if re.search(r"FROM (category|subcategory|organization|calendar_override)\b", s)]


def test_a_change_committed_elsewhere_is_on_the_next_page(staff_app):
    client = staff_app.client("zhkh.curator")
    page = client.get("/staff/").get_data(as_text=True)
    assert "Новая категория" not in _options(page, "category_id")
    with staff_app.session() as s:  # another process's transaction: this one learns of it by the token only
        s.add(Category(name="Новая категория"))
        org = s.exec(select(Organization).where(Organization.short_name == "МинЖКХ АО")).one()
        org.short_name = "МинЖКХ Амурской области"
        s.add(org)
        s.commit()
    try:
        page = client.get("/staff/").get_data(as_text=True)
        assert "Новая категория" in _options(page, "category_id")
        assert "МинЖКХ Амурской области" in _options(page, "organization_id")
        assert "МинЖКХ Амурской области" in page.split("</header>", 1)[0]  # the header's organization
    finally:
        with staff_app.session() as s:
            org = s.exec(select(Organization).where(Organization.short_name == "МинЖКХ Амурской области")).one()
            org.short_name = "МинЖКХ АО"
            s.add(org)
            s.delete(s.exec(select(Category).where(Category.name == "Новая категория")).one())
            s.commit()


def test_a_new_executor_is_offered_at_once(staff_app):
    client = staff_app.client("zhkh.curator")
    assert "Новикова Мария Петровна" not in " ".join(_options(client.get("/staff/").get_data(as_text=True),
                                                              "executor_id"))
    org = staff_app.org("МинЖКХ АО")
    with staff_app.session() as s:
        user = User(login="novikova", full_name="Новикова Мария Петровна", position="Специалист",
                    created_at=clock.now())
        s.add(user)
        s.flush()
        s.add(RoleGrant(user_id=user.id, role=Role.EXECUTOR, organization_id=org.id))
        s.commit()
    offered = _options(client.get("/staff/").get_data(as_text=True), "executor_id")
    assert "Новикова Мария Петровна — Специалист" in offered


def test_what_a_rolled_back_change_showed_is_never_kept(staff_app):
    with staff_app.session() as s:
        s.add(Category(name="Отменённая категория"))
        s.flush()  # a new token, in this transaction only
        assert "Отменённая категория" in [name for _id, name in choices.category_options(s)]
        s.rollback()
    with staff_app.session() as s:
        assert "Отменённая категория" not in [name for _id, name in choices.category_options(s)]
    page = staff_app.client("zhkh.curator").get("/staff/").get_data(as_text=True)
    assert "Отменённая категория" not in _options(page, "category_id")


def test_a_citizen_signing_up_keeps_the_directory(staff_app):
    with staff_app.session() as s:
        before = s.exec(select(reference.ReferenceVersion.token)).one()
        s.add(User(login="citizen@example.ru", full_name="Гражданин", is_staff=False, created_at=clock.now()))
        s.commit()
        assert s.exec(select(reference.ReferenceVersion.token)).one() == before


def test_a_read_that_flushes_a_change_keeps_nothing_under_the_token_before_it(staff_app):
    key = ("names for a test", secrets.token_hex(4))
    with staff_app.session() as s:
        reference.kept(s, ("anything",), lambda: 1)  # the token is read
        s.add(Category(name="Ещё не записанная категория"))  # pending: the read below flushes it
        names = reference.kept(s, key, lambda: [c.name for c in s.exec(select(Category))])
        assert "Ещё не записанная категория" in names
        s.rollback()
    with staff_app.session() as s:  # the token is the one before the change again: nothing kept under it
        assert reference.kept(s, key, lambda: "read again") == "read again"


def test_a_savepoint_rolled_back_takes_its_token_with_it(staff_app):
    key = ("categories for a test", secrets.token_hex(4))
    read = lambda s: [c.name for c in s.exec(select(Category))]  # noqa: E731
    with staff_app.session() as s:
        reference.kept(s, ("anything",), lambda: 1)
        savepoint = s.begin_nested()
        s.add(Category(name="Категория точки сохранения"))
        s.flush()
        assert "Категория точки сохранения" in reference.kept(s, key, lambda: read(s))
        savepoint.rollback()
        assert "Категория точки сохранения" not in reference.kept(s, key, lambda: read(s))


def test_a_grant_revoked_elsewhere_is_gone_on_the_next_page(staff_app):
    """A person's grants are kept with the directory: a grant given or revoked in another transaction is on
    their very next page, and the page's first statement (the person) reads the token along."""
    client = staff_app.client("zhkh.executor")
    assert client.get("/staff/").status_code == 200
    user_id = staff_app.user("zhkh.executor").id
    with counted(staff_app.engine) as statements:
        client.get("/staff/")
    first = [s for s in statements if not s.startswith("BEGIN")][0]
    assert re.search(r'FROM "?user"?\s+WHERE', first) and "FROM reference_version" in first
    assert sum("reference_version" in s for s in statements) == 1
    with staff_app.session() as s:
        grant = s.exec(select(RoleGrant).where(RoleGrant.user_id == user_id)).one()
        kept_grant = (grant.role, grant.organization_id)
        s.add(RoleGrant(user_id=user_id, role=Role.ANALYST))
        s.delete(grant)
        s.commit()
    try:
        page = client.get("/staff/").get_data(as_text=True)
        assert "Сообщения (без персональных данных)" in page  # the analyst's list, the only role left
        assert "Исполнение: мои сообщения" not in page
    finally:
        with staff_app.session() as s:
            for row in s.exec(select(RoleGrant).where(RoleGrant.user_id == user_id)):
                s.delete(row)
            s.add(RoleGrant(user_id=user_id, role=kept_grant[0], organization_id=kept_grant[1]))
            s.commit()
    assert "Исполнение: мои сообщения" in client.get("/staff/").get_data(as_text=True)
