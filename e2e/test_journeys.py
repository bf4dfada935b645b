"""Staff journeys through the browser, each role signed in as itself (the region's demo logins, decree 232).

Each journey works on its own seeded message, found by its text, so the journeys
share one server and one database without stepping on each other.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import quote

from playwright.sync_api import Page, expect

MINISTER = "Титов Алексей Васильевич — Министр жилищно-коммунального хозяйства"


def open_message(page: Page, text: str, query: str = "") -> None:
    """Find the message in this person's inbox by a piece of its text and open it."""
    page.goto(f"/staff/?q={quote(text)}{query}")
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Сообщение ПОС-"))).to_be_visible()
    page.wait_for_load_state()  # htmx binds the page on DOMContentLoaded: until then a change asks nothing


def ready(page: Page) -> None:
    """The page has loaded, so htmx has bound it (a click that navigates returns before that)."""
    page.wait_for_load_state()


def form(page: Page, name: str):
    return page.get_by_role("form", name=name, exact=True)


def open_form(page: Page, button: str, name: str):
    """The action's form: a stage with several actions offers them as buttons and opens the chosen one's form;
    a single action's form is there already."""
    f = form(page, name)
    if f.count() == 0:
        page.get_by_role("region", name="Действия").get_by_role("button", name=button, exact=True).click()
    expect(f).to_be_visible()
    ready(page)  # without JavaScript the button opened the form's own page
    return f


def done(page: Page, label: str) -> None:
    expect(page.get_by_text(f"Выполнено: «{label}».")).to_be_visible()


def stage_is(page: Page, stage: str) -> None:
    expect(page.locator("dl.props").first).to_contain_text(f"Этап{stage}")


def answer(page: Page, *, result: str, text: str, agreeing=(), approver=MINISTER, until: date | None = None,
           button="Подготовить ответ", form_name="Ответ на сообщение") -> None:
    f = open_form(page, button, form_name)
    f.get_by_label(result, exact=True).check()
    if until:
        f.get_by_label("Отложено до").fill(until.isoformat())
    f.get_by_label("Текст ответа").fill(text)
    f.get_by_label("Утверждающий руководитель").select_option(label=approver)
    for index, head in enumerate(agreeing, start=1):
        f.get_by_label(f"Согласующий руководитель {index}").select_option(label=head)
    f.get_by_role("button", name=button, exact=True).click()


def test_1_answer_through_agreement_delegation_and_approval(login_as):
    text = "Во дворе дома по ул. Ленина, 12"
    moderator = login_as("moderator")
    open_message(moderator, text)
    f = open_form(moderator, "Изменить категорию", "Изменить категорию и подкатегорию")
    f.get_by_label("Категория", exact=True).select_option(label="Благоустройство")
    f.get_by_label("Подкатегория", exact=True).select_option(label="Несанкционированная свалка")
    f.get_by_role("button", name="Изменить категорию", exact=True).click()
    done(moderator, "Изменить категорию")
    expect(moderator.get_by_text("Несанкционированная свалка").first).to_be_visible()
    open_form(moderator, "Принять", "Принять на этап координации").get_by_role("button", name="Принять", exact=True).click()
    done(moderator, "Принять")
    stage_is(moderator, "Координация")

    coordinator = login_as("zhkh.coordinator")
    open_message(coordinator, text)
    f = open_form(coordinator, "Назначить исполнителя", "Назначить исполнителя")
    f.get_by_label("Исполнитель").select_option(label="Волков Сергей Николаевич — Главный специалист отдела ЖКХ")
    f.get_by_role("button", name="Назначить исполнителя", exact=True).click()
    done(coordinator, "Назначить исполнителя")
    stage_is(coordinator, "Исполнение")

    executor = login_as("zhkh.executor")
    open_message(executor, text)
    answer(executor, result="решено", text="Свалка ликвидирована, площадка убрана.",
           agreeing=("Громов Павел Андреевич — Начальник отдела ЖКХ", "Лебедева Ирина Олеговна — Заместитель министра"))
    done(executor, "Подготовить ответ")
    stage_is(executor, "Согласование")

    head1 = login_as("zhkh.head1")
    open_message(head1, text)
    expect(head1.locator("ol.chain li.current")).to_contain_text("Громов Павел Андреевич")
    open_form(head1, "Согласовать", "Согласовать ответ").get_by_role("button", name="Согласовать", exact=True).click()
    done(head1, "Согласовать")

    head2 = login_as("zhkh.head2")
    open_message(head2, text)
    f = open_form(head2, "Передать право согласования", "Передать право согласования")
    f.get_by_label("Руководитель").select_option(label="Соколов Дмитрий Юрьевич — Заместитель министра")
    f.get_by_role("button", name="Передать право согласования", exact=True).click()
    done(head2, "Передать право согласования")
    expect(head2.get_by_role("button", name="Согласовать", exact=True)).to_have_count(0)

    head3 = login_as("zhkh.head3")
    open_message(head3, text)
    open_form(head3, "Согласовать", "Согласовать ответ").get_by_role("button", name="Согласовать", exact=True).click()
    done(head3, "Согласовать")
    stage_is(head3, "Утверждение")

    minister = login_as("zhkh.minister")
    open_message(minister, text)
    f = open_form(minister, "Утвердить", "Утвердить ответ")
    f.get_by_label("Текст ответа").fill("Несанкционированная свалка ликвидирована 25.11, площадка убрана.")
    f.get_by_role("button", name="Утвердить", exact=True).click()
    done(minister, "Утвердить")
    stage_is(minister, "Ответ дан")
    history = minister.get_by_role("region", name="История")
    for entry in ("Сообщение поступило", "Изменена категория", "Принято на этап координации", "Назначен исполнитель",
                  "Подготовлен ответ", "Передано право согласования", "Утверждено", "Текст ответа изменён"):
        expect(history).to_contain_text(entry)
    expect(history.get_by_text("Согласовано", exact=True)).to_have_count(2)
    expect(history).to_contain_text("Право передано: Лебедева Ирина Олеговна → Соколов Дмитрий Юрьевич")
    expect(minister.get_by_text("Несанкционированная свалка ликвидирована 25.11")).to_be_visible()


