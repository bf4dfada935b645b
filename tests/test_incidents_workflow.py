"""An incident's life on its short clock with the same service calls as a message, its public answer
(published by the adapter, failed and retried, published by hand), and its pages."""
from datetime import timedelta

import pytest
from sqlmodel import select

from pos.adapters import AdapterError, demo
from pos.models import HistoryEntry, Message, OutboxEvent, PublicReply, StageDeadline
from pos.services import deadlines, incidents, public_reply
from pos.services.messages import act
from pos.workflow import Action, Invalid, Stage
from tests.applicant_app import app, client, signed_in  # noqa: F401

POST = {"network": "demo", "url": "https://demo.example/posts/1", "author": "vasya_blag",
        "text": "Огромная яма на дороге у остановки, машины пробивают колёса",
        "published_at": "2026-12-01T10:00:00+09:00", "place": "г. Благовещенск, ул. Ленина, 5"}


def new_incident(session, env, **fields) -> Message:
    [result] = incidents.intake(session, env, [{**POST, **fields}])
    return session.get(Message, result.incident_id)


def to_approval(session, env, world, incident, text="Яма на ул. Ленина заделана 2 декабря.") -> Message:
    u = world.users
    incident.category_id, incident.subcategory_id = world.cat["roads"].id, world.sub["pothole"].id
    session.commit()
    act(session, env, u["moderator"], incident.id, Action.ACCEPT, {"organization_id": world.org["A"].id})
    act(session, env, u["a.coordinator"], incident.id, Action.ASSIGN_EXECUTOR, {"executor_id": u["a.executor"].id})
    act(session, env, u["a.executor"], incident.id, Action.PREPARE_ANSWER, world_answer(world, text))
    return incident


def world_answer(world, text):
    return {"result": "resolved", "answer_text": text, "executor_position": "Специалист",
            "executor_name": "Иванов Пётр Сергеевич", "approver_id": world.users["a.approver"].id}


@pytest.fixture
def answered(session, env, world):
    incident = to_approval(session, env, world, new_incident(session, env))
    act(session, env, world.users["a.approver"], incident.id, Action.APPROVE, {})
    return incident


def publication_row(session, incident) -> OutboxEvent:
    rows = session.exec(select(OutboxEvent)).all()
    [row] = [r for r in rows if r.payload.get("event") == public_reply.EVENT and r.payload["message_id"] == incident.id]
    return row


def test_the_whole_life_with_the_same_services_on_the_short_clock(session, env, world, answered):
    incident = answered
    assert incident.stage == Stage.ANSWERED and incident.kind == "incident"
    reply = public_reply.reply_of(session, incident.id)
    assert (reply.status, reply.text) == ("pending", "Яма на ул. Ленина заделана 2 декабря.")
    assert publication_row(session, incident).kind == "notify"
    actions = [h.action for h in session.exec(select(HistoryEntry).where(HistoryEntry.message_id == incident.id)
                                              .order_by(HistoryEntry.id))]
    assert actions == ["submit", "accept", "assign_executor", "prepare_answer", "approve"]
    # No letter to anybody: an incident has no applicant.
    assert all(not r.payload.get("to_applicant") for r in session.exec(select(OutboxEvent))
               if r.payload.get("message_id") == incident.id)


def test_an_incident_answer_is_due_within_a_working_day(session, env, world):
    incident = new_incident(session, env)
    message = world.message(Stage.MODERATION)
    assert incident.answer_due_at - incident.received_at <= timedelta(days=4)  # 8 working hours (weekends aside)
    assert message.answer_due_at - message.received_at >= timedelta(days=29)


def test_the_administrator_sets_the_incidents_clock_through_the_stage_deadline_service(session, env, world):
    incident, message = new_incident(session, env), world.message(Stage.MODERATION)
    before = message.answer_due_at
    changed = deadlines.set_stage_rule(session, env, "answer", 2, "working_days", kind="incident")
    session.refresh(incident)
    session.refresh(message)
    assert changed == 1 and message.answer_due_at == before
    assert session.exec(select(StageDeadline).where(StageDeadline.kind == "incident")).one().stage == "answer"
    entry = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == incident.id,
                                                    HistoryEntry.action == "deadlines_recomputed")).one()
    assert "срок ответа на инцидент" in entry.details["reason"]
    with pytest.raises(ValueError, match="Неизвестный этап"):
        deadlines.set_stage_rule(session, env, "answer", 2, "working_days")  # not for official messages


