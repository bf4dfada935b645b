"""The audit of looks at personal data: what writes a record (a card with the author, an applicant's file,
an export with authors) and what does not (an analyst's page), that the response waits for none of it,
that nothing edits or deletes a record, and the administrator's page and CSV."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, func, text, update
from sqlmodel import select

from pos import clock
from pos.models import Applicant, PdAccess
from pos.services import files
from pos.services.messages import act, submit_message
from pos.workflow import Action
from tests.staff_app import StaffApp, staff_app  # noqa: F401

HTMX_CARD = {"HX-Request": "true", "HX-Target": "card"}


def _applicant(staff_app: StaffApp, email: str) -> Applicant:
    with staff_app.session() as s:
        return s.exec(select(Applicant).where(Applicant.email == email)).one()


def _message(staff_app: StaffApp, email="citizen@example.ru", text="Во дворе не убран мусор.", accept=True,
             uploads=()):
    """A message of the seeded applicant, accepted into ЖКХ (routing's choice for the category)."""
    applicant = _applicant(staff_app, email)
    with staff_app.session() as s:
        fields = {"text": text, "applicant_id": applicant.id}
        fields["category_id"], fields["subcategory_id"] = staff_app.sub("Жилищно-коммунальное хозяйство",
                                                                         "Несвоевременный вывоз мусора")
        message = submit_message(s, staff_app.env, fields, user_id=applicant.user_id, uploads=list(uploads))
        if accept:
            act(s, staff_app.env, staff_app.user("moderator"), message.id, Action.ACCEPT, {})
        return s.get(type(message), message.id)


def _records(staff_app: StaffApp, **where) -> list[PdAccess]:
    with staff_app.session() as s:
        query = select(PdAccess).order_by(PdAccess.id)
        for name, value in where.items():
            query = query.where(getattr(PdAccess, name) == value)
        return list(s.exec(query))


def _get(client, url, **kwargs):
    """A request as a browser makes it: the response read to its end and closed (the WSGI server's close)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def test_a_coordinators_look_at_a_card_with_the_author_writes_one_record(staff_app):
    m = _message(staff_app)
    applicant = _applicant(staff_app, "citizen@example.ru")
    user = staff_app.user("zhkh.coordinator")
    before = clock.now()
    page = _get(staff_app.client("zhkh.coordinator"), f"/staff/messages/{m.id}")
    assert page.status_code == 200 and "Иванов Иван Иванович" in page.get_data(as_text=True)
    [record] = _records(staff_app, message_id=m.id)
    assert (record.user_id, record.applicant_id, record.kind) == (user.id, applicant.id, "page")
    assert before - timedelta(seconds=1) <= record.at.replace(tzinfo=before.tzinfo) <= clock.now()
    # The card again by htmx (after an action, say) shows the author again: another record. Its actions
    # alone (the buttons and a form) do not show the author: none.
    client = staff_app.client("zhkh.coordinator")
    _get(client, f"/staff/messages/{m.id}", headers=HTMX_CARD)
    _get(client, f"/staff/messages/{m.id}/act/take", headers={"HX-Request": "true", "HX-Target": "actions"})
    assert len(_records(staff_app, message_id=m.id)) == 2


def test_pages_that_show_no_author_write_nothing(staff_app):
    m = _message(staff_app, text="Не вывозят мусор третий день.")
    # The analyst opens the message (no author, no file names), a head of the organization outside the chain
    # too; a message without an applicant (the demo's, an API's without contacts) has no identity to show.
    analyst = _get(staff_app.client("analyst"), f"/staff/messages/{m.id}").get_data(as_text=True)
    assert "Иванов" not in analyst and "Автор" not in analyst
    head = _get(staff_app.client("zhkh.head1"), f"/staff/messages/{m.id}").get_data(as_text=True)
    assert "Иванов" not in head and "Автор" not in head
    anonymous = staff_app.new_message("Без автора.", steps=[("moderator", "accept", {})])
    _get(staff_app.client("zhkh.coordinator"), f"/staff/messages/{anonymous.id}")
    _get(staff_app.client("zhkh.coordinator"), "/staff/")  # the inbox shows no author
    assert _records(staff_app, message_id=m.id) == [] and _records(staff_app, message_id=anonymous.id) == []


def test_the_response_waits_for_no_statement_of_the_audit(staff_app, monkeypatch):
    """The records are written when the server closes the response, after its last byte: the request
    itself runs exactly the statements it runs without the audit, and the close runs one INSERT."""
    m = _message(staff_app, text="Подсчёт запросов.")
    client = staff_app.client("zhkh.coordinator")
    _get(client, f"/staff/messages/{m.id}")  # warm: the session, the caches
    engine = staff_app.app.extensions["pos.engine"]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(f"/staff/messages/{m.id}")
        response.get_data()
        served = list(statements)
        response.close()
        closed = statements[len(served):]
        from pos.services import pd_audit
        monkeypatch.setattr(pd_audit, "note", lambda *a, **k: None)
        statements.clear()
        _get(client, f"/staff/messages/{m.id}")
        without_audit = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(served) == len(without_audit)
    assert not any("pd_access" in s for s in served)
    assert [s.split()[0:3] for s in closed if "pd_access" in s] == [["INSERT", "INTO", "pd_access"]]
    assert len(_records(staff_app, message_id=m.id)) == 2  # the warm-up's and the counted one


def test_an_applicants_file_download_writes_a_record_and_needs_the_identity(staff_app):
    m = _message(staff_app, text="Фото свалки во вложении.",
                 uploads=[files.Upload("Иванов_фото.pdf", b"%PDF-1.4 a photo")])
    client = staff_app.client("zhkh.coordinator")
    html = _get(client, f"/staff/messages/{m.id}").get_data(as_text=True)
    link = re.search(r'href="(/staff/attachments/(\d+))">Иванов_фото.pdf</a>', html)
    download = _get(client, link.group(1))
    assert download.status_code == 200 and download.data == b"%PDF-1.4 a photo"
    [record] = _records(staff_app, kind="attachment")
    assert (record.message_id, record.attachment_id) == (m.id, int(link.group(2)))
    # Without the identity: neither the file's name nor the file.
    analyst = _get(staff_app.client("analyst"), f"/staff/messages/{m.id}").get_data(as_text=True)
    assert "Иванов_фото" not in analyst and "Файл 1" in analyst
    assert _get(staff_app.client("analyst"), link.group(1)).status_code == 403
    assert _get(staff_app.client("zhkh.head1"), link.group(1)).status_code == 403
    assert len(_records(staff_app, kind="attachment")) == 1


def test_an_export_with_authors_writes_one_record_naming_its_applicants(staff_app):
    made = [_message(staff_app, email, text=f"Выгрузка {i}.") for i, email in
            enumerate(("citizen@example.ru", "citizen2@example.ru", "company@example.ru"))]
    ids = {_applicant(staff_app, e).id for e in ("citizen@example.ru", "citizen2@example.ru", "company@example.ru")}
    before = len(_records(staff_app, kind="export"))
    response = _get(staff_app.client("zhkh.coordinator"), "/staff/export.csv?q=Выгрузка")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-6:] == ["Автор", "Организация заявителя", "E-mail", "Телефон", "ИНН", "ОГРН"]
    assert {r[0] for r in rows[1:]} == {m.number for m in made}
    assert "citizen2@example.ru" in {r[-4] for r in rows[1:]}
    exports = _records(staff_app, kind="export")
    assert len(exports) == before + 1
    record = exports[-1]
    assert record.user_id == staff_app.user("zhkh.coordinator").id and record.applicant_id is None
    assert {int(i) for i in record.applicant_ids.strip(",").split(",")} == ids
    xlsx = _get(staff_app.client("zhkh.coordinator"), "/staff/export.xlsx?q=Выгрузка")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert len(_records(staff_app, kind="export")) == before + 2
    # The analyst's export has no author columns and writes nothing.
    analyst = _get(staff_app.client("analyst"), "/staff/export.csv?q=Выгрузка").get_data(as_text=True)
    assert "Автор" not in analyst and "citizen@example.ru" not in analyst and made[0].number in analyst
    assert len(_records(staff_app, kind="export")) == before + 2


def test_nothing_edits_or_deletes_a_record(staff_app):
    m = _message(staff_app, text="Неизменная запись.")
    _get(staff_app.client("zhkh.coordinator"), f"/staff/messages/{m.id}")
    [record] = _records(staff_app, message_id=m.id)
    for statement in (update(PdAccess).where(PdAccess.id == record.id).values(user_id=record.user_id),
                      delete(PdAccess).where(PdAccess.id == record.id), delete(PdAccess)):
        with staff_app.session() as s:
            with pytest.raises(Exception, match="append-only"):
                s.exec(statement)
                s.commit()
    if staff_app.url.startswith("postgresql"):
        with staff_app.session() as s, pytest.raises(Exception, match="append-only"):
            s.exec(text("TRUNCATE pd_access CASCADE"))
    assert _records(staff_app, message_id=m.id)[0].model_dump() == record.model_dump()


def test_the_administrator_filters_pages_and_downloads_the_audit(staff_app):
    citizen, company = _message(staff_app, text="Аудит 1."), _message(staff_app, "company@example.ru",
                                                                       text="Аудит 2.")
    for login in ("zhkh.coordinator", "zhkh.curator"):
        client = staff_app.client(login)
        for m in (citizen, company):
            _get(client, f"/staff/messages/{m.id}")
    admin = staff_app.client("admin")
    assert "Доступ к персональным данным" in admin.get("/staff/").get_data(as_text=True)  # in the menu
    curator = staff_app.user("zhkh.curator")
    html = admin.get(f"/staff/admin/access?user_id={curator.id}").get_data(as_text=True)
    assert citizen.number in html and company.number in html
    assert "<td>Морозова Татьяна Евгеньевна (zhkh.curator)</td>" in html
    assert not re.search(r"<td>[^<]*\(zhkh\.coordinator\)</td>", html)
    # By applicant: the number or the e-mail.
    company_id = _applicant(staff_app, "company@example.ru").id
    for value in (str(company_id), "company@example.ru"):
        html = admin.get(f"/staff/admin/access?applicant={value}").get_data(as_text=True)
        assert company.number in html and citizen.number not in html
    unknown = admin.get("/staff/admin/access?applicant=nobody@example.ru")
    assert unknown.status_code == 400 and "Заявитель не найден" in unknown.get_data(as_text=True)
    assert citizen.number not in unknown.get_data(as_text=True)
    # By period (local days): today has them, yesterday none; a date out of range is an error, not a 500.
    today = clock.now().astimezone().date()
    assert citizen.number in admin.get(f"/staff/admin/access?date_from={today - timedelta(days=1)}"
                                       f"&date_to={today + timedelta(days=1)}").get_data(as_text=True)
    assert "Записей нет" in admin.get(f"/staff/admin/access?date_to={today - timedelta(days=3)}").get_data(as_text=True)
    assert admin.get("/staff/admin/access?date_from=9999-01-01").status_code == 400
    # Paginated, newest first; the CSV holds every record under the filters.
    with staff_app.session() as s:
        total = s.exec(select(func.count()).select_from(PdAccess)).one()
    client = staff_app.client("zhkh.coordinator")
    for _ in range(55 - total if total < 55 else 0):
        _get(client, f"/staff/messages/{citizen.id}")
    first = admin.get("/staff/admin/access").get_data(as_text=True)
    more = re.search(r'href="(/staff/admin/access\?before=\d+)">Следующая страница', first)
    assert more and first.count("<tr>") == 51  # the header and 50
    second = admin.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "В начало" in second and second.count("<tr>") >= 2
    download = _get(admin, "/staff/admin/access.csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    with staff_app.session() as s:
        assert len(rows) - 1 == s.exec(select(func.count()).select_from(PdAccess)).one()
    assert rows[0][:4] == ["Запись", "Когда (UTC)", "Сотрудник", "Что"]
    # Nobody else.
    for login in ("moderator", "zhkh.coordinator", "analyst", "zhkh.curator"):
        c = staff_app.client(login)
        assert c.get("/staff/admin/access").status_code == 403
        assert c.get("/staff/admin/access.csv").status_code == 403


def test_records_that_cannot_be_written_are_retried_once_then_logged_in_full(caplog):
    from pos.services import pd_audit

    class Down:
        attempts = 0

        def begin(self):
            Down.attempts += 1
            raise ConnectionError("database is gone")
    rows = [dict(at=clock.now(), user_id=5, kind="page", applicant_id=7, message_id=9, attachment_id=None,
                 applicant_ids="", detail="")]
    with caplog.at_level("ERROR", logger="pos.pd_access"):
        pd_audit.write(Down(), rows)
    assert Down.attempts == 2
    [logged] = [r for r in caplog.records if r.name == "pos.pd_access"]
    assert '"user_id": 5' in logged.getMessage() and '"applicant_id": 7' in logged.getMessage()
