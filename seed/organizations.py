"""Two jurisdictions with their organizations and demo staff for every role."""
from sqlmodel import Session

from pos.models import Category, Organization
from pos.services.accounts import create_organization, create_user, grant
from pos.workflow import REGULATION_AMUR, REGULATION_TYNDA, Role

DEMO_PASSWORD = "demo"

APPENDIX_REGION = {
    "Программа возврата денежных средств за путевки в детские лагеря": "education",
    "Горячее питание для учащихся начальных классов": "education",
    "Возврат денежных средств за туристические поездки": "economy",
    "Средства индивидуальной защиты": "health",
    "Скорая медицинская помощь": "health",
    "Обращение по проблеме вакцинации или лечения от новой коронавирусной инфекции (COVID-19)": "health",
    "Использование сертификата (QR-кода) о вакцинации, справки (QR-кода) об отсутствии заболевания, "
    "справки (QR-кода) о перенесении заболевания": "health",
    "Культура": "culture",
}

# key: (name, short name, kind, parent key, categories)
REGION = [
    ("region", "Правительство Амурской области", "Правительство АО", "region", None, []),
    ("zhkh", "Министерство жилищно-коммунального хозяйства Амурской области", "МинЖКХ АО", "executive_body",
     "region", ["Жилищно-коммунальное хозяйство", "Благоустройство", "Экология"]),
    ("transport", "Министерство транспорта и дорожного хозяйства Амурской области", "Минтранс АО",
     "executive_body", "region", ["Дороги", "Общественный транспорт"]),
    ("health", "Министерство здравоохранения Амурской области", "Минздрав АО", "executive_body", "region",
     ["Здравоохранение"]),
    ("education", "Министерство образования и науки Амурской области", "Минобрнауки АО", "executive_body",
     "region", ["Образование"]),
    ("culture", "Министерство культуры и архивного дела Амурской области", "Минкультуры АО", "executive_body",
     "region", []),
    ("economy", "Министерство экономического развития и внешних связей Амурской области", "Минэкономразвития АО",
     "executive_body", "region", ["Социальная защита"]),
    ("amurdor", "ГКУ Амурской области «Амурупрадор»", "Амурупрадор", "subordinate", "transport", []),
    ("hospital", "ГАУЗ АО «Амурская областная клиническая больница»", "АОКБ", "subordinate", "health", []),
]

CITY = [
    ("tynda", "Администрация города Тынды", "Администрация г. Тынды", "municipal_admin", None, []),
    ("tynda_city", "Управление городского хозяйства Администрации города Тынды", "УГХ г. Тынды", "branch_body",
     "tynda", []),
    ("tynda_edu", "Управление образования Администрации города Тынды", "Управление образования г. Тынды",
     "branch_body", "tynda", []),
    ("tynda_culture", "Управление культуры, искусства и молодежной политики Администрации города Тынды",
     "Управление культуры г. Тынды", "branch_body", "tynda", []),
]

