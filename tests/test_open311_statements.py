"""One Open311 `POST requests` costs a constant, small number of SQL statements, whatever the database
holds: the key with the service, the deadline policy, the route (with the accelerated list), then one INSERT
per row written (the message's own takes its new id and writes its number, no UPDATE after it; on PostgreSQL
one for the rows after the message). And the directory that answers the workflow looks up a few organizations one by
one, then all of them in one statement."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, insert, text
from sqlmodel import select

from pos import clock
from pos.models import Message, Organization
from pos.services import open311
from pos.services.directory import DbDirectory, load_policy
from tests.applicant_app import app, client  # noqa: F401

# What one POST reads: the API key with the service and its category (one statement), the token of the
# directory the process keeps (pos.services.reference). The calendar with the stage deadlines, and the competent
# organizations with their jurisdiction and whether the subcategory is accelerated there, are kept: read by the
# first POST of the service only. The new id is taken in the message's INSERT.
READS = 2
# What it writes: the message, its history entry, its answer period and its stage passage (+ the author's contact);
# on PostgreSQL the entry, the period and the passage in one statement (pos.services.facts.record_new).
WRITES = {"sqlite": 4, "postgresql": 2}


@contextmanager
def counted(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(" ".join(statement.split()))  # the test's commits are savepoints: left out

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def key(session, world):
    return open311.create_client(session, "Счёт запросов")[1]


def _post(client, session, world, key, i: int, contact: bool):
    data = {"api_key": key, "service_code": str(world.sub["pothole" if i % 2 else "heating"].id),
            "description": f"Яма у дома {i}", "address_string": f"г. Благовещенск, ул. Ленина, {i}"}
    if contact:
        data.update(last_name="Петров", first_name="Иван", email=f"petrov{i}@example.ru")
    session.expunge_all()  # nothing from the test's own reads: the request finds what it needs itself
    response = client.post("/open311/v2/requests.json", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()[0]["service_request_id"]


@pytest.mark.parametrize("contact", [False, True], ids=["anonymous", "with contact"])
def test_one_post_costs_the_same_few_statements_at_5_and_at_50_messages(client, session, world, key, engine,
                                                                       contact):
    for i in (0, 1):  # the first POST of each service reads the policy and the route, which the process keeps
        _post(client, session, world, key, i, contact)
    costs = []
    for target in (5, 50):
        while session.exec(select(func.count()).select_from(Message)).one() < target:
            world.submit(sub="pothole" if target % 2 else "heating")  # the others of the database, not POSTs
        with counted(engine) as statements:
            number = _post(client, session, world, key, target, contact)
        costs.append(statements)
        inserts = [s for s in statements if s.upper().startswith(("INSERT", "WITH"))]
        writes = WRITES[engine.dialect.name]
        assert len(statements) == READS + writes + contact, "\n".join(statements)
        assert len(inserts) == writes + contact
        assert not [s for s in statements if s.upper().startswith("UPDATE")]  # the number is in the INSERT
        message_insert = next(s for s in inserts if s.startswith("INSERT INTO message "))
        assert "number" in message_insert.split("SELECT")[0]
        session.expunge_all()
        message = session.exec(select(Message).where(Message.number == number)).one()
        assert number == f"ПОС-{message.received_at.year}-{message.id:06d}" and message.version == 1
    assert len(costs[0]) == len(costs[1])


def test_the_directory_looks_a_few_up_then_loads_every_organization_at_once(session, env, world, engine):
    orgs = session.exec(select(Organization).order_by(Organization.id)).all()
    assert len(orgs) > DbDirectory.FEW + 2
    ctx = DbDirectory(session, clock.now(), load_policy(session, env.timezone))
    with counted(engine) as statements:
        answers = {o.id: ctx.org(o.id) for o in orgs}
        assert ctx.org(10**9) is None
    # A few one by one (or none: kept by the process, after the token of what it keeps), then all at once.
    looked = [s for s in statements if "reference_version" not in s]
    assert 1 <= len(looked) <= DbDirectory.FEW + 1, "\n".join(statements)
    assert "organization.id = " not in looked[-1] and len(statements) - len(looked) <= 1
    for o in orgs:
        root = session.get(Organization, o.root_id or o.id)
        assert (answers[o.id].root_id, answers[o.id].regulation, answers[o.id].name) == (root.id, root.regulation,
                                                                                         o.name)


def test_a_directory_told_the_subcategory_knows_its_acceleration_from_the_organizations_look_up(session, env,
                                                                                                 world, engine):
    policy = load_policy(session, env.timezone)
    answers = []
    for sub in world.sub.values():
        told = DbDirectory(session, clock.now(), policy, subcategory_id=sub.id)
        asked = DbDirectory(session, clock.now(), policy)
        routed = told.route(sub.category_id)
        named = [told.org(org.id) for org in list(world.org.values())[:DbDirectory.FEW]]  # looked up one by one
        for jurisdiction in {info.root_id for info in named} | ({told.org(routed).root_id} if routed else set()):
            with counted(engine) as statements:
                answer = told.is_accelerated(sub.id, jurisdiction)
            assert not statements
            assert answer == asked.is_accelerated(sub.id, jurisdiction), (sub.name, jurisdiction)
            answers.append(answer)
    assert True in answers and False in answers


def test_the_number_has_six_digits_and_more_past_999999(client, session, world, key, engine):
    number = _post(client, session, world, key, 1, contact=False)
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert number == f"ПОС-{message.received_at.year}-{message.id:06d}" and len(number.rsplit("-", 1)[1]) == 6
    if engine.dialect.name == "postgresql":
        # A sequence is outside the test's transaction: set back afterwards for the tests after this one.
        set_to = "SELECT setval(pg_get_serial_sequence('message', 'id'), :value)"
        before = session.execute(text(f"SELECT last_value FROM {MESSAGE_SEQUENCE}")).scalar_one()
        session.execute(text(set_to), {"value": 1234566})
    else:  # the largest id plus one: a row of that id before it
        row = {c.key: getattr(message, c.key) for c in Message.__table__.columns}
        session.execute(insert(Message.__table__).values({**row, "id": 1234566, "number": "ПОС-старый",
                                                          "api_token": None, "form_token": None}))
    session.commit()
    try:
        number = _post(client, session, world, key, 2, contact=False)
    finally:
        if engine.dialect.name == "postgresql":
            session.execute(text(set_to), {"value": before})
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert (message.id, number) == (1234567, f"ПОС-{message.received_at.year}-1234567")


MESSAGE_SEQUENCE = "message_id_seq"
