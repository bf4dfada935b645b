"""The administrator sets stage deadlines and corrects the calendar; active messages follow, on the record."""
from datetime import date

import pytest
from sqlmodel import Session, select

from pos.db import make_engine
from pos.models import HistoryEntry, Message, StageDeadline
from pos.services.deadlines import RECOMPUTED, set_calendar_day, set_stage_rule
from pos.workflow import Stage
from tests.test_seed_cli import make_app, run


def _recomputed(world, message):
    return [h for h in world.history(message) if h.action == RECOMPUTED]


def test_a_shorter_execution_stage_moves_the_deadline_and_records_why(world, env):
    message = world.message(Stage.EXECUTION)
    before = message.stage_due_at
    assert set_stage_rule(world.session, env, "execution", 2, "working_days") >= 1
    message = world.reload(message)
    assert message.stage_due_at < before
    [entry] = _recomputed(world, message)
    assert entry.details["reason"] == "изменён срок этапа: 2 рабочих дней"
    assert entry.details["stage_due"]["to"] == message.stage_due_at.isoformat(sep=" ", timespec="minutes")


def test_a_rule_for_one_jurisdiction_leaves_the_other_alone(world, env):
    region = world.message(Stage.EXECUTION, org="A")
    city = world.message(Stage.EXECUTION, org="city")
    city_due = city.stage_due_at
    set_stage_rule(world.session, env, "execution", 1, "working_hours", world.org["region"].id)
    assert world.reload(region).stage_due_at < world.reload(city).stage_due_at == city_due
    rows = world.session.exec(select(StageDeadline)).all()
    assert [(r.jurisdiction_id, r.stage, r.amount, r.unit) for r in rows] == [
        (world.org["region"].id, "execution", 1, "working_hours")]


@pytest.mark.parametrize("args, error", [
    (("answered", 1, "working_days"), "Неизвестный этап"),
    (("execution", 0, "working_days"), "от 1 до 1000"),
    (("execution", 3, "weeks"), "Единица срока"),
])
def test_bad_stage_rules_are_refused_and_nothing_is_saved(world, env, args, error):
    with pytest.raises(ValueError, match=error):
        set_stage_rule(world.session, env, *args)
    assert world.session.exec(select(StageDeadline)).all() == []


def test_a_stage_rule_only_for_a_jurisdiction_root(world, env):
    with pytest.raises(ValueError, match="корневую"):
        set_stage_rule(world.session, env, "execution", 3, "working_days", world.org["A"].id)


def test_a_regional_day_off_pushes_working_day_deadlines_and_reset_brings_them_back(world, env):
    message = world.message(Stage.COORDINATION)  # 1 working day
    due = message.stage_due_at
    local_due_day = due.astimezone(env_tz(env)).date()
    set_calendar_day(world.session, env, local_due_day, False, "региональный выходной")
    moved = world.reload(message).stage_due_at
    assert moved > due
    set_calendar_day(world.session, env, local_due_day, None)
    assert world.reload(message).stage_due_at == due
    assert len(_recomputed(world, message)) == 2


def env_tz(env):
    from zoneinfo import ZoneInfo
    return ZoneInfo(env.timezone)


def test_the_commands(fresh_database, tmp_path):
    app = make_app(fresh_database, tmp_path)
    run(app, "seed")
    out = run(app, "set-stage-deadline", "--stage", "agreement", "--amount", "3", "--unit", "working_days").output
    assert "Срок этапа сохранён" in out
    assert "Укажите корневую" in run(app, "set-stage-deadline", "--stage", "agreement", "--amount", "3", "--unit",
                                     "working_days", "--jurisdiction", "2", ok=False).output
    assert "Календарь изменён" in run(app, "calendar-day", "2026-12-30", "--day-off", "--note", "тест").output
    assert run(app, "calendar-day", "2026-12-30", ok=False).exit_code != 0
    with Session(make_engine(fresh_database)) as session:
        agreement = session.exec(select(Message).where(Message.stage == Stage.AGREEMENT)).first()
        reasons = [h.details.get("reason") for h in session.exec(
            select(HistoryEntry).where(HistoryEntry.message_id == agreement.id, HistoryEntry.action == RECOMPUTED))]
        assert "изменён срок этапа: 3 рабочих дней" in reasons


def test_the_commands_are_in_the_change_log_as_the_command_line(fresh_database, tmp_path):
    from pos.models import AdminChange
    app = make_app(fresh_database, tmp_path)
    run(app, "seed", "--classifier-only")
    root = int(run(app, "create-org", "--name", "Администрация города Свободного", "--kind", "municipal_admin",
                   "--regulation", "amur-232").output)
    run(app, "set-stage-deadline", "--stage", "execution", "--amount", "5", "--unit", "working_days",
        "--jurisdiction", str(root))
    run(app, "set-stage-deadline", "--stage", "execution", "--amount", "4", "--unit", "working_days",
        "--jurisdiction", str(root))
    run(app, "calendar-day", "2026-12-30", "--day-off", "--note", "тест")
    with Session(make_engine(fresh_database)) as session:
        rows = session.exec(select(AdminChange).order_by(AdminChange.id)).all()
    assert [(r.entity, r.action, r.actor_id) for r in rows] == [
        ("organization", "create", None), ("stage_deadline", "set", None), ("stage_deadline", "set", None),
        ("calendar_day", "set", None)]
    assert (rows[2].old, rows[2].new["amount"]) == ({"amount": 5, "unit": "working_days"}, 4)
    assert rows[3].new == {"is_working": False, "note": "тест"}
