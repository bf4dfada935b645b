"""Bulk actions from the inbox: each message through the same service call as a single action, with the
version its row was shown at; the result says which succeeded and which were refused, and why."""
from __future__ import annotations

import re
from urllib.parse import unquote

from sqlmodel import select

from pos.models import HistoryEntry, Message, OutboxEvent, StageVisit
from pos.services import bulk
from pos.workflow import Action, Stage
from tests.staff_app import StaffApp, staff_app  # noqa: F401


# --- the service: 50 at once, two changed meanwhile -------------------------------------------

def test_fifty_accepted_at_once_with_two_changed_meanwhile(world):
    shown = [world.message(Stage.MODERATION, text=f"Яма {i}") for i in range(50)]
    picked = [(m.id, m.version) for m in shown]  # what the moderator's page showed
    # Meanwhile another moderator changes two of them: one accepted, one rejected.
    world.act("moderator", shown[7], Action.ACCEPT)
    world.act("moderator", shown[31], Action.REJECT, reason="б")
    items = bulk.apply(world.session, world.env, world.u("moderator"), Action.ACCEPT, picked, {})
    assert [i.message_id for i in items] == [m.id for m in shown]  # in the page's order
    done = [i for i in items if i.done]
    refused = [i for i in items if not i.done]
    assert len(done) == 48
    assert [(i.message_id, i.changed) for i in refused] == [(shown[7].id, True), (shown[31].id, True)]
    assert "Сообщение изменилось: «Принято на этап координации» — Сотрудник moderator" in refused[0].reason
    assert "«Отклонено модератором»" in refused[1].reason
    world.session.expire_all()
    for item in items:
        message = world.session.get(Message, item.message_id)
        accepts = world.session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                                HistoryEntry.action == Action.ACCEPT)).all()
        if item.message_id == shown[31].id:
            assert message.stage == Stage.REJECTED and accepts == []  # left as the other moderator left it
            continue
        # Accepted once (by the bulk, or by the other moderator for shown[7]), never twice; its history,
        # its stage passage and its notifications (the applicant's, the coordinators') in place.
        assert message.stage == Stage.COORDINATION and message.organization_id == world.org["A"].id
        [entry] = accepts
        events = world.session.exec(select(OutboxEvent).where(
            OutboxEvent.idempotency_key.startswith(f"notify:{entry.id}:"))).all()
        assert sorted(e.payload["event"] for e in events) == ["accepted", "inbox"]
        assert all(e.payload["message_id"] == message.id for e in events)
        assert world.session.exec(select(StageVisit).where(StageVisit.message_id == message.id,
                                                           StageVisit.stage == Stage.COORDINATION)).first()


def test_refusals_name_their_reason_and_leave_the_message_as_it_was(world):
    unclassified = world.message(Stage.MODERATION, sub=None)  # no category: «Принять» needs one
    routed = world.message(Stage.MODERATION)
    elsewhere = world.message(Stage.COORDINATION, org="B", sub="heating")
    items = bulk.apply(world.session, world.env, world.u("moderator"), Action.ACCEPT,
                       [(unclassified.id, unclassified.version), (routed.id, routed.version),
                        (elsewhere.id, elsewhere.version)], {})
    assert [(i.done, i.changed) for i in items] == [(False, False), (True, False), (False, False)]
    assert items[0].reason == "Выберите категорию сообщения."
    assert "недоступно на этапе «Координация»" in items[2].reason
    assert world.reload(unclassified).stage == Stage.MODERATION
    # A coordinator cannot reach another organization's message by its id: not found, not even its number.
    [item] = bulk.apply(world.session, world.env, world.u("a.coordinator"), Action.ASSIGN_EXECUTOR,
                        [(elsewhere.id, elsewhere.version)], {"executor_id": world.uid("a.executor")})
    assert (item.done, item.number, item.reason) == (False, "", "Сообщение не найдено.")


# --- the views ------------------------------------------------------------------------------

def _moderation_page(staff_app: StaffApp, texts: list[str]) -> list[Message]:
    return [staff_app.new_message(t) for t in texts]


def _picks(html: str) -> list[str]:
    return re.findall(r'name="m" value="(\d+:\d+)"', html)


def test_the_moderator_accepts_the_checked_rows_and_sees_the_result(staff_app):
    made = _moderation_page(staff_app, [f"Массовое принятие {i}." for i in range(3)])
    client = staff_app.client("moderator")
    html = client.get("/staff/?q=Массовое").get_data(as_text=True)
    assert 'aria-label="Действия с выбранными сообщениями"' in html and "Выбрать все на странице" in html
    assert ">Принять</button>" in html and ">Изменить исполнителя</button>" in html
    picks = _picks(html)
    assert len(picks) == 3
    response = client.post("/staff/bulk", data={"action": "accept", "m": picks[:2], "back": "/staff/?q=Массовое"})
    assert response.status_code == 303 and response.location.endswith("/staff/bulk/result")
    result = client.get("/staff/bulk/result").get_data(as_text=True)
    assert "Результат: «Принять»" in result and "Выполнено: 2. Не выполнено: 0." in result
    assert 'href="/staff/?q=Массовое"' in result
    stages = sorted(staff_app.message(m.id).stage for m in made)
    assert stages == [Stage.COORDINATION, Stage.COORDINATION, Stage.MODERATION]
    # The same rows again (a second tab, the Back button): changed meanwhile, refused with the reason.
    client.post("/staff/bulk", data={"action": "accept", "m": picks[:2]})
    result = client.get("/staff/bulk/result").get_data(as_text=True)
    assert "Выполнено: 0. Не выполнено: 2." in result and result.count("изменено другим") == 2
    assert "Сообщение изменилось: «Принято на этап координации» — Орлова Марина Сергеевна" in result


