"""The applicant's journeys in the browser, with the staff processing the messages in theirs.

Each journey sends its own message (unique text), so it shares the server with the staff journeys.
"""
from __future__ import annotations

import json
import re
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import text as sql

from e2e.test_journeys import MINISTER, answer, done, open_form, open_message, ready
from pos.db import make_engine

EXECUTOR = "Волков Сергей Николаевич — Главный специалист отдела ЖКХ"
CITIZEN_EMAIL = "citizen@example.ru"  # the demo applicant `citizen` (seed/messages.py)
TRANSPORT = "Министерство транспорта и дорожного хозяйства Амурской области"
NUMBER = re.compile(r"ПОС-\d{4}-\d{6}")


def png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    return path


CONFIRM_LINK = re.compile(r"https?://\S+(/register/confirm/[\w-]+)")


def confirm_by_mail(page: Page, mailbox, email: str) -> None:
    """«Проверьте почту»: open the link of the letter and finish the registration."""
    expect(page.get_by_role("heading", name="Проверьте почту")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    # A fresh server's worker may still be mailing the seed's backlog: give the letter a minute.
    letter = mailbox.wait_for(email, subject="Подтвердите регистрацию на платформе обратной связи", timeout=60)
    page.goto(CONFIRM_LINK.search(letter["text"]).group(1))
    page.get_by_role("button", name="Завершить регистрацию").click()
    expect(page.get_by_role("heading", name="Мои сообщения")).to_be_visible()
    expect(page.get_by_text("Регистрация завершена.")).to_be_visible()


def register_citizen(page: Page, mailbox, name: str, email: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Зарегистрироваться").click()
    page.get_by_label("Гражданин", exact=True).check()
    page.get_by_label("Фамилия, имя, отчество", exact=True).fill(name)
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Телефон").fill("+7 914 555-44-33")
    page.get_by_label("Пароль", exact=True).fill("пароль-заявителя")
    page.get_by_label("Пароль ещё раз").fill("пароль-заявителя")
    page.get_by_label("Я даю согласие на обработку персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    confirm_by_mail(page, mailbox, email)


def send_message(page: Page, text: str, *, category: str, subcategory: str, address: str,
                 files: list[Path] = (), javascript: bool = True) -> str:
    """Through the form, as a person would; returns the number the page shows."""
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Подать сообщение").click()
    ready(page)
    page.get_by_label("Текст сообщения").fill(text)
    page.get_by_label("Категория", exact=True).select_option(label=category)
    if not javascript:
        page.get_by_role("button", name="Показать подкатегории").click()
        expect(page.get_by_label("Текст сообщения")).to_have_value(text)  # kept across the reload
    subcategories = page.get_by_label("Подкатегория", exact=True)
    expect(subcategories.locator("option", has_text=subcategory)).to_have_count(1)  # htmx swapped the list in
    subcategories.select_option(label=subcategory)
    page.get_by_label("Адрес").fill(address)
    if files:
        page.get_by_label("Файлы").set_input_files([str(f) for f in files])
    page.get_by_role("button", name="Подать сообщение").click()
    flash = page.get_by_text(re.compile(r"Сообщение зарегистрировано под номером ПОС-"))
    expect(flash).to_be_visible()
    return NUMBER.search(flash.inner_text()).group(0)


def press(login_as, login: str, text: str, form_name: str, button: str) -> None:
    """A staff member opens the message and presses a button that needs nothing filled in."""
    page = login_as(login)
    open_message(page, text)
    open_form(page, button, form_name).get_by_role("button", name=button, exact=True).click()
    done(page, button)


def answer_in_zhkh(login_as, text: str, answer_text: str) -> None:
    """The staff's part: accept, assign, answer, approve — each in their own browser session."""
    press(login_as, "moderator", text, "Принять на этап координации", "Принять")
    coordinator = login_as("zhkh.coordinator")
    open_message(coordinator, text)
    f = open_form(coordinator, "Назначить исполнителя", "Назначить исполнителя")
    f.get_by_label("Исполнитель").select_option(label=EXECUTOR)
    f.get_by_role("button", name="Назначить исполнителя", exact=True).click()
    done(coordinator, "Назначить исполнителя")
    executor = login_as("zhkh.executor")
    open_message(executor, text)
    answer(executor, result="решено", text=answer_text)
    done(executor, "Подготовить ответ")
    press(login_as, "zhkh.minister", text, "Утвердить ответ", "Утвердить")


def test_citizen_registers_sends_follows_rates_and_repeats(browser, base_url, login_as, mailbox, tmp_path):
    tag = uuid.uuid4().hex[:8]
    text = f"Протекает крыша над квартирой, дом ул. Зейская, 77 ({tag})"
    citizen = browser.new_context(base_url=base_url, locale="ru-RU").new_page()
    register_citizen(citizen, mailbox, "Соколова Вера Павловна", f"sokolova.{tag}@example.ru")
    number = send_message(citizen, text, category="Жилищно-коммунальное хозяйство", subcategory="Протечка кровли",
                          address="г. Благовещенск, ул. Зейская, 77", files=[png(tmp_path / "крыша.png")])
    expect(citizen.get_by_role("heading", name=f"Сообщение {number}")).to_be_visible()
    expect(citizen.get_by_text("На модерации")).to_be_visible()
    expect(citizen.get_by_role("link", name="крыша.png")).to_be_visible()
    with citizen.expect_download() as download:
        citizen.get_by_role("link", name="крыша.png").click()
    assert download.value.suggested_filename == "крыша.png"

    answer_in_zhkh(login_as, text, "Кровля над квартирой отремонтирована 26.11.")

    citizen.get_by_role("link", name="Мои сообщения").first.click()
    row = citizen.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("Ответ готов")
    row.get_by_role("link", name=number).click()
    expect(citizen.get_by_text("Кровля над квартирой отремонтирована 26.11.")).to_be_visible()
    expect(citizen.get_by_text("Исполнитель: Главный специалист отдела ЖКХ, Волков Сергей Николаевич")).to_be_visible()
    for internal in ("Согласование", "Утверждение", "Назначен исполнитель"):
        expect(citizen.get_by_text(internal, exact=True)).to_have_count(0)

    citizen.get_by_label("2 — плохо").check()
    citizen.get_by_label("Комментарий к оценке").fill("Течёт по-прежнему")
    citizen.get_by_role("button", name="Оценить ответ").click()
    expect(citizen.get_by_text("Спасибо! Ваша оценка учтена.")).to_be_visible()
    expect(citizen.get_by_text("2 из 5", exact=True)).to_be_visible()
    expect(citizen.get_by_role("button", name="Оценить ответ")).to_have_count(0)

    repeat_text = f"Крыша снова течёт после ремонта, дом ул. Зейская, 77 ({tag})"
    citizen.get_by_label("Текст повторного сообщения").fill(repeat_text)
    citizen.get_by_role("button", name="Подать повторное сообщение").click()
    flash = citizen.get_by_text(re.compile(r"Повторное сообщение зарегистрировано под номером"))
    expect(flash).to_be_visible()
    repeat_number = NUMBER.search(flash.inner_text()).group(0)
    expect(citizen.get_by_role("link", name=number)).to_be_visible()  # linked to the first one
    expect(citizen.get_by_text("На модерации")).to_be_visible()  # like every message (clause 3.3)

    # The moderator first, flagged, with the first message's answer and rating beside it.
    moderator = login_as("moderator")
    moderator.goto("/staff/")
    row = moderator.get_by_role("row").filter(has_text=repeat_number)
    expect(row).to_contain_text("повторное")
    expect(row).to_contain_text("Модерация")
    row.get_by_role("link", name=repeat_number).click()
    expect(moderator.locator("dl.props").first).to_contain_text("ОрганизацияМинЖКХ АО")  # preselected
    expect(moderator.get_by_role("region", name="Сведения").get_by_role("link", name=number)).to_be_visible()
    expect(moderator.get_by_role("region", name="История").get_by_role("link", name=number)).to_be_visible()
    expect(moderator.get_by_text("Кровля над квартирой отремонтирована 26.11.")).to_be_visible()
    expect(moderator.get_by_text("«Течёт по-прежнему»")).to_be_visible()
    history = moderator.get_by_role("region", name="История")
    expect(history).to_contain_text("Этап: — → Модерация")
    press(login_as, "moderator", repeat_text, "Принять на этап координации", "Принять")

    coordinator = login_as("zhkh.coordinator")
    coordinator.goto("/staff/")
    row = coordinator.get_by_role("row").filter(has_text=repeat_number)
    expect(row).to_contain_text("повторное")
    expect(row).to_contain_text("Координация")


def test_legal_entity_sees_every_error_at_once_fixes_them_and_registers(page: Page, mailbox):
    email = f"bread.{uuid.uuid4().hex[:6]}@example.ru"
    page.goto("/register")
    page.get_by_label("Юридическое лицо", exact=True).check()
    expect(page.get_by_label("Фамилия, имя, отчество", exact=True)).to_be_hidden()
    page.get_by_label("Наименование организации").fill("ООО «Амурский хлеб»")
    page.get_by_label("ИНН организации").fill("2801000001")
    page.get_by_label("ОГРН организации").fill("1027700132195")
    page.get_by_label("Контактное лицо (ФИО)").fill("Смирнов Олег Петрович")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Телефон").fill("12")
    page.get_by_label("Пароль", exact=True).fill("пароль-организации")
    page.get_by_label("Пароль ещё раз").fill("пароль-организации")
    page.get_by_role("button", name="Зарегистрироваться").click()
    # One submit, every problem: the phone, the ИНН and the consent, listed above the form and at each field.
    summary = page.get_by_role("alert").filter(has_text="Проверьте форму")
    for words in ("Номер телефона указан неверно", "ИНН указан с ошибкой: не сходится контрольная цифра.",
                  "Без согласия на обработку персональных данных регистрация невозможна."):
        expect(summary.get_by_role("link", name=re.compile(re.escape(words)))).to_be_visible()
    expect(page.get_by_label("ИНН организации")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Телефон")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Наименование организации")).to_have_value("ООО «Амурский хлеб»")
    expect(page.get_by_label("Пароль", exact=True)).to_have_value("пароль-организации")  # not at fault: kept
    page.get_by_label("ИНН организации").fill("7707083893")
    page.get_by_label("Телефон").fill("+7 416 250-00-00")
    page.get_by_label("Я даю согласие на обработку персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    confirm_by_mail(page, mailbox, email)


def test_registering_a_taken_address_looks_the_same_and_tells_its_owner(browser, base_url, mailbox):
    """The demo applicant's address: the same «Проверьте почту», and a letter to its owner, not a link."""
    page = browser.new_context(base_url=base_url, locale="ru-RU").new_page()
    page.goto("/register")
    page.get_by_label("Фамилия, имя, отчество", exact=True).fill("Кто-то Чужой")
    page.get_by_label("Электронная почта").fill(CITIZEN_EMAIL)
    page.get_by_label("Телефон").fill("+7 914 555-00-00")
    page.get_by_label("Пароль", exact=True).fill("чужой-длинный-пароль")
    page.get_by_label("Пароль ещё раз").fill("чужой-длинный-пароль")
    page.get_by_label("Я даю согласие на обработку персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.get_by_role("heading", name="Проверьте почту")).to_be_visible()
    expect(page.get_by_text("Этот адрес электронной почты уже зарегистрирован")).to_have_count(0)
    letter = mailbox.wait_for(CITIZEN_EMAIL, subject="Попытка регистрации с вашим адресом электронной почты",
                              timeout=60)
    assert "/register/confirm/" not in letter["text"] and "Кто-то Чужой" not in letter["text"]


def test_back_and_resubmit_of_the_message_form_sends_one_message(login_as):
    page = login_as("citizen2")
    page.goto("/my/messages")
    text = f"Не убран снег во дворе ул. Ленина, 50 ({uuid.uuid4().hex[:8]})"
    number = send_message(page, text, category="Благоустройство", subcategory="Ненадлежащее содержание двора",
                          address="г. Благовещенск, ул. Ленина, 50")
    page.go_back()  # the filled-in form again, as the browser kept it
    expect(page.get_by_label("Текст сообщения")).to_have_value(text)
    page.get_by_role("button", name="Подать сообщение").click()
    expect(page.get_by_text(f"Эта форма уже отправлена: сообщение {number} зарегистрировано, второе не создано.")
           ).to_be_visible()
    expect(page.get_by_role("heading", name=f"Сообщение {number}")).to_be_visible()
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Мои сообщения").click()
    expect(page.get_by_role("row").filter(has_text=text)).to_have_count(1)


def reload_until(page: Page, url: str, locator, timeout: float = 60) -> None:
    """Open `url` again and again until `locator` is there (the worker writes a moment after the action)."""
    deadline = time.monotonic() + timeout
    page.goto(url)
    while not locator.count() and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.goto(url)
    expect(locator.first).to_be_visible()


def test_redirect_notification_reaches_the_applicant(login_as, mailbox):
    """The approved transfer tells the applicant twice: in the notification list and in a letter."""
    tag = uuid.uuid4().hex[:8]
    text = f"Разбит тротуар вдоль дороги на ул. Северной, 5 ({tag})"
    citizen = login_as("citizen")
    citizen.goto("/my/messages")
    number = send_message(citizen, text, category="Благоустройство", subcategory="Ненадлежащее содержание двора",
                          address="г. Благовещенск, ул. Северная, 5")
    press(login_as, "moderator", text, "Принять на этап координации", "Принять")
    coordinator = login_as("zhkh.coordinator")
    open_message(coordinator, text)
    f = open_form(coordinator, "Перенаправить", "Перенаправить в организацию по компетенции")
    f.get_by_label("Организация, в компетенцию которой входит вопрос").select_option(label="Минтранс АО")
    f.get_by_label("Утверждающий руководитель").select_option(label=MINISTER)
    f.get_by_role("button", name="Перенаправить", exact=True).click()
    done(coordinator, "Перенаправить")
    subject = f"Сообщение № {number} перенаправлено по компетенции"
    citizen.goto("/my/notifications")
    expect(citizen.get_by_role("heading", name="Уведомления", exact=True)).to_be_visible()
    expect(citizen.get_by_text(subject)).to_have_count(0)
    assert mailbox.matching(CITIZEN_EMAIL, subject=subject) == []  # a transfer waiting for approval tells nobody

    press(login_as, "zhkh.minister", text, "Утвердить перенаправление", "Утвердить")

    title = citizen.get_by_role("heading", name=subject)
    reload_until(citizen, "/my/notifications", title)
    notice = citizen.get_by_role("listitem").filter(has=title)
    expect(notice).to_contain_text(TRANSPORT)
    letter = mailbox.wait_for(CITIZEN_EMAIL, subject=subject)
    assert letter["subject"] == subject  # Russian, decoded from its MIME encoding
    assert f"Ваше сообщение № {number} от " in letter["text"]
    assert f"перенаправлено для рассмотрения по компетенции в организацию «{TRANSPORT}»" in letter["text"]
    assert len(mailbox.matching(CITIZEN_EMAIL, subject=subject)) == 1  # one approval, one letter
    expect(notice.get_by_text("новое")).to_be_visible()
    notice.get_by_role("link", name=f"Сообщение {number}").click()
    expect(citizen.get_by_text("Перенаправлено в Минтранс АО").first).to_be_visible()
    citizen.goto("/my/notifications")
    citizen.get_by_role("button", name="Отметить все как прочитанные").click()
    expect(citizen.get_by_text("новое", exact=True)).to_have_count(0)


def test_without_javascript_the_subcategory_list_follows_the_category(login_as):
    page = login_as("citizen2", javascript=False)
    page.goto("/my/messages")
    text = f"Во дворе сломаны качели ({uuid.uuid4().hex[:8]})"
    number = send_message(page, text, category="Благоустройство", subcategory="Неисправная детская площадка",
                          address="г. Благовещенск, ул. Мухина, 20", javascript=False)
    page.get_by_role("link", name="Мои сообщения").first.click()
    expect(page.get_by_role("row").filter(has_text=number)).to_contain_text("На модерации")


def _org_id(server, short_name: str) -> int:
    with make_engine(server.env["DATABASE_URL"]).connect() as conn:
        return conn.execute(sql("SELECT id FROM organization WHERE short_name = :n"), {"n": short_name}).scalar_one()


@contextmanager
def another_site(html: str):
    """A website of its own on loopback (another origin): it serves one page."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_port}/"
    finally:
        site.shutdown()
        site.server_close()


def test_embedded_form_works_inside_another_sites_frame(page: Page, server):
    org_id = _org_id(server, "УГХ г. Тынды")
    with another_site("<!doctype html><html lang='ru'><title>Сайт УГХ</title><h1>Сайт управления</h1>"
                      f"<iframe title='Сообщить о проблеме' src='{server.url}/embed/{org_id}' width='600' "
                      "height='900'></iframe>") as host:
        page.goto(host)
        frame = page.frame_locator("iframe[title='Сообщить о проблеме']")
        text = f"Не горят фонари во дворе ул. Мира, 10 ({uuid.uuid4().hex[:8]})"
        frame.get_by_label("Текст сообщения").fill(text)
        frame.get_by_label("Адрес").fill("г. Тында, ул. Мира, 10")
        frame.get_by_label("Фамилия, имя, отчество").fill("Лебедев Игорь Петрович")
        frame.get_by_label("Электронная почта для ответа").fill("lebedev@example.ru")
        frame.get_by_label("Я даю согласие на обработку персональных данных").check()
        frame.get_by_role("button", name="Подать сообщение").click()
        expect(frame.get_by_role("heading", name="Сообщение принято")).to_be_visible()
        expect(frame.get_by_text(NUMBER)).to_be_visible()


def _api(server, path: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{server.url}/open311/v2/{path}", data=body),
                                    timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_open311_round_trip_through_the_staff_interface(server, login_as):
    key = server.flask("create-api-client", "--name", "Мобильное приложение (e2e)").strip().splitlines()[-1]
    status, services = _api(server, "services.json")
    code = next(s["service_code"] for s in services
                if s["group"] == "Жилищно-коммунальное хозяйство" and s["service_name"] == "Протечка кровли")
    assert _api(server, "requests.json", {"api_key": "не тот", "service_code": code, "description": "x",
                                          "address_string": "y"})[0] == 403
    text = f"Течёт крыша в подъезде дома ул. Пионерская, 3 ({uuid.uuid4().hex[:8]})"
    status, created = _api(server, "requests.json", {
        "api_key": key, "service_code": code, "description": text, "address_string": "г. Благовещенск, ул. Пионерская, 3",
        "email": "app.user@example.ru", "first_name": "Мария", "last_name": "Орлова"})
    assert status == 200, created
    number = created[0]["service_request_id"]
    quoted = urllib.parse.quote(number)
    assert _api(server, f"requests/{quoted}.json")[1][0]["status"] == "open"

    answer_in_zhkh(login_as, text, "Кровля над подъездом отремонтирована.")

    status, (request,) = _api(server, f"requests/{quoted}.json")
    assert (request["status"], request["status_notes"]) == ("closed", "Кровля над подъездом отремонтирована.")
    assert "Орлова" not in json.dumps(request, ensure_ascii=False)
    assert _api(server, f"tokens/{created[0]['token']}.json")[1] == [{"service_request_id": number,
                                                                      "token": created[0]["token"]}]