def test_2_transfer_rejected_then_approved_lands_in_the_target_coordination(login_as):
    text = "Детская площадка во дворе ул. Мухина"

    def transfer(page):
        f = open_form(page, "Перенаправить", "Перенаправить в организацию по компетенции")
        f.get_by_label("Организация, в компетенцию которой входит вопрос").select_option(label="Минтранс АО")
        f.get_by_label("Утверждающий руководитель").select_option(label=MINISTER)
        f.get_by_role("button", name="Перенаправить", exact=True).click()
        done(page, "Перенаправить")
        stage_is(page, "Утверждение")

    coordinator = login_as("zhkh.coordinator")
    open_message(coordinator, text)
    transfer(coordinator)

    minister = login_as("zhkh.minister")
    open_message(minister, text)
    f = open_form(minister, "Отклонить", "Отклонить перенаправление")
    f.get_by_label("Причина отклонения").fill("Площадка во дворе — наша компетенция, проверьте ещё раз.")
    f.get_by_role("button", name="Отклонить", exact=True).click()
    done(minister, "Отклонить")
    stage_is(minister, "Координация")

    open_message(coordinator, text)
    expect(coordinator.get_by_role("region", name="История")).to_contain_text("Площадка во дворе — наша компетенция")
    transfer(coordinator)

    open_message(minister, text)
    open_form(minister, "Утвердить", "Утвердить перенаправление").get_by_role("button", name="Утвердить", exact=True).click()
    done(minister, "Утвердить")
    stage_is(minister, "Координация")

    target = login_as("transport.coordinator")
    target.goto("/staff/")
    target.get_by_role("link", name=re.compile("ПОС-")).filter(has_text="").first.wait_for()
    row = target.get_by_role("row").filter(has_text=text)
    expect(row).to_contain_text("Координация")
    row.get_by_role("link").click()
    expect(target.locator("dl.props").first).to_contain_text("ОрганизацияМинтранс АО")
    expect(target.get_by_role("button", name="Вернуть", exact=True)).to_be_visible()


def test_3_moderator_rejects_with_reason_g(login_as):
    moderator = login_as("moderator")
    open_message(moderator, "Скорая помощь ехала к пожилой матери")
    f = open_form(moderator, "Отклонить", "Отклонить сообщение")
    f.get_by_label(re.compile(r"^г\) текст сообщения не содержит конкретных фактов")).check()
    f.get_by_role("button", name="Отклонить", exact=True).click()
    done(moderator, "Отклонить")
    stage_is(moderator, "Отклонено модератором")
    expect(moderator.locator("dl.props").first).to_contain_text("г) текст сообщения не содержит конкретных фактов")
    expect(moderator.get_by_role("button")).to_have_count(1)  # only «Выйти»: nothing left to do


def test_4_postponed_until_a_date_and_approved(login_as):
    text = "нет горячей воды с понедельника"
    until = date.today() + timedelta(days=45)
    executor = login_as("zhkh.executor")
    open_message(executor, text)
    answer(executor, result="отложено (до определенной даты)", until=until,
           text="Замена стояка запланирована, горячая вода будет подана после ремонта.")
    done(executor, "Подготовить ответ")
    stage_is(executor, "Утверждение")

    minister = login_as("zhkh.minister")
    open_message(minister, text)
    open_form(minister, "Утвердить", "Утвердить ответ").get_by_role("button", name="Утвердить", exact=True).click()
    done(minister, "Утвердить")
    stage_is(minister, "Отложено")
    expect(minister.locator("dl.props").nth(1)).to_contain_text(f"отложено до {until:%d.%m.%Y}")

    curator = login_as("zhkh.curator")
    curator.goto("/staff/?stage=postponed")
    expect(curator.get_by_role("row").filter(has_text=text)).to_contain_text(f"Отложено до {until:%d.%m.%Y}")