def test_personal_data_in_the_public_answer_is_refused_at_approval_too(session, env, world):
    incident = to_approval(session, env, world, new_incident(session, env))
    with pytest.raises(Invalid, match="адрес электронной почты"):
        act(session, env, world.users["a.approver"], incident.id, Action.APPROVE,
            {"answer_text": "Пишите на boss@minroads.ru"})


def test_the_adapter_publishes_and_the_result_is_recorded(session, env, world, answered, tmp_path):
    (tmp_path / "net").mkdir()
    cfg = {"INCIDENT_PUBLISHERS": "demo=demo", "DEMO_PUBLISH_DIR": str(tmp_path / "net")}
    url = public_reply.publish(session, cfg, publication_row(session, answered))
    reply = public_reply.reply_of(session, answered.id)
    assert (reply.status, reply.reply_url, reply.attempts) == ("published", url, 1)
    assert demo.recorded(str(tmp_path / "net")) == [{"post_url": POST["url"], "text": reply.text, "reply_url": url}]
    assert public_reply.publish(session, cfg, publication_row(session, answered)) == "nothing to publish"
    assert len(demo.recorded(str(tmp_path / "net"))) == 1


def test_a_failed_publication_records_the_reason_and_a_retry_publishes(session, env, world, answered, tmp_path):
    cfg = {"INCIDENT_PUBLISHERS": "demo=demo", "DEMO_PUBLISH_DIR": str(tmp_path / "net")}
    with pytest.raises(AdapterError):
        public_reply.publish(session, cfg, publication_row(session, answered))
    reply = public_reply.reply_of(session, answered.id)
    assert reply.status == "failed" and "недоступна" in reply.error
    failed = session.exec(select(HistoryEntry).where(HistoryEntry.action == public_reply.H_FAILED)).one()
    assert "недоступна" in failed.details["reason"]
    (tmp_path / "net").mkdir()
    public_reply.publish(session, cfg, publication_row(session, answered))
    assert (reply.status, reply.attempts, reply.error) == ("published", 2, "")


def test_a_network_without_an_adapter_fails_with_the_reason(session, env, world, answered):
    with pytest.raises(AdapterError, match="вручную"):
        public_reply.publish(session, {"INCIDENT_PUBLISHERS": ""}, publication_row(session, answered))


def test_an_operator_marks_it_published_by_hand(session, env, world, answered):
    u = world.users
    with pytest.raises(PermissionError):
        public_reply.mark_published(session, u["a.executor"], answered.id, "https://vk.com/wall1_2?reply=3")
    with pytest.raises(ValueError, match="http"):
        public_reply.mark_published(session, u["moderator"], answered.id, "вот тут")
    reply = public_reply.mark_published(session, u["a.coordinator"], answered.id, "https://vk.com/wall1_2?reply=3")
    assert (reply.status, reply.published_by_id) == ("manual", u["a.coordinator"].id)
    with pytest.raises(ValueError, match="уже опубликован"):
        public_reply.mark_published(session, u["moderator"], answered.id, "https://vk.com/x")
    assert public_reply.publish(session, {}, publication_row(session, answered)) == "nothing to publish"


# --- pages ----------------------------------------------------------------------------

def test_the_incident_page_shows_its_posts_and_the_handle_only_to_who_may_see_applicants(app, session, env, world):
    incident = new_incident(session, env)
    html = signed_in(app, "moderator").get(f"/staff/messages/{incident.id}").get_data(as_text=True)
    assert f"Инцидент {incident.number}" in html and "интернет" in html
    assert POST["url"] in html and "vasya_blag" in html
    assert "Не требует ответа" in html and "Объединить инциденты" in html
    analyst = signed_in(app, "analyst").get(f"/staff/messages/{incident.id}")
    assert "vasya_blag" not in analyst.get_data(as_text=True)