def test_select_all_on_the_page_without_javascript_and_with_htmx(staff_app):
    made = _moderation_page(staff_app, [f"Все на странице {i}." for i in range(4)])
    client = staff_app.client("moderator")
    html = client.get("/staff/?q=странице").get_data(as_text=True)
    # Without JavaScript: the «select all» checkbox is submitted with the form, and the page's rows with it.
    assert 'name="all_on_page"' in html
    page_rows = re.findall(r'name="page" value="(\d+:\d+)"', html)
    assert len(page_rows) == 4
    # With htmx the same checkbox ticks every row (the rows come back checked; «select all» no longer posts).
    rows = client.get("/staff/?q=странице&pick=all", headers={"HX-Request": "true", "HX-Target": "rows"})
    fragment = rows.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="rows">')
    assert len(re.findall(r'name="m" value="\d+:\d+"\s+id="pick-\d+"\s+aria-label="[^"]+" checked', fragment)) == 4
    assert 'name="all_on_page"' not in fragment and "pick=all" not in fragment.split("Выбрать все")[0][-400:]
    orgs = re.findall(r'<option value="(\d+)">([^<]+)</option>', html.split('id="to_organization_id"')[1].split("</select>")[0])
    target = next(value for value, label in orgs if "Минтранс" in label)
    response = client.post("/staff/bulk", data={"action": "change_organization", "all_on_page": "y",
                                                "page": page_rows, "to_organization_id": target})
    assert response.status_code == 303
    result = client.get("/staff/bulk/result").get_data(as_text=True)
    assert "Результат: «Изменить исполнителя»" in result and "Выполнено: 4. Не выполнено: 0." in result
    assert {staff_app.message(m.id).organization_id for m in made} == {int(target)}


def test_the_coordinator_assigns_one_executor_to_many(staff_app):
    made = [staff_app.new_message(f"Назначить многим {i}.", steps=[("moderator", "accept", {})]) for i in range(3)]
    client = staff_app.client("zhkh.coordinator")
    html = client.get("/staff/?q=многим").get_data(as_text=True)
    assert ">Назначить исполнителя</button>" in html and ">Принять</button>" not in html
    executor = staff_app.user("zhkh.executor")
    assert f'<option value="{executor.id}">' in html
    client.post("/staff/bulk", data={"action": "assign_executor", "m": _picks(html), "to_executor_id": executor.id})
    result = client.get("/staff/bulk/result").get_data(as_text=True)
    assert "Выполнено: 3. Не выполнено: 0." in result
    for m in made:
        message = staff_app.message(m.id)
        assert (message.stage, message.executor_id) == (Stage.EXECUTION, executor.id)


def test_bulk_refuses_bad_input_clearly(staff_app):
    made = _moderation_page(staff_app, ["Плохой ввод."])
    client = staff_app.client("moderator")
    pick = f"{made[0].id}:{made[0].version}"
    # Nothing picked, or no organization for «Изменить исполнителя»: back to the list with the reason.
    response = client.post("/staff/bulk", data={"action": "accept", "back": "/staff/?q=ввод"})
    assert response.status_code == 303 and unquote(response.location).endswith("/staff/?q=ввод")
    assert "Отметьте сообщения" in client.get(response.location).get_data(as_text=True)
    response = client.post("/staff/bulk", data={"action": "change_organization", "m": [pick]}, follow_redirects=True)
    assert "Выберите организацию для выбранных сообщений." in response.get_data(as_text=True)
    for data in ({"action": "accept", "m": ["1e9:1"]}, {"action": "accept", "m": ["abc"]},
                 {"action": "accept", "m": [f"{2**40}:1"]}, {"action": "nothing", "m": [pick]}):
        response = client.post("/staff/bulk", data=data)
        assert response.status_code == 400, data
        assert "Неверн" in response.get_data(as_text=True) or "Выберите действие" in response.get_data(as_text=True)
    # Another role's action, or a role with no bulk action at all.
    assert client.post("/staff/bulk", data={"action": "assign_executor", "m": [pick]}).status_code == 403
    assert staff_app.client("zhkh.executor").post("/staff/bulk", data={"action": "accept", "m": [pick]}) \
        .status_code == 403
    assert staff_app.message(made[0].id).stage == Stage.MODERATION
