"""The most frequent problems (2.1.6) on hand-built messages: categories with the previous period, places
by settlement and street, lemmas of the texts; the address normalizer and the lemmas on their own."""
from __future__ import annotations

from fractions import Fraction

import pytest

from pos.services import analytics_problems as problems
from pos.services import lemmas
from pos.services.addresses import Place, place
from tests.analytics_data import Data, local


@pytest.fixture
def data(session):
    return Data(session)


# --- the address normalizer, on addresses as the seed and people write them -------------------------

@pytest.mark.parametrize("address, settlement, street", [
    ("г. Благовещенск, ул. Ленина, 12", "г. Благовещенск", "ул. Ленина"),
    ("г. Благовещенск, улица Ленина, д. 14", "г. Благовещенск", "ул. Ленина"),
    ("г.Благовещенск, ул.Ленина,  д.12, кв. 5", "г. Благовещенск", "ул. Ленина"),
    ("г. Благовещенск ул. Ленина д. 12", "г. Благовещенск", "ул. Ленина"),
    ("Благовещенск, Ленина 12", "Благовещенск", "Ленина"),
    ("675000, Амурская обл., г. Благовещенск, ул. Зейская, 140", "г. Благовещенск", "ул. Зейская"),
    ("г. Благовещенск, ул. 50 лет Октября", "г. Благовещенск", "ул. 50 лет Октября"),
    ("г. Благовещенск, ул. 50 лет Октября, 15", "г. Благовещенск", "ул. 50 лет Октября"),
    ("г. Тында, ул. Красная Пресня, 47", "г. Тында", "ул. Красная Пресня"),
    ("г. Тында ул. Красная Пресня 47", "г. Тында", "ул. Красная Пресня"),
    ("г. Тында, ул. Профсоюзная", "г. Тында", "ул. Профсоюзная"),
    ("Тында, Профсоюзная улица д.10", "Тында", "ул. Профсоюзная"),
    ("г. Благовещенск, ул. Ленина, 12/1 корп. 2", "г. Благовещенск", "ул. Ленина"),
    ("г. Благовещенск, проспект Ленина", "г. Благовещенск", "пр-т Ленина"),
    ("г. Благовещенск, Игнатьевское шоссе, 10", "г. Благовещенск", "ш. Игнатьевское"),
    ("пгт Новобурейский, ул. Советская 3", "пгт Новобурейский", "ул. Советская"),
    ("с. Ивановка, пер. Школьный, 2а", "с. Ивановка", "пер. Школьный"),
    ("д. Ключи, ул. Полевая, д.5", "д. Ключи", "ул. Полевая"),
    ("г. Тында, школа № 5", "г. Тында", "школа № 5"),  # a landmark: kept, its number too
    ("г. Благовещенск", "г. Благовещенск", ""),
    ("Тында", "Тында", ""),
    ("ул. Ленина, 12", "", "ул. Ленина"),
])
def test_an_address_reads_as_settlement_and_street(address, settlement, street):
    assert place(address) == Place(settlement, street)


def test_spellings_of_one_street_share_a_key_and_other_streets_do_not():
    same = ["г. Благовещенск, ул. Ленина, 12", "г. Благовещенск, улица Ленина, д. 14", "Благовещенск, ЛЕНИНА 3",
            "г.Благовещенск,  ул.  ленина,12", "город Благовещенск, Ленина улица, 7"]
    assert {place(a).key for a in same} == {("благовещенск", "ленина")}
    assert place("г. Благовещенск, пр-т Ленина, 3").key != place(same[0]).key  # another street
    assert place("г. Тында, ул. Ленина, 3").key != place(same[0]).key  # another town
    assert place("ул. Зелёная, 1").key == place("ул. Зеленая, 2").key  # «ё» folded


@pytest.mark.parametrize("address", ["", "   ", "12", "д. 5, кв. 3", "Амурская область"])
def test_an_address_without_a_place_is_none(address):
    assert place(address) is None


