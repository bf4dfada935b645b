"""Inbox search: Russian morphology, numbers and addresses, the person's scope, ranking, highlighting, and
the index kept in step when a text changes (SQLite FTS5 triggers, PostgreSQL's generated column)."""
from __future__ import annotations

from markupsafe import Markup

from pos import clock
from pos.services import inbox, search
from pos.services.directory import actor_for, load_policy
from pos.workflow import Action, Stage


def _found(world, login, role, q, org=None, stage=inbox.ALL, **kwargs):
    actor = actor_for(world.session, world.u(login))
    return inbox.inbox(world.session, actor, role, world.org[org].id if org else None,
                       inbox.Filters(stage=stage, q=q), now=clock.now(),
                       policy=load_policy(world.session, "Asia/Yakutsk"), **kwargs)


def _ids(page):
    return [row.message.id for row in page.rows]


def test_a_word_in_another_case_form_finds_the_message(world):
    entrance = world.message(Stage.COORDINATION, text="В подъезде не горит свет уже неделю")
    other = world.message(Stage.COORDINATION, text="Во дворе не вывозят мусор")
    for q in ("подъезд", "подъездов", "Подъезде", "ПОДЪЕЗДАМ"):
        assert _ids(_found(world, "a.curator", "curator", q, "A")) == [entrance.id], q
    assert other.id in _ids(_found(world, "a.curator", "curator", "мусора", "A"))
    assert _ids(_found(world, "a.curator", "curator", "подъезд свет", "A")) == [entrance.id]  # every word
    assert _ids(_found(world, "a.curator", "curator", "подъезд вода", "A")) == []


def test_a_message_is_found_by_its_whole_text_stop_words_and_proper_names_included(world):
    # «после» is never indexed by PostgreSQL's `russian` configuration, yet its other forms («посла», «посол»)
    # are words; «Кантемирова» is indexed as «кантемиров», whose own lemma is «кантемир» (the frequent words
    # link to the search with such lemmas).
    roof = world.message(Stage.COORDINATION, text="Крыша снова течёт после ремонта, дом ул. Кантемирова, 77")
    for q in ("Крыша снова течёт после ремонта, дом ул. Кантемирова, 77", "после ремонта", "кантемиров"):
        assert _ids(_found(world, "a.curator", "curator", q, "A")) == [roof.id], q


def test_a_number_joined_to_a_word_by_a_hyphen_is_found(world):
    # PostgreSQL's parser reads «дом-12» as «дом» and the signed number «-12»; the query asks for both readings
    # (an e2e tag «Пакет-123456», all digits by chance, once found nothing).
    house = world.message(Stage.COORDINATION, text="Пакет-123456: не вывезен мусор, дом-12")
    for q in ("Пакет-123456", "123456", "дом-12", "дом 12", "пакет 123456 мусор"):
        assert _ids(_found(world, "a.curator", "curator", q, "A")) == [house.id], q
    # A part of a hyphenated word that alone would read as a number and a word («63e7c9»: «63e7», «c9»).
    tagged = world.message(Stage.COORDINATION, text="Пакет-63e7c9: мусор не вывезен")
    assert _ids(_found(world, "a.curator", "curator", "Пакет-63e7c9", "A")) == [tagged.id]


def test_a_number_and_a_part_of_the_address_find_their_message(world):
    message = world.message(Stage.COORDINATION, text="Яма на дороге", address="ул. Ленина, 15")
    world.message(Stage.COORDINATION, text="Яма на дороге", address="ул. Мира, 2")
    number = world.reload(message).number
    assert _ids(_found(world, "a.curator", "curator", number, "A")) == [message.id]
    assert _ids(_found(world, "a.curator", "curator", number[-6:], "A")) == [message.id]  # its last digits
    assert _ids(_found(world, "a.curator", "curator", "Ленина", "A")) == [message.id]
    assert _ids(_found(world, "a.curator", "curator", "Ленина, 15", "A")) == [message.id]
    assert _ids(_found(world, "a.curator", "curator", "Мира, 15", "A")) == []


def test_a_word_outside_the_persons_scope_finds_nothing(world):
    elsewhere = world.message(Stage.COORDINATION, org="B", sub="heating", text="Холодные батареи в квартире")
    assert _ids(_found(world, "a.curator", "curator", "батареи", "A")) == []
    assert _ids(_found(world, "a.coordinator", "coordinator", "батареи", "A", stage="")) == []
    assert _ids(_found(world, "b.coordinator", "coordinator", "батарея", "B", stage="")) == [elsewhere.id]
    assert _ids(_found(world, "analyst", "analyst", "батарей")) == [elsewhere.id]