def test_close_as_needing_no_answer_from_the_page(app, session, env, world):
    incident = new_incident(session, env)
    client = signed_in(app, "moderator")
    empty = client.post(f"/staff/messages/{incident.id}/close_no_answer",
                        data={"close_no_answer-version": incident.version, "close_no_answer-comment": ""})
    assert empty.status_code == 422 and "Заполните поле «Комментарий»" in empty.get_data(as_text=True)
    done = client.post(f"/staff/messages/{incident.id}/close_no_answer",
                       data={"close_no_answer-version": incident.version,
                             "close_no_answer-comment": "Поздравление с праздником"})
    assert done.status_code == 303
    session.refresh(incident)
    assert incident.stage == Stage.CLOSED
    page = client.get(f"/staff/messages/{incident.id}").get_data(as_text=True)
    assert "не требует ответа" in page and "Поздравление с праздником" in page


def test_merge_and_move_out_from_the_page(app, session, env, world):
    first = new_incident(session, env)
    second = new_incident(session, env, url="https://demo.example/posts/2", place="ул. Мира, 1")
    client = signed_in(app, "moderator")
    response = client.post(f"/staff/messages/{first.id}/merge", data={"other_number": second.number,
                                                                     "version": first.version})
    assert response.status_code == 303
    assert len(incidents.posts_of(session, first.id)) == 2
    page = client.get(f"/staff/messages/{first.id}").get_data(as_text=True)
    assert "Присоединён инцидент" in page and second.number in page
    bad = client.post(f"/staff/messages/{first.id}/merge", data={"other_number": "нет такого"},
                      headers={"HX-Request": "true", "HX-Target": "card"})
    assert bad.status_code == 422 and "не найден" in bad.get_data(as_text=True)
    post = incidents.posts_of(session, first.id)[1]
    moved = client.post(f"/staff/messages/{first.id}/posts/{post.id}/move-out")
    assert moved.status_code == 303
    assert len(incidents.posts_of(session, first.id)) == 1
    forbidden = signed_in(app, "a.coordinator").post(f"/staff/messages/{first.id}/merge",
                                                      data={"other_number": second.number})
    assert forbidden.status_code in (403, 404)


def test_the_reply_and_marking_it_by_hand_on_the_page(app, session, env, world, answered):
    client = signed_in(app, "moderator")
    page = client.get(f"/staff/messages/{answered.id}").get_data(as_text=True)
    assert "Публичный ответ" in page and "Ожидает публикации" in page
    bad = client.post(f"/staff/messages/{answered.id}/reply/manual", data={"reply_url": "нет"})
    assert bad.status_code == 303
    assert public_reply.reply_of(session, answered.id).status == "pending"
    client.post(f"/staff/messages/{answered.id}/reply/manual", data={"reply_url": "https://vk.com/wall1_2?reply=9"})
    page = client.get(f"/staff/messages/{answered.id}").get_data(as_text=True)
    assert "Опубликован вручную" in page and "https://vk.com/wall1_2?reply=9" in page


def test_the_inbox_filters_by_kind_and_flags_incidents(app, session, env, world):
    incident = new_incident(session, env)
    message = world.message(Stage.MODERATION)
    client = signed_in(app, "moderator")
    only = client.get("/staff/?kind=incident").get_data(as_text=True)
    assert incident.number in only and message.number not in only and "инцидент · интернет" in only
    official = client.get("/staff/?kind=message").get_data(as_text=True)
    assert message.number in official and incident.number not in official
    by_source = client.get("/staff/?source=internet").get_data(as_text=True)
    assert incident.number in by_source and message.number not in by_source


def test_incidents_are_not_in_the_open311_api(client, session, env, world):
    incident = new_incident(session, env)
    body = client.get(f"/open311/v2/requests/{incident.number}.json")
    assert body.status_code == 404
    listing = client.get("/open311/v2/requests.json").get_data(as_text=True)
    assert incident.number not in listing and "vasya_blag" not in listing


def test_a_publication_that_gave_up_is_on_the_failures_page_and_can_be_sent_again(app, session, env, world,
                                                                                   answered):
    row = publication_row(session, answered)
    row.status, row.last_error, row.attempts = "failed", "AdapterError: Демо-сеть недоступна", 5
    session.commit()
    client = signed_in(app, "admin")
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert "публикация ответа на инцидент" in page and "Демо-сеть недоступна" in page
    assert client.post(f"/staff/outbox/{row.id}/retry").status_code == 303
    session.refresh(row)
    assert row.status == "pending" and row.attempts == 0