# login: (full name, position, [(role, org key or None, [category names] for heads)])
STAFF = {
    "moderator": ("Орлова Марина Сергеевна", "Оператор ПОС", [(Role.MODERATOR, None, [])]),
    "admin": ("Семенов Андрей Петрович", "Администратор ПОС", [(Role.ADMINISTRATOR, None, [])]),
    "analyst": ("Ким Елена Викторовна", "Аналитик ЦУР", [(Role.ANALYST, None, [])]),
    "zhkh.coordinator": ("Белова Ольга Ивановна", "Консультант отдела по работе с обращениями",
                         [(Role.COORDINATOR, "zhkh", [])]),
    "zhkh.executor": ("Волков Сергей Николаевич", "Главный специалист отдела ЖКХ", [(Role.EXECUTOR, "zhkh", [])]),
    "zhkh.executor2": ("Никитина Анна Павловна", "Ведущий специалист отдела благоустройства",
                       [(Role.EXECUTOR, "zhkh", [])]),
    "zhkh.head1": ("Громов Павел Андреевич", "Начальник отдела ЖКХ", [(Role.HEAD, "zhkh", [])]),
    "zhkh.head2": ("Лебедева Ирина Олеговна", "Заместитель министра", [(Role.HEAD, "zhkh", [])]),
    "zhkh.head3": ("Соколов Дмитрий Юрьевич", "Заместитель министра", [(Role.HEAD, "zhkh", [])]),
    "zhkh.minister": ("Титов Алексей Васильевич", "Министр жилищно-коммунального хозяйства",
                      [(Role.HEAD, "zhkh", [])]),
    "zhkh.curator": ("Морозова Татьяна Евгеньевна", "Куратор ПОС министерства", [(Role.CURATOR, "zhkh", [])]),
    "transport.coordinator": ("Егоров Игорь Львович", "Консультант", [(Role.COORDINATOR, "transport", [])]),
    "transport.executor": ("Павлова Юлия Андреевна", "Главный специалист отдела дорожного хозяйства",
                           [(Role.EXECUTOR, "transport", [])]),
    "transport.head": ("Кузнецов Роман Игоревич", "Министр транспорта и дорожного хозяйства",
                       [(Role.HEAD, "transport", [])]),
    "transport.curator": ("Фролова Вера Ильинична", "Куратор ПОС министерства", [(Role.CURATOR, "transport", [])]),
    "health.coordinator": ("Зайцева Наталья Олеговна", "Консультант", [(Role.COORDINATOR, "health", [])]),
    "health.head": ("Медведев Олег Борисович", "Министр здравоохранения", [(Role.HEAD, "health", [])]),
    "education.coordinator": ("Савельева Алла Игоревна", "Консультант", [(Role.COORDINATOR, "education", []),
                                                                       (Role.EXECUTOR, "education", [])]),
    "education.head": ("Тарасов Глеб Петрович", "Министр образования и науки", [(Role.HEAD, "education", [])]),
    "tynda.coordinator": ("Рябова Светлана Викторовна", "Главный специалист общего отдела",
                          [(Role.COORDINATOR, "tynda", [])]),
    "tynda.executor": ("Данилов Максим Сергеевич", "Специалист Управления городского хозяйства",
                       [(Role.EXECUTOR, "tynda", [])]),
    "tynda.head": ("Михайлова Мария Владимировна", "Мэр города Тынды", [(Role.HEAD, "tynda", [])]),
    "tynda.head2": ("Ануфриев Игорь Алексеевич", "Руководитель аппарата главы", [(Role.HEAD, "tynda", ["Дороги", "Благоустройство"])]),
    "tynda.curator": ("Козлова Дарья Андреевна", "Куратор ПОС Администрации", [(Role.CURATOR, "tynda", [])]),
    "zhkh.publisher": ("Сергеева Ксения Алексеевна", "Консультант отдела общественных связей",
                       [(Role.PUBLISHER, "zhkh", [])]),
    "tynda.publisher": ("Голубев Артём Викторович", "Главный специалист по связям с общественностью",
                        [(Role.PUBLISHER, "tynda", [])]),
    "tynda_city.coordinator": ("Попов Артем Денисович", "Специалист УГХ", [(Role.COORDINATOR, "tynda_city", []),
                                                                          (Role.EXECUTOR, "tynda_city", [])]),
    "tynda_city.head": ("Воронин Николай Ефимович", "Начальник Управления городского хозяйства",
                        [(Role.HEAD, "tynda_city", [])]),
}

CITY_CATEGORIES = {
    "tynda": ["Жилищно-коммунальное хозяйство"],
    "tynda_city": ["Дороги", "Благоустройство"],
    "tynda_edu": ["Горячее питание для учащихся начальных классов"],
    "tynda_culture": [],
}


def load(session: Session, categories: dict[str, Category]) -> dict[str, Organization]:
    orgs: dict[str, Organization] = {}
    region_cats = {key: [] for key, *_ in REGION}
    for category, key in APPENDIX_REGION.items():
        region_cats[key].append(category)
    for tree, regulation in ((REGION, REGULATION_AMUR), (CITY, REGULATION_TYNDA)):
        for key, name, short, kind, parent, cats in tree:
            names = cats + region_cats.get(key, []) + CITY_CATEGORIES.get(key, [])
            orgs[key] = create_organization(session, name, kind, orgs.get(parent), short_name=short,
                                            regulation=regulation, category_ids=[categories[n].id for n in names])
    for login, (full_name, position, roles) in STAFF.items():
        user = create_user(session, login, DEMO_PASSWORD, full_name, position=position,
                           email=f"{login}@pos.local")
        for role, org_key, cats in roles:
            grant(session, user, role, orgs[org_key].id if org_key else None, [categories[c].id for c in cats])
    return orgs