def test_the_inbox_search_of_a_place_is_its_street_name():
    assert place("г. Благовещенск, ул. 50 лет Октября, 15").search == "50 лет Октября"
    assert place("г. Тында").search == "Тында"


# --- lemmas -----------------------------------------------------------------------------------

def test_the_same_word_in_every_case_form_is_one_lemma():
    forms = ["мусор", "мусора", "мусору", "мусором", "мусоре", "Мусор", "МУСОРА"]
    assert {lemmas.lemma(w.casefold()) for w in forms} == {"мусор"}
    assert set(lemmas.message_lemmas("Трубы текут, труба старая, с трубой беда, о трубе забыли")) == \
        {"труба", "течь", "старый", "беда", "забыть"}


@pytest.mark.parametrize("word", ["не", "в", "во", "по", "и", "но", "что", "он", "мы", "этот", "наш", "три",
                                  "третий", "два", "ли", "бы", "ул", "просим", "пожалуйста"])
def test_stop_words_pronouns_numerals_and_particles_are_left_out(word):
    assert lemmas.lemma(word) is None


def test_a_word_counts_once_per_message():
    counts, forms = lemmas.count(["Мусор, мусор и ещё раз мусор", "Не вывозят мусора", "Двор чистый"])
    assert counts["мусор"] == 2
    assert counts["двор"] == 1
    assert forms["мусор"] == {"мусор": 1, "мусора": 1}  # the first form in each text
    assert lemmas.search_stem("мусор", forms["мусор"]) == "мусор"


def test_the_search_of_a_word_is_what_its_forms_begin_with():
    assert lemmas.search_stem("труба", {"трубы": 2, "трубой": 1}) == "труб"
    assert lemmas.search_stem("яма", {"яма": 1}) == "яма"
    # Forms that part early: the most frequent one, «ё» kept as the text has it.
    assert lemmas.search_stem("идти", {"идёт": 2, "идут": 1}) == "идёт"
    assert lemmas.message_lemmas("Вода идёт по стенам") == {"вода": "вода", "идти": "идёт", "стена": "стенам"}


# --- the page's figures --------------------------------------------------------------------------

def test_categories_ranked_with_the_previous_period(session, data):
    d = data
    for at in (local(11, 11, 0, 0), local(11, 15), local(11, 20, 23, 59)):  # the period's edges are in
        d.message(at, org=d.transport, sub="pothole")
    d.message(local(11, 5), org=d.transport, sub="pothole")
    d.message(local(11, 1, 0, 0), org=d.transport, sub="snow")
    d.message(local(11, 10, 23, 59), org=d.transport, sub="snow")
    d.message(local(11, 12), org=d.housing, sub="heating")
    d.message(local(11, 13), org=d.housing, sub="heating")
    d.message(local(11, 14), org=d.housing, sub="waste")
    d.message(local(11, 14), org=d.housing, sub="waste")
    d.message(local(11, 6), org=d.housing, sub="waste")
    d.message(local(11, 14), org=d.housing, category="housing")  # a category, no subcategory yet
    d.message(local(11, 16))  # not classified, not routed
    d.message(local(11, 21, 0, 0), org=d.transport, sub="pothole")  # after the period
    d.message(local(10, 31, 23, 59), org=d.transport, sub="pothole")  # before the previous one
    ranked, totals = problems.categories(session, d.scope())
    assert totals == {"total": 9, "previous": 4, "unclassified": 1, "unclassified_previous": 0}
    housing, roads = ranked
    assert (housing.name, housing.count, housing.previous, housing.change) == ("ЖКХ", 5, 1, 4)
    assert housing.change_percent == Fraction(400)
    assert [(s.name, s.count, s.previous) for s in housing.subcategories] == [
        ("Вывоз мусора", 2, 1), ("Отопление", 2, 0)]
    assert housing.subcategories[1].change_percent is None  # from nothing: no percentage
    assert (roads.name, roads.count, roads.previous, roads.change, roads.change_percent) == ("Дороги", 3, 3, 0, 0)
    pothole, snow = roads.subcategories
    assert (pothole.count, pothole.previous, pothole.change_percent) == (3, 1, Fraction(200))
    assert (snow.count, snow.previous, snow.change, snow.change_percent) == (0, 2, -2, Fraction(-100))


