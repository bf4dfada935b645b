"""The classifier: both appendices (accelerated lists per jurisdiction) and the ordinary categories."""
import json
from pathlib import Path

from sqlmodel import Session, select

from pos.models import AcceleratedSubcategory, AnswerTemplate, Category, Subcategory

APPENDICES = json.loads((Path(__file__).parent / "accelerated-subcategories.json").read_text(encoding="utf-8"))

# Categories every platform of this kind has, beside the appendices'.
ORDINARY = {
    "Жилищно-коммунальное хозяйство": [
        "Отсутствие или перебои отопления", "Отсутствие или перебои водоснабжения",
        "Несвоевременный вывоз мусора", "Ненадлежащее содержание подъезда", "Протечка кровли", "Иное",
    ],
    "Дороги": [
        "Ямы и выбоины на дороге", "Несвоевременная уборка снега и наледи", "Неработающее уличное освещение",
        "Отсутствие дорожной разметки или знаков", "Иное",
    ],
    "Благоустройство": [
        "Ненадлежащее содержание двора", "Неисправная детская площадка", "Несанкционированная свалка",
        "Бездомные животные", "Иное",
    ],
    "Общественный транспорт": [
        "Несоблюдение расписания", "Неудовлетворительное состояние транспорта", "Изменение маршрута", "Иное",
    ],
    "Здравоохранение": [
        "Запись на прием к врачу", "Лекарственное обеспечение", "Качество медицинской помощи", "Иное",
    ],
    "Образование": [
        "Очередь в детский сад", "Организация учебного процесса в школе", "Состояние здания школы", "Иное",
    ],
    "Социальная защита": ["Меры социальной поддержки", "Выплаты и пособия", "Иное"],
    "Экология": ["Загрязнение воздуха", "Загрязнение водоемов", "Вырубка деревьев", "Иное"],
}

TEMPLATES = {
    None: [("Общий ответ", "Уважаемый заявитель! Ваше сообщение рассмотрено. По результатам рассмотрения "
                           "сообщаем следующее: ")],
    "Дороги": [("Ремонт запланирован", "Уважаемый заявитель! Ремонт указанного участка дороги включен в план "
                                       "работ на текущий сезон. Работы будут выполнены в установленный срок.")],
    "Жилищно-коммунальное хозяйство": [
        ("Передано в управляющую организацию", "Уважаемый заявитель! Информация передана в управляющую "
                                              "организацию, нарушение будет устранено. Контроль устранения "
                                              "осуществляет жилищная инспекция."),
    ],
    "Благоустройство": [("Работы выполнены", "Уважаемый заявитель! Работы по благоустройству выполнены.")],
}


def load(session: Session) -> dict[str, Category]:
    """Create every category and subcategory; returns categories by name."""
    names: dict[str, list[str]] = {}
    for source in (APPENDICES["region-232"], APPENDICES["city-608"], ORDINARY):
        for category, subs in source.items():
            bucket = names.setdefault(category, [])
            bucket += [s for s in subs if s not in bucket]
    categories: dict[str, Category] = {}
    for name, subs in names.items():
        category = session.exec(select(Category).where(Category.name == name)).first()
        if category is None:
            category = Category(name=name)
            session.add(category)
            session.flush()
        categories[name] = category
        existing = {s.name for s in session.exec(select(Subcategory).where(Subcategory.category_id == category.id))}
        for sub in subs:
            if sub not in existing:
                session.add(Subcategory(category_id=category.id, name=sub))
    session.flush()
    for category_name, items in TEMPLATES.items():
        category_id = categories[category_name].id if category_name else None
        for title, text in items:
            if session.exec(select(AnswerTemplate).where(AnswerTemplate.title == title,
                                                        AnswerTemplate.category_id == category_id)).first() is None:
                session.add(AnswerTemplate(category_id=category_id, title=title, text=text))
    return categories


def mark_accelerated(session: Session, jurisdiction_id: int, appendix: str) -> int:
    """Flag the appendix's subcategories as accelerated in one jurisdiction."""
    count = 0
    for category_name, subs in APPENDICES[appendix].items():
        category = session.exec(select(Category).where(Category.name == category_name)).one()
        for sub_name in subs:
            sub = session.exec(select(Subcategory).where(Subcategory.category_id == category.id,
                                                         Subcategory.name == sub_name)).one()
            if session.get(AcceleratedSubcategory, (jurisdiction_id, sub.id)) is None:
                session.add(AcceleratedSubcategory(jurisdiction_id=jurisdiction_id, subcategory_id=sub.id))
                count += 1
    return count
