"""Staff views: pages and fragments, actions with and without htmx, errors, conflicts, permissions."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from pos.workflow import Action, Stage
from tests.staff_app import StaffApp, staff_app, version_of  # noqa: F401

HTMX_CARD = {"HX-Request": "true", "HX-Target": "card"}
ANSWER_FIELDS = ("result", "answer_text", "executor_position", "executor_name", "approver_id")


def _accepted(staff_app: StaffApp, text: str = "Во дворе не убран мусор."):
    return staff_app.new_message(text, steps=[("moderator", "accept", {})])


def _in_execution(staff_app: StaffApp, text: str = "Нет горячей воды.", executor: str = "zhkh.executor"):
    return staff_app.new_message(text, steps=[
        ("moderator", "accept", {}),
        ("zhkh.coordinator", "assign_executor", {"executor_id": staff_app.user(executor).id})])


def _in_agreement(staff_app: StaffApp, agreeing=("zhkh.head1", "zhkh.head2")):
    m = _in_execution(staff_app, "Течёт крыша.")
    executor, minister = staff_app.user("zhkh.executor"), staff_app.user("zhkh.minister").id
    heads = [staff_app.user(h).id for h in agreeing]
    with staff_app.session() as s:
        from pos.services.messages import act
        act(s, staff_app.env, executor, m.id, Action.PREPARE_ANSWER, dict(
            result="resolved", answer_text="Кровля отремонтирована.", executor_position="Специалист",
            executor_name="Волков С. Н.", approver_id=minister, agreeing_ids=heads))
    return staff_app.message(m.id)


# --- pages and fragments ---------------------------------------------------------

def test_inbox_is_a_full_page_for_a_normal_and_a_boosted_request(staff_app):
    client = staff_app.client("moderator")
    for headers in ({}, {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "rows"}):
        response = client.get("/staff/", headers=headers)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith("<!doctype html>")
        assert 'id="rows"' in html and "Фильтры" in html
        assert "HX-Request" in response.headers["Vary"]


def test_targeted_htmx_request_gets_only_the_rows(staff_app):
    response = staff_app.client("moderator").get("/staff/?deadline=overdue",
                                                 headers={"HX-Request": "true", "HX-Target": "rows"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="rows">')
    assert "<html" not in html and "Фильтры" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_message_page_and_card_fragment(staff_app):
    m = _accepted(staff_app)
    client = staff_app.client("zhkh.coordinator")
    page = client.get(f"/staff/messages/{m.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<!doctype html>" in html and f"Сообщение {m.number}" in html
    for label in ("Назначить исполнителя", "Взять в работу", "Перенаправить", "Направить на согласование и утверждение"):
        assert f">{label}</button>" in html
    assert ">Вернуть</button>" not in html  # nobody passed it on
    assert ">Принять</button>" not in html  # the moderator's
    # The form opened, and posted by htmx at the card: the card comes back, only the card.
    html = client.get(f"/staff/messages/{m.id}/act/take").get_data(as_text=True)
    response = client.post(f"/staff/messages/{m.id}/take", data={"take-version": version_of(html, "take")},
                           headers=HTMX_CARD)
    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert card.lstrip().startswith('<div id="card">') and "<html" not in card
    assert "Выполнено: «Взять в работу»." in card
    assert "HX-Request" in response.headers["Vary"]
    assert staff_app.message(m.id).stage == Stage.EXECUTION


def test_action_without_javascript_redirects_303_to_the_message(staff_app):
    m = staff_app.new_message("Не вывозят мусор на ул. Мира.")
    client = staff_app.client("moderator")
    html = client.get(f"/staff/messages/{m.id}/act/reject?back=/staff/%3Fq%3D1").get_data(as_text=True)
    response = client.post(f"/staff/messages/{m.id}/reject?back=/staff/%3Fq%3D1",
                           data={"reject-version": version_of(html, "reject"), "reject-reason": "г"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/staff/messages/{m.id}")
    assert "back=" in response.headers["Location"]
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Выполнено: «Отклонить»." in after and "Отклонено модератором" in after
    message = staff_app.message(m.id)
    assert (message.stage, message.rejection_reason) == (Stage.REJECTED, "г")


def test_a_role_that_may_not_act_gets_403(staff_app):
    m = _accepted(staff_app, "Сообщение на координации.")
    # The executor of the same organization sees the message but may not coordinate it.
    response = staff_app.client("zhkh.executor").post(f"/staff/messages/{m.id}/take",
                                                      data={"take-version": str(m.version)})
    assert response.status_code == 403
    assert "нет права" in response.get_data(as_text=True)
    assert staff_app.message(m.id).stage == Stage.COORDINATION
    # A message still in moderation never reached the organization: its executor cannot even open it.
    waiting = staff_app.new_message("Сообщение на модерации.")
    assert staff_app.client("zhkh.executor").get(f"/staff/messages/{waiting.id}").status_code == 404


def test_another_organizations_message_is_not_found(staff_app):
    m = _accepted(staff_app)
    client = staff_app.client("transport.coordinator")
    assert client.get(f"/staff/messages/{m.id}").status_code == 404
    assert client.post(f"/staff/messages/{m.id}/take", data={"take-version": "2"}).status_code == 404
    assert f">{m.number}</a>" not in client.get(f"/staff/?q={m.number}").get_data(as_text=True)
    assert f">{m.number}</a>" in staff_app.client("zhkh.coordinator").get(f"/staff/?q={m.number}").get_data(as_text=True)


def test_missing_csrf_token_is_400(staff_app):
    app = StaffApp("csrf", WTF_CSRF_ENABLED=True)
    client = app.client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"login": "moderator", "password": "demo", "csrf_token": token}).status_code == 303
    m = app.new_message("Проверка защиты формы.")
    html = client.get(f"/staff/messages/{m.id}/act/reject").get_data(as_text=True)
    response = client.post(f"/staff/messages/{m.id}/reject",
                           data={"reject-version": version_of(html, "reject"), "reject-reason": "б"})
    assert response.status_code == 400
    assert app.message(m.id).stage == Stage.MODERATION
    # The token in the form (or the htmx header) lets the same request through.
    token = re.search(r'name="reject-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/staff/messages/{m.id}/reject", headers={"X-CSRFToken": token, **HTMX_CARD},
                           data={"reject-version": version_of(html, "reject"), "reject-reason": "б"})
    assert response.status_code == 200
    assert app.message(m.id).stage == Stage.REJECTED


# --- bad input ---------------------------------------------------------------------

def test_reject_without_a_reason_shows_the_error_next_to_the_field(staff_app):
    m = staff_app.new_message("Без причины.")
    client = staff_app.client("moderator")
    html = client.get(f"/staff/messages/{m.id}/act/reject").get_data(as_text=True)
    response = client.post(f"/staff/messages/{m.id}/reject", headers=HTMX_CARD,
                           data={"reject-version": version_of(html, "reject"), "reject-comment": "мой комментарий"})
    assert response.status_code == 422
    card = response.get_data(as_text=True)
    assert '<p class="error" id="reject-reason-error">Выберите причину отклонения.</p>' in card
    assert "мой комментарий" in card  # what was typed stays
    assert staff_app.message(m.id).stage == Stage.MODERATION


def test_answer_form_errors_in_russian_without_javascript(staff_app):
    m = _in_execution(staff_app)
    client = staff_app.client("zhkh.executor")
    html = client.get(f"/staff/messages/{m.id}").get_data(as_text=True)
    assert 'value="Главный специалист отдела ЖКХ"' in html  # position prefilled from the profile
    assert 'value="Волков Сергей Николаевич"' in html
    response = client.post(f"/staff/messages/{m.id}/prepare_answer", data={
        "prepare_answer-version": version_of(html, "prepare_answer"), "prepare_answer-result": "postponed",
        "prepare_answer-answer_text": "Работы запланированы.", "prepare_answer-executor_position": "Специалист",
        "prepare_answer-executor_name": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<!doctype html>" in page
    assert "Укажите фамилию, имя, отчество исполнителя." in page
    assert "Укажите дату, до которой отложено рассмотрение." in page
    assert "Выберите утверждающего руководителя." in page
    assert "Работы запланированы." in page


def test_workflow_refusal_lands_next_to_its_field(staff_app):
    m = _in_execution(staff_app)
    client = staff_app.client("zhkh.executor")
    html = client.get(f"/staff/messages/{m.id}").get_data(as_text=True)
    minister = staff_app.user("zhkh.minister").id
    response = client.post(f"/staff/messages/{m.id}/prepare_answer", headers=HTMX_CARD, data={
        "prepare_answer-version": version_of(html, "prepare_answer"), "prepare_answer-result": "resolved",
        "prepare_answer-answer_text": "Готово.", "prepare_answer-executor_position": "Специалист",
        "prepare_answer-executor_name": "Волков", "prepare_answer-approver_id": str(minister),
        "prepare_answer-agreeing-0": str(minister)})
    assert response.status_code == 422
    assert "Утверждающий руководитель не может быть в списке согласующих." in response.get_data(as_text=True)


def test_template_fills_an_empty_answer_and_has_an_htmx_endpoint(staff_app):
    m = _in_execution(staff_app)
    client = staff_app.client("zhkh.executor")
    html = client.get(f"/staff/messages/{m.id}").get_data(as_text=True)
    template_id = re.search(r'<option value="(\d+)">Передано в управляющую организацию</option>', html).group(1)
    fragment = client.get(f"/staff/messages/{m.id}/template?action=prepare_answer"
                          f"&prepare_answer-template_id={template_id}", headers={"HX-Request": "true"})
    assert "Информация передана в управляющую организацию" in fragment.get_data(as_text=True)
    response = client.post(f"/staff/messages/{m.id}/prepare_answer", data={
        "prepare_answer-version": version_of(html, "prepare_answer"), "prepare_answer-result": "resolved",
        "prepare_answer-template_id": template_id, "prepare_answer-answer_text": "",
        "prepare_answer-executor_position": "Специалист", "prepare_answer-executor_name": "Волков",
        "prepare_answer-approver_id": str(staff_app.user("zhkh.minister").id),
        "prepare_answer-files": (io.BytesIO(b"%PDF-1.4 test document"), "акт.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    message = staff_app.message(m.id)
    assert message.stage == Stage.APPROVAL
    assert message.answer_text.startswith("Уважаемый заявитель! Информация передана")
    page = client.get(f"/staff/messages/{m.id}").get_data(as_text=True)
    link = re.search(r'href="(/staff/attachments/\d+)">акт.pdf</a>', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test document"
    assert "private" in download.headers["Cache-Control"]
    # Analysts see no personal data: neither the author nor the files, not even their names (they often carry
    # people's names); others don't see the message at all.
    analyst_page = staff_app.client("analyst").get(f"/staff/messages/{m.id}").get_data(as_text=True)
    assert "акт.pdf" not in analyst_page and link not in analyst_page and "Автор" not in analyst_page
    assert "Файл 1" in analyst_page
    assert staff_app.client("analyst").get(link).status_code == 403
    assert staff_app.client("transport.coordinator").get(link).status_code == 404


# --- conflicts -------------------------------------------------------------------------

def test_stale_version_shows_who_did_what_and_keeps_the_typed_text(staff_app):
    m = _in_agreement(staff_app, agreeing=("zhkh.head1",))
    head1 = staff_app.client("zhkh.head1")
    stale = head1.get(f"/staff/messages/{m.id}/act/agree").get_data(as_text=True)
    # Meanwhile head1 hands the place to head3 in another tab, and head3 agrees.
    fresh = head1.get(f"/staff/messages/{m.id}/act/delegate_agreement").get_data(as_text=True)
    assert head1.post(f"/staff/messages/{m.id}/delegate_agreement", data={
        "delegate_agreement-version": version_of(fresh, "delegate_agreement"),
        "delegate_agreement-head_id": str(staff_app.user("zhkh.head3").id)}).status_code == 303
    head3 = staff_app.client("zhkh.head3")
    page3 = head3.get(f"/staff/messages/{m.id}/act/agree").get_data(as_text=True)
    assert head3.post(f"/staff/messages/{m.id}/agree", data={"agree-version": version_of(page3, "agree")},
                      ).status_code == 303
    response = head1.post(f"/staff/messages/{m.id}/agree", headers=HTMX_CARD, data={
        "agree-version": version_of(stale, "agree"), "agree-answer_text": "Мой исправленный текст ответа."})
    assert response.status_code == 409
    card = response.get_data(as_text=True)
    assert "сообщение изменилось: «Согласовано» — Соколов Дмитрий Юрьевич, " in card
    assert "выполнил(а)" not in card
    assert "Мой исправленный текст ответа." in card  # kept, though the action is gone
    assert ">Согласовать</button>" not in card
    assert staff_app.message(m.id).stage == Stage.APPROVAL


# --- every role's inbox, and no 500 anywhere ----------------------------------------------

@pytest.mark.parametrize("login", ["moderator", "zhkh.coordinator", "zhkh.executor", "zhkh.head2", "zhkh.minister",
                                   "zhkh.curator", "transport.coordinator", "tynda.head", "analyst", "admin"])
def test_every_page_a_role_reaches_renders(staff_app, login):
    client = staff_app.client(login)
    inbox = client.get("/staff/")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    for message_id in sorted(set(re.findall(r"/staff/messages/(\d+)", html))):
        page = client.get(f"/staff/messages/{message_id}")
        assert page.status_code == 200, (login, message_id)
    assert client.get("/staff/notifications").status_code == 200
    for query in ("stage=all", "stage=answered", "deadline=soon", "date_from=2020-01-01&date_to=2030-01-01",
                  "after=garbage", "before=%%%", "repeated=y", "accelerated=y", "q=ПОС-"):
        assert client.get(f"/staff/?{query}").status_code == 200, query
    for query in ("date_from=not-a-date", "category_id=x"):  # refused on the field, the list without it
        assert client.get(f"/staff/?{query}").status_code == 400, query


def test_inboxes_hold_what_waits_for_the_person(staff_app):
    def numbers(login, query=""):
        html = staff_app.client(login).get(f"/staff/{query}").get_data(as_text=True)
        return set(re.findall(r">(ПОС-\d{4}-\d{6})</a>", html))

    with staff_app.session() as s:
        from sqlmodel import select
        from pos.models import Message
        messages = {m.number: m for m in s.exec(select(Message))}
    zhkh = staff_app.org("МинЖКХ АО").id
    minister = staff_app.user("zhkh.minister").id
    assert numbers("moderator") and all(messages[n].stage == Stage.MODERATION for n in numbers("moderator"))
    assert all(messages[n].stage == Stage.COORDINATION and messages[n].organization_id == zhkh
               for n in numbers("zhkh.coordinator"))
    assert all(messages[n].assignee_id == minister for n in numbers("zhkh.minister"))
    curated = numbers("zhkh.curator", "?stage=all")
    assert curated and all(messages[n].organization_id == zhkh for n in curated)
    overdue = numbers("zhkh.curator", "?deadline=overdue")
    assert overdue and overdue < curated


def test_tynda_heads_may_not_delegate(staff_app):
    client = staff_app.client("tynda.head")
    html = client.get("/staff/").get_data(as_text=True)
    message_id = re.search(r"/staff/messages/(\d+)", html).group(1)
    page = client.get(f"/staff/messages/{message_id}").get_data(as_text=True)
    assert ">Утвердить</button>" in page and ">Отклонить</button>" in page
    assert "Передать право" not in page


def test_pages_are_gzipped_and_static_is_cached_long(staff_app):
    client = staff_app.client("moderator")
    response = client.get("/staff/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    import gzip
    assert "Модерация" in gzip.decompress(response.data).decode()
    html = client.get("/staff/").get_data(as_text=True)
    css = re.search(r'href="(/static/pos.css\?v=\w+)"', html).group(1)
    static = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert static.headers["Content-Encoding"] == "gzip"
    assert "max-age=31536000" in static.headers["Cache-Control"]
    assert client.get(css).headers.get("Content-Encoding") is None


def test_administrator_sees_failed_deliveries_and_sends_them_again(staff_app):
    from pos import clock
    from pos.models import OutboxEvent
    with staff_app.session() as s:
        row = OutboxEvent(created_at=clock.now(), kind="notify", payload={"event": "answered", "message_id": 1},
                          idempotency_key="views-failed-1", status="failed", attempts=5,
                          last_error="SMTPServerDisconnected: сервер недоступен")
        s.add(row)
        s.commit()
        row_id = row.id
    assert staff_app.client("moderator").get("/staff/outbox").status_code == 403
    admin = staff_app.client("admin")
    page = admin.get("/staff/outbox").get_data(as_text=True)
    assert "SMTPServerDisconnected: сервер недоступен" in page
    assert f'aria-label="Отправить повторно событие {row_id}"' in page
    response = admin.post(f"/staff/outbox/{row_id}/retry")
    assert response.status_code == 303
    with staff_app.session() as s:
        assert s.get(OutboxEvent, row_id).status in ("pending", "sent", "running", "done")
    again = admin.get("/staff/outbox").get_data(as_text=True)
    assert f"Событие {row_id} поставлено в очередь повторно." in again
    assert "SMTPServerDisconnected" not in again
    assert admin.post("/staff/outbox/999999/retry").status_code == 404


def test_notifications_list_the_signed_in_persons_own_and_mark_them_read(staff_app):
    from pos import clock
    from pos.models import Notification
    mine, theirs = staff_app.user("zhkh.head1").id, staff_app.user("zhkh.head2").id
    with staff_app.session() as s:
        for user_id, title in ((mine, "Поступило на согласование: ПОС-1"), (theirs, "Чужое уведомление")):
            s.add(Notification(user_id=user_id, kind="inbox", title=title, created_at=clock.now(),
                               idempotency_key=f"views-note-{user_id}"))
        s.commit()
    client = staff_app.client("zhkh.head1")
    page = client.get("/staff/notifications").get_data(as_text=True)
    assert "Поступило на согласование: ПОС-1" in page and "Чужое уведомление" not in page
    assert "новое" in page
    assert client.post("/staff/notifications/read").status_code == 303
    assert "новое" not in client.get("/staff/notifications").get_data(as_text=True)


def test_a_person_with_two_roles_switches_inboxes_without_signing_in_again(staff_app):
    client = staff_app.client("education.coordinator")
    assert "<h1>Координация</h1>" in client.get("/staff/").get_data(as_text=True)
    education = staff_app.org("Минобрнауки АО").id
    assert client.post("/role", data={"role": f"executor:{education}"}).status_code == 303
    assert "<h1>Исполнение: мои сообщения</h1>" in client.get("/staff/").get_data(as_text=True)


# --- the card: actions as buttons, one form at a time; htmx never nests a page (issue 8) -----------------------

COORDINATOR_ACTIONS = ("Назначить исполнителя", "Взять в работу", "Направить на согласование и утверждение",
                       "Перенаправить")


def _forms_on(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="/staff/messages/\d+/(\w+)', html)


def test_coordinators_page_offers_buttons_not_four_forms_and_one_chain_block(staff_app):
    m = _accepted(staff_app, "Кнопки вместо четырёх форм.")
    html = staff_app.client("zhkh.coordinator").get(f"/staff/messages/{m.id}").get_data(as_text=True)
    for label in COORDINATOR_ACTIONS:
        assert html.count(f"<button type=\"submit\">{label}</button>") == 1, label
    assert _forms_on(html) == []  # no action form until one is chosen
    assert html.count("<legend>Руководители</legend>") == 0
    # Opening «Перенаправить» shows its form, with one chain block, and the other actions stay buttons.
    opened = staff_app.client("zhkh.coordinator").get(f"/staff/messages/{m.id}/act/transfer").get_data(as_text=True)
    assert opened.lstrip().startswith("<!doctype html>")
    assert _forms_on(opened) == ["transfer"]
    assert opened.count("<legend>Руководители</legend>") == 1
    assert opened.count(">Перенаправить</button>") == 1  # the form's own, the opener is gone
    for label in ("Назначить исполнителя", "Взять в работу", "Направить на согласование и утверждение"):
        assert f">{label}</button>" in opened
    assert f'action="/staff/messages/{m.id}/act/take#actions"' in opened


def test_a_single_action_shows_its_form_directly(staff_app):
    m = _in_execution(staff_app, "Одно действие исполнителя.")
    html = staff_app.client("zhkh.executor").get(f"/staff/messages/{m.id}").get_data(as_text=True)
    assert _forms_on(html) == ["prepare_answer"]
    assert "/act/" not in html and "Закрыть форму" not in html


def test_without_javascript_an_opened_form_posts_and_its_errors_keep_it_open(staff_app):
    m = _accepted(staff_app, "Форма без JavaScript.")
    client = staff_app.client("zhkh.coordinator")
    page = client.get(f"/staff/messages/{m.id}/act/assign_executor?back=/staff/%3Fq%3D2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _forms_on(html) == ["assign_executor"]
    # An error re-renders that same form, with the message and the other actions.
    bad = client.post(f"/staff/messages/{m.id}/assign_executor",
                      data={"assign_executor-version": version_of(html, "assign_executor")})
    assert bad.status_code == 422
    bad_html = bad.get_data(as_text=True)
    assert _forms_on(bad_html) == ["assign_executor"] and "Выберите исполнителя." in bad_html
    executor = staff_app.user("zhkh.executor").id
    done = client.post(f"/staff/messages/{m.id}/assign_executor?back=/staff/%3Fq%3D2", data={
        "assign_executor-version": version_of(html, "assign_executor"), "assign_executor-executor_id": executor})
    assert done.status_code == 303 and done.headers["Location"].startswith(f"/staff/messages/{m.id}")
    assert staff_app.message(m.id).stage == Stage.EXECUTION
    # The stale link now says why, and opens nothing.
    stale = client.get(f"/staff/messages/{m.id}/act/assign_executor")
    assert stale.status_code == 409 and "сейчас вам недоступно" in stale.get_data(as_text=True)
    stale = client.get(f"/staff/messages/{m.id}/act/assign_executor", headers={"HX-Request": "true",
                                                                                "HX-Target": "actions"})
    assert stale.status_code == 409 and stale.headers["HX-Retarget"] == "#card"
    assert stale.get_data(as_text=True).lstrip().startswith('<div id="card">')
    assert "сейчас вам недоступно" in stale.get_data(as_text=True) and "Исполнение" in stale.get_data(as_text=True)
    assert client.get(f"/staff/messages/{m.id}/act/no_such_action").status_code == 404


def test_htmx_opens_the_form_as_a_fragment_of_the_card(staff_app):
    m = _accepted(staff_app, "Форма по htmx.")
    client = staff_app.client("zhkh.coordinator")
    response = client.get(f"/staff/messages/{m.id}/act/send_for_approval",
                          headers={"HX-Request": "true", "HX-Target": "actions"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card" id="actions"') and "<html" not in fragment
    assert _forms_on(fragment) == ["send_for_approval"]
    assert 'hx-target="#card"' in fragment  # its POST swaps the card
    closed = client.get(f"/staff/messages/{m.id}", headers={"HX-Request": "true", "HX-Target": "actions"})
    assert _forms_on(closed.get_data(as_text=True)) == [] and "<html" not in closed.get_data(as_text=True)


def _transferred_to_transport(staff_app, text: str):
    minister = staff_app.user("zhkh.minister").id
    transport = staff_app.org("Минтранс АО").id
    m = staff_app.new_message(text, steps=[
        ("moderator", "accept", {}),
        ("zhkh.coordinator", "transfer", {"organization_id": transport, "approver_id": minister,
                                          "agreeing_ids": []}),
        ("zhkh.minister", "approve", {})])
    assert staff_app.message(m.id).organization_id == transport
    return m


def test_return_by_htmx_after_a_transfer_goes_to_the_inbox_by_hx_location(staff_app):
    m = _transferred_to_transport(staff_app, "Возврат после перенаправления.")
    client = staff_app.client("transport.coordinator")
    response = client.post(f"/staff/messages/{m.id}/return?back=/staff/%3Fq%3D3", headers=HTMX_CARD,
                           data={"return-version": staff_app.message(m.id).version,
                                 "return-comment": "Не наш вопрос."})
    assert response.status_code == 200
    import json
    assert json.loads(response.headers["HX-Location"]) == {"path": "/staff/?q=3", "target": "body"}
    assert "<html" not in response.get_data(as_text=True) and "Location" not in response.headers
    assert staff_app.message(m.id).organization_id == staff_app.org("МинЖКХ АО").id
    inbox = client.get("/staff/?q=3").get_data(as_text=True)
    assert "Выполнено: «Вернуть»." in inbox and m.number not in inbox


def test_any_redirect_or_error_answering_htmx_is_never_a_page_in_a_fragment(staff_app):
    m = _accepted(staff_app, "Сеанс истёк.")
    anonymous = staff_app.client()
    response = anonymous.post(f"/staff/messages/{m.id}/take", headers=HTMX_CARD, data={"take-version": "1"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert "/login" in response.headers["HX-Location"]
    # Without htmx the same request is an ordinary redirect.
    assert anonymous.post(f"/staff/messages/{m.id}/take", data={"take-version": "1"}).status_code == 302
    # An error is an alert for the page's alert area, not the error page inside the card.
    missing = staff_app.client("transport.coordinator").post(f"/staff/messages/{m.id}/take", headers=HTMX_CARD,
                                                            data={"take-version": "1"})
    assert missing.status_code == 404
    assert missing.headers["HX-Retarget"] == "#alerts" and "<html" not in missing.get_data(as_text=True)
    assert "Не найдено" in missing.get_data(as_text=True)


# --- the subcategory follows the category (issue 8, item 6) -------------------------------------------------

def _options(html: str, select_name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{select_name}".*?</select>', html, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_change_category_offers_only_the_chosen_categorys_subcategories(staff_app):
    m = staff_app.new_message("Подкатегории по категории.")
    client = staff_app.client("moderator")
    html = client.get(f"/staff/messages/{m.id}/act/change_category").get_data(as_text=True)
    zhkh, garbage = staff_app.sub("Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора")
    options = _options(html, "change_category-subcategory_id")
    assert "Несвоевременный вывоз мусора" in options and options.count("Иное") <= 1
    with staff_app.session() as s:
        from sqlmodel import select
        from pos.models import Subcategory
        in_zhkh = len(s.exec(select(Subcategory).where(Subcategory.category_id == zhkh, Subcategory.is_active)).all())
        roads = s.exec(select(Subcategory).where(Subcategory.category_id != zhkh)).first()
    assert len(options) == in_zhkh + 1
    # htmx: choosing another category swaps in that category's field.
    fragment = client.get(f"/staff/messages/{m.id}/act/change_category?change_category-category_id={roads.category_id}",
                          headers={"HX-Request": "true", "HX-Target": "change_category-subcategory-field"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="change_category-subcategory-field">') and "<html" not in text
    assert roads.name in _options(text, "change_category-subcategory_id")
    assert "Несвоевременный вывоз мусора" not in text
    # Without JavaScript: «Показать подкатегории» posts the form back, nothing is applied.
    assert ">Показать подкатегории</button>" in html
    refreshed = client.post(f"/staff/messages/{m.id}/change_category", data={
        "change_category-version": version_of(html, "change_category"),
        "change_category-category_id": roads.category_id, "refresh": "1"})
    assert refreshed.status_code == 200
    page = refreshed.get_data(as_text=True)
    assert roads.name in _options(page, "change_category-subcategory_id")
    assert "Несвоевременный вывоз мусора" not in _options(page, "change_category-subcategory_id")
    assert staff_app.message(m.id).category_id == zhkh and staff_app.message(m.id).version == m.version


def test_inbox_subcategory_filter_follows_the_category(staff_app):
    client = staff_app.client("moderator")
    assert _options(client.get("/staff/").get_data(as_text=True), "subcategory_id") == [
        "все (сначала выберите категорию)"]
    zhkh, garbage = staff_app.sub("Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора")
    page = client.get(f"/staff/?category_id={zhkh}&subcategory_id={garbage}").get_data(as_text=True)
    assert "Несвоевременный вывоз мусора" in _options(page, "subcategory_id")
    assert f'<option selected value="{garbage}">' in page
    fragment = client.get(f"/staff/?category_id={zhkh}", headers={"HX-Request": "true",
                                                                  "HX-Target": "subcategory-filter"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="subcategory-filter">') and "<html" not in text
    assert "Несвоевременный вывоз мусора" in text



class _PushedRequests(HTMLParser):
    """Elements that send a request of their own inside a form that pushes its address (hx-push-url is
    inherited): each must say whether it pushes, or it pushes its own narrower address."""

    def __init__(self):
        super().__init__()
        self.forms: list[bool] = []
        self.unsaid: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(a.get("hx-push-url") == "true")
        elif any(self.forms) and "hx-get" in a and "hx-push-url" not in a:
            self.unsaid.append(f"<{tag} name={a.get('name')!r} hx-get={a['hx-get']!r}>")

    def handle_endtag(self, tag):
        if tag == "form" and self.forms:
            self.forms.pop()


@pytest.mark.parametrize("login", ["moderator", "zhkh.coordinator", "zhkh.curator", "zhkh.executor"])
def test_no_request_inside_the_inbox_filters_pushes_its_own_address(staff_app, login):
    # CI saw the curator come back from a message to «?category_id=9»: the category select's request for the
    # subcategories inherited the form's hx-push-url and answered after the list's.
    parser = _PushedRequests()
    parser.feed(staff_app.client(login).get("/staff/").get_data(as_text=True))
    assert parser.forms == [] and parser.unsaid == []


# --- heads with their positions; wording (issue 8, items 9 and 11) ----------------------------------------

def test_heads_and_staff_are_picked_with_their_positions(staff_app):
    m = _accepted(staff_app, "Руководители с должностями.")
    client = staff_app.client("zhkh.coordinator")
    minister = "Титов Алексей Васильевич — Министр жилищно-коммунального хозяйства"
    for action, select_name in (("transfer", "transfer-approver_id"), ("transfer", "transfer-agreeing-0"),
                                ("send_for_approval", "send_for_approval-approver_id"),
                                ("assign_executor", "assign_executor-executor_id")):
        options = _options(client.get(f"/staff/messages/{m.id}/act/{action}").get_data(as_text=True), select_name)
        assert all(" — " in o for o in options if not o.startswith("—")), (action, options)
    options = _options(client.get(f"/staff/messages/{m.id}/act/transfer").get_data(as_text=True),
                       "transfer-approver_id")
    assert minister in options
    agreement = _in_agreement(staff_app, agreeing=("zhkh.head1",))
    html = staff_app.client("zhkh.head1").get(f"/staff/messages/{agreement.id}/act/delegate_agreement")
    assert "Соколов Дмитрий Юрьевич — Заместитель министра" in _options(html.get_data(as_text=True),
                                                                         "delegate_agreement-head_id")
    curator = staff_app.client("zhkh.curator").get("/staff/").get_data(as_text=True)
    assert "Волков Сергей Николаевич — Главный специалист отдела ЖКХ" in _options(curator, "executor_id")


def test_delegation_in_the_chain_uses_initials_and_a_postponed_result_reads_with_its_date(staff_app):
    from datetime import date
    m = _in_agreement(staff_app, agreeing=("zhkh.head2",))
    head2 = staff_app.client("zhkh.head2")
    html = head2.get(f"/staff/messages/{m.id}/act/delegate_agreement").get_data(as_text=True)
    head2.post(f"/staff/messages/{m.id}/delegate_agreement", data={
        "delegate_agreement-version": version_of(html, "delegate_agreement"),
        "delegate_agreement-head_id": staff_app.user("zhkh.head3").id})
    page = staff_app.client("zhkh.head3").get(f"/staff/messages/{m.id}").get_data(as_text=True)
    assert "право передано: Лебедева И. О. → Соколов Д. Ю." in page
    assert "передано от" not in page
    until = date(2027, 1, 20)
    executor, minister = staff_app.user("zhkh.executor"), staff_app.user("zhkh.minister").id
    postponed = _in_execution(staff_app, "Отложено до даты.")
    with staff_app.session() as s:
        from pos.services.messages import act
        act(s, staff_app.env, executor, postponed.id, Action.PREPARE_ANSWER, dict(
            result="postponed", postponed_until=until, answer_text="Работы весной.", executor_position="Специалист",
            executor_name="Волков С. Н.", approver_id=minister, agreeing_ids=[]))
    card = staff_app.client("zhkh.minister").get(f"/staff/messages/{postponed.id}").get_data(as_text=True)
    assert "отложено до 20.01.2027" in card and "(до определенной даты) до" not in card


def test_outbox_states_are_named_in_russian(staff_app):
    from pos import clock
    from pos.models import OutboxEvent
    with staff_app.session() as s:
        s.add(OutboxEvent(created_at=clock.now(), kind="notify", payload={"event": "answered"},
                          idempotency_key="views-done-1", status="done"))
        s.add(OutboxEvent(created_at=clock.now(), kind="notify", payload={"event": "redirected"},
                          idempotency_key="views-failed-words", status="failed", attempts=5, last_error="x"))
        s.commit()
    page = staff_app.client("admin").get("/staff/outbox").get_data(as_text=True)
    status_line = re.search(r"Состояние очереди:(.*?)</p>", page, re.S).group(1)
    assert "доставлено — " in status_line and "не доставлено — " in status_line
    assert not re.search(r"[A-Za-z]", status_line)
    assert "Уведомление: сообщение перенаправлено" in page and "notify:" not in page