def test_categories_of_an_organization_subtree_only(session, data):
    d = data
    d.message(local(11, 12), org=d.transport, sub="pothole")
    d.message(local(11, 12), org=d.roads, sub="pothole")
    d.message(local(11, 12), org=d.housing, sub="pothole")
    d.message(local(11, 12), sub="pothole")  # unrouted: in nobody's subtree
    ranked, totals = problems.categories(session, d.scope(organization=d.transport))
    assert [(r.name, r.count) for r in ranked] == [("Дороги", 2)]
    ranked, _ = problems.categories(session, d.scope(organization=d.housing, within=d.transport))
    assert ranked == []  # a curator of transport who picks housing sees nothing of it
    ranked, totals = problems.categories(session, d.scope())
    assert (ranked[0].count, totals["total"]) == (4, 4)


def test_places_group_by_settlement_and_street(session, data):
    d = data
    for address in ("г. Благовещенск, ул. Ленина, 12", "г. Благовещенск, улица Ленина, д. 14",
                    "г. Благовещенск, ул. Ленина, 12", "Благовещенск, ЛЕНИНА 3"):
        d.message(local(11, 12), org=d.housing, address=address)
    d.message(local(11, 12), org=d.city, address="г. Тында, ул. Профсоюзная")
    d.message(local(11, 12), org=d.city, address="г. Тында, ул. Ленина, 1")
    d.message(local(11, 12), org=d.city, address="")
    d.message(local(11, 12), org=d.city, address="кв. 5")
    d.message(local(11, 5), org=d.city, address="г. Тында, ул. Профсоюзная")  # the previous period
    found, without = problems.places(session, d.scope())
    assert [(p.place.label, p.count) for p in found] == [
        ("г. Благовещенск, ул. Ленина", 4), ("г. Тында, ул. Ленина", 1), ("г. Тында, ул. Профсоюзная", 1)]
    assert without == 2
    found, _ = problems.places(session, d.scope(organization=d.city))
    assert [p.count for p in found] == [1, 1]


def test_words_are_lemmas_counted_once_per_message_without_stop_words(session, data):
    d = data
    for text in ("Не вывозят мусор, мусор лежит во дворе третий день.",
                 "Мусора много, контейнеры переполнены.",
                 "С мусором беда: контейнер сломан.",
                 "Во дворе нет освещения."):
        d.message(local(11, 12), org=d.housing, text=text)
    d.message(local(11, 5), org=d.housing, text="Мусор, мусор, мусор")  # the previous period: not counted
    found, read = problems.words(session, d.scope(), total=4)
    counted = {w.lemma: w.count for w in found}
    assert read == 4
    assert counted["мусор"] == 3 and counted["контейнер"] == 2 and counted["двор"] == 2
    assert found[0].lemma == "мусор" and found[0].search == "мусор"
    assert not {"не", "во", "с", "много", "третий", "нет"} & set(counted)


def test_words_read_an_even_sample_of_a_large_period(session, data):
    d = data
    for i in range(12):
        d.message(local(11, 12), org=d.housing, text=f"Яма на дороге {i}")
    found, read = problems.words(session, d.scope(), total=12, sample=4)
    assert 1 <= read <= 4
    assert {(w.lemma, w.count) for w in found} == {("яма", read), ("дорога", read)}


def test_problems_puts_it_together(session, data):
    d = data
    d.message(local(11, 12), org=d.transport, sub="pothole", text="Яма на дороге", address="г. Тында, ул. Мира, 3")
    d.message(local(11, 13), text="Просим убрать снег")
    result = problems.problems(session, d.scope())
    assert (result.total, result.previous_total, result.unclassified, result.texts_read) == (2, 0, 1, 2)
    assert [p.place.label for p in result.places] == ["г. Тында, ул. Мира"] and result.without_place == 1
    assert {w.lemma for w in result.words} == {"яма", "дорога", "убрать", "снег"}