def test_the_answer_is_searched_once_written_and_the_best_match_comes_first(world):
    once = world.message(Stage.COORDINATION, text="Сломана скамейка, и ещё яма")
    twice = world.message(Stage.COORDINATION, text="Яма у школы, яма у сада, ямы повсюду")
    world.message(Stage.COORDINATION, text="Не работает фонарь")
    assert _ids(_found(world, "a.curator", "curator", "яма", "A")) == [twice.id, once.id]
    executing = world.message(Stage.EXECUTION)
    assert _ids(_found(world, "a.curator", "curator", "асфальтировано", "A")) == []
    world.act("a.executor", executing, Action.PREPARE_ANSWER,
              **world.answer_params(answer_text="Участок дороги асфальтирован."))
    assert _ids(_found(world, "a.curator", "curator", "асфальтировано", "A")) == [executing.id]


def test_search_pages_walk_forward_and_back_by_rank(world):
    made = {world.message(Stage.COORDINATION, text="Яма " * (i % 3 + 1) + f"номер {i}").id for i in range(7)}
    first = _found(world, "a.curator", "curator", "яма", "A", page_size=3)
    second = _found(world, "a.curator", "curator", "яма", "A", page_size=3, after=first.next_cursor)
    third = _found(world, "a.curator", "curator", "яма", "A", page_size=3, after=second.next_cursor)
    assert [len(p.rows) for p in (first, second, third)] == [3, 3, 1] and third.next_cursor is None
    assert set(_ids(first) + _ids(second) + _ids(third)) == made
    assert _ids(_found(world, "a.curator", "curator", "яма", "A", page_size=3, before=third.prev_cursor)) \
        == _ids(second)
    # A cursor of the inbox's order (or a tampered one) starts the search over, it does not fail.
    assert _ids(_found(world, "a.curator", "curator", "яма", "A", page_size=3, after="bm90IGEgY3Vyc29y")) \
        == _ids(first)


def test_a_rare_and_a_common_word_rank_the_same_newest_matches(world, monkeypatch):
    # Fewer matches than the cap: all of them, from the full-text index on PostgreSQL; more: the newest
    # COUNT_LIMIT + 1 through the primary key, the count said as «более».
    monkeypatch.setattr(inbox, "COUNT_LIMIT", 3)
    rare = [world.message(Stage.COORDINATION, text=f"Кинотеатр закрыт, зал {i}").id for i in range(2)]
    common = [world.message(Stage.COORDINATION, text=f"Подъезд не убран, этаж {i}").id for i in range(6)]
    found = _found(world, "a.curator", "curator", "кинотеатре", "A")
    assert sorted(_ids(found)) == sorted(rare) and (found.total, found.total_capped) == (2, False)
    found = _found(world, "a.curator", "curator", "подъезды", "A")
    assert sorted(_ids(found)) == sorted(common[-4:]) and (found.total, found.total_capped) == (3, True)


def test_the_matched_words_are_marked_and_the_rest_escaped(world):
    world.message(Stage.COORDINATION, text="Окна <b>разбиты</b> в подъездах дома & во дворе")
    row = _found(world, "a.curator", "curator", "подъезд", "A").rows[0]
    assert isinstance(row.snippet, Markup)
    assert str(row.snippet) == "Окна &lt;b&gt;разбиты&lt;/b&gt; в <mark>подъездах</mark> дома &amp; во дворе"


def test_a_long_text_is_cut_around_the_first_match():
    text = "Начало. " + "слово " * 60 + "Здесь лежит мусор у контейнера. " + "хвост " * 60
    snippet = str(search.highlight(text, "мусор"))
    assert "<mark>мусор</mark>" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) < search.SNIPPET + 40
    assert search.highlight(text, "вода") is None


def test_the_query_is_words_not_syntax(world):
    message = world.message(Stage.COORDINATION, text="Нет света на улице")
    for q in ('"свет', "свет*", "свет OR вода", "NEAR(свет)", "свет -", "%", "_", "\\", "'", "«свет»"):
        page = _found(world, "a.curator", "curator", q, "A")  # never an error
        assert page.rows == [] or _ids(page) == [message.id], q
    assert _ids(_found(world, "a.curator", "curator", "«света»", "A")) == [message.id]
