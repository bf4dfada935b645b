"""The inbox queries behind the staff views: scope per role, visibility, filters, keyset pages."""
from __future__ import annotations

from datetime import timedelta

from pos import clock
from pos.services import inbox
from pos.services.directory import actor_for, load_policy
from pos.workflow import Action, Stage


def _page(world, login, role, org=None, filters=inbox.Filters(), now=None, **kwargs):
    actor = actor_for(world.session, world.u(login))
    org_id = world.org[org].id if org else None
    return inbox.inbox(world.session, actor, role, org_id, filters, now=now or clock.now(),
                       policy=load_policy(world.session, "Asia/Yakutsk"), **kwargs)


def _ids(page):
    return [row.message.id for row in page.rows]


def test_keyset_pages_walk_forward_and_back_without_gaps(world):
    made = [world.message(Stage.COORDINATION, text=f"Яма номер {i}").id for i in range(7)]
    first = _page(world, "a.coordinator", "coordinator", "A", page_size=3)
    second = _page(world, "a.coordinator", "coordinator", "A", page_size=3, after=first.next_cursor)
    third = _page(world, "a.coordinator", "coordinator", "A", page_size=3, after=second.next_cursor)
    assert [len(p.rows) for p in (first, second, third)] == [3, 3, 1]
    assert first.prev_cursor is None and third.next_cursor is None
    walked = _ids(first) + _ids(second) + _ids(third)
    assert sorted(walked) == sorted(made)
    dues = [row.message.stage_due_at for p in (first, second, third) for row in p.rows]
    assert dues == sorted(dues)  # the most urgent first
    back = _page(world, "a.coordinator", "coordinator", "A", page_size=3, before=third.prev_cursor)
    assert _ids(back) == _ids(second)
    assert first.total == 7 and not first.total_capped


def test_each_role_sees_what_waits_for_it_and_nothing_outside_its_organization(world):
    in_a = world.message(Stage.COORDINATION)
    in_b = world.message(Stage.COORDINATION, org="B", sub="heating")
    approval = world.message(Stage.APPROVAL, agreeing=())
    agreement = world.message(Stage.AGREEMENT, agreeing=("a.head1",))
    assert in_a.id in _ids(_page(world, "a.coordinator", "coordinator", "A"))
    assert in_b.id not in _ids(_page(world, "a.coordinator", "coordinator", "A"))
    assert _ids(_page(world, "a.approver", "head", "A")) == [approval.id]
    assert _ids(_page(world, "a.head1", "head", "A")) == [agreement.id]
    assert agreement.id not in _ids(_page(world, "a.approver", "head", "A"))  # not his turn yet
    curated = _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(stage=inbox.ALL)))
    assert {in_a.id, approval.id, agreement.id} <= set(curated) and in_b.id not in curated
    actor = actor_for(world.session, world.u("b.coordinator"))
    assert inbox.can_view(world.session, actor, in_b.id) and not inbox.can_view(world.session, actor, in_a.id)
    assert inbox.can_view(world.session, actor_for(world.session, world.u("moderator")), in_b.id)


def test_curator_filters_the_subtree_overdue_and_search(world):
    sub_org = world.submit(org="A1", text="Разбит асфальт у въезда")
    world.act("moderator", sub_org, Action.ACCEPT)
    fresh = world.message(Stage.COORDINATION, text="Свежее сообщение")
    subtree = _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(organization_id=world.org["A1"].id)))
    assert subtree == [sub_org.id]
    later = clock.now() + timedelta(days=5)  # coordination takes one working day
    overdue = _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(deadline="overdue"), now=later))
    assert {sub_org.id, fresh.id} <= set(overdue)
    assert _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(deadline="overdue"))) == []
    found = _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(q="асфальт")))
    assert found == [sub_org.id]
    assert _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(q="АСФАЛЬТ"))) == [sub_org.id]
    number = world.reload(fresh).number
    assert _ids(_page(world, "a.curator", "curator", "A", inbox.Filters(q=number))) == [fresh.id]


def test_pages_of_every_stage_walk_from_the_messages_in_work_into_the_finished_and_back(world):
    """The page that ends the messages in work goes on with the finished ones, forward and back."""
    in_work = [world.message(Stage.COORDINATION, text=f"Яма номер {i}").id for i in range(4)]
    finished = [world.message(Stage.ANSWERED, text=f"Убрано {i}").id for i in range(4)]
    every = inbox.Filters(stage=inbox.ALL)

    def page(**kwargs):
        return _page(world, "analyst", "analyst", filters=every, page_size=3, **kwargs)

    first = page()
    second = page(after=first.next_cursor)
    third = page(after=second.next_cursor)
    assert [len(p.rows) for p in (first, second, third)] == [3, 3, 2]
    walked = _ids(first) + _ids(second) + _ids(third)
    assert sorted(walked[:4]) == sorted(in_work) and sorted(walked[4:]) == sorted(finished)
    assert first.prev_cursor is None and third.next_cursor is None and second.prev_cursor and second.next_cursor
    assert first.total == 8 and not first.total_capped and third.total == 8
    assert _ids(page(before=third.prev_cursor)) == _ids(second)
    back = page(before=second.prev_cursor)
    assert _ids(back) == _ids(first) and back.prev_cursor is None
    # A cursor past the end: no rows, the count still told.
    past = page(after=inbox.encode_cursor(third.rows[-1].message))
    assert past.rows == [] and past.total == 8 and past.prev_cursor is None