def test_5_curator_filters_opens_and_comes_back_to_the_same_list(login_as):
    curator = login_as("zhkh.curator")
    curator.goto("/staff/")
    ready(curator)  # htmx binds the filters on DOMContentLoaded: a change before that asks nothing
    filters = curator.get_by_role("search", name="Фильтры")
    filters.get_by_label("Срок", exact=True).select_option(label="просрочено")
    filters.get_by_label("Категория", exact=True).select_option(label="Жилищно-коммунальное хозяйство")
    filters.get_by_label("Организация (с подведомственными)").select_option(label="МинЖКХ АО")
    expect(curator).to_have_url(re.compile(r"(?=.*deadline=overdue)(?=.*category_id=\d+)(?=.*organization_id=\d+)"))
    rows = curator.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="Не вывозятся отходы с контейнерной площадки")).to_have_count(1)
    expect(rows.filter(has_text="Детская площадка")).to_have_count(0)
    for badge in rows.filter(has_text="ПОС-").all():
        expect(badge).to_contain_text("просрочено")
        expect(badge).to_contain_text("Жилищно-коммунальное хозяйство")
    filtered_url = curator.url
    listed = rows.count()

    rows.filter(has_text="Не вывозятся отходы").get_by_role("link").click()
    expect(curator.get_by_role("heading", name=re.compile("^Сообщение ПОС-"))).to_be_visible()
    expect(curator.get_by_role("button", name="Принять")).to_have_count(0)  # the curator controls, not acts
    curator.get_by_role("link", name="← К списку").click()
    expect(curator).to_have_url(filtered_url)
    expect(curator.get_by_role("table").get_by_role("row")).to_have_count(listed)
    expect(filters.get_by_label("Срок", exact=True)).to_have_value("overdue")

    rows.filter(has_text="Не вывозятся отходы").get_by_role("link").click()
    curator.go_back()
    expect(curator).to_have_url(filtered_url)
    expect(curator.get_by_role("table").get_by_role("row")).to_have_count(listed)


def test_6_without_javascript_forms_post_and_redirect(login_as):
    text = "В подъезде дома ул. Горького, 250"
    page = login_as("zhkh.coordinator", javascript=False)
    open_message(page, text)
    open_form(page, "Взять в работу", "Взять в работу").get_by_role("button", name="Взять в работу", exact=True).click()
    expect(page.get_by_text("Выполнено: «Взять в работу».")).to_be_visible()
    stage_is(page, "Исполнение")
    f = open_form(page, "Подготовить ответ", "Ответ на сообщение")
    f.get_by_label("не решено", exact=True).check()
    f.get_by_label("Текст ответа").fill("Освещение восстановлено не полностью, нужна замена проводки.")
    f.get_by_role("button", name="Подготовить ответ", exact=True).click()
    f = open_form(page, "Подготовить ответ", "Ответ на сообщение")
    expect(f.get_by_text("Выберите утверждающего руководителя.")).to_be_visible()
    expect(f.get_by_label("Текст ответа")).to_have_value("Освещение восстановлено не полностью, нужна замена проводки.")
    expect(f.get_by_label("Должность исполнителя")).to_have_value("Консультант отдела по работе с обращениями")
    f.get_by_label("Утверждающий руководитель").select_option(label=MINISTER)
    f.get_by_role("button", name="Подготовить ответ", exact=True).click()
    expect(page.get_by_text("Выполнено: «Подготовить ответ».")).to_be_visible()
    stage_is(page, "Утверждение")


def test_7_two_heads_at_once_one_wins_the_other_sees_why(login_as):
    text = "Крыша дома ул. Амурская, 33"
    slow = login_as("zhkh.head2")  # opens the card and starts editing
    open_message(slow, text)
    slow_form = open_form(slow, "Согласовать", "Согласовать ответ")
    slow_form.get_by_label("Текст ответа").fill("Мой вариант: кровля отремонтирована полностью.")

    other_tab = login_as("zhkh.head2")  # meanwhile hands the place to head3...
    open_message(other_tab, text)
    f = open_form(other_tab, "Передать право согласования", "Передать право согласования")
    f.get_by_label("Руководитель").select_option(label="Соколов Дмитрий Юрьевич — Заместитель министра")
    f.get_by_role("button", name="Передать право согласования", exact=True).click()
    done(other_tab, "Передать право согласования")
    head3 = login_as("zhkh.head3")  # ...who agrees first
    open_message(head3, text)
    open_form(head3, "Согласовать", "Согласовать ответ").get_by_role("button", name="Согласовать", exact=True).click()
    done(head3, "Согласовать")

    slow_form.get_by_role("button", name="Согласовать", exact=True).click()
    alert = slow.get_by_role("alert")
    expect(alert).to_contain_text("сообщение изменилось: «Согласовано» — Соколов Дмитрий Юрьевич")
    expect(alert).to_contain_text("Ваше действие не выполнено")
    stage_is(slow, "Утверждение")
    expect(slow.get_by_label("Текст ответа")).to_have_value("Мой вариант: кровля отремонтирована полностью.")
    expect(slow.get_by_role("button", name="Согласовать", exact=True)).to_have_count(0)
