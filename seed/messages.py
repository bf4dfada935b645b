"""Demo applicants and messages in every stage, walked there through the real services."""
from datetime import timedelta

from sqlmodel import Session, select

from pos import clock
from pos.models import Applicant, Category, Organization, Subcategory, User
from pos.services.accounts import create_user
from pos.services.messages import Env, act, submit_message
from pos.workflow import Action

CONSENT_VERSION = "2026-01"


DEMO_APPLICANTS = {
    "citizen": dict(kind="citizen", full_name="Иванов Иван Иванович", email="citizen@example.ru",
                    phone="+79140000001"),
    "citizen2": dict(kind="citizen", full_name="Петрова Анна Сергеевна", email="citizen2@example.ru",
                     phone="+79140000002"),
    "company": dict(kind="legal", full_name="Смирнов Олег Петрович", org_name="ООО «Тындинский хлебозавод»",
                    inn="2808001231", ogrn="1022800000002", contact_person="Смирнов Олег Петрович",
                    email="company@example.ru", phone="+74165600000"),
}


def _applicants(session: Session) -> dict[str, Applicant]:
    now = clock.now()
    result = {}
    for login, profile in DEMO_APPLICANTS.items():
        user = create_user(session, login, "demo", profile["full_name"], email=profile["email"],
                           phone=profile["phone"], is_staff=False)
        applicant = Applicant(user_id=user.id, consent_at=now, consent_version=CONSENT_VERSION, created_at=now,
                              **profile)
        session.add(applicant)
        session.flush()
        result[login] = applicant
    return result


class _Walker:
    def __init__(self, session: Session, env: Env, categories: dict[str, Category], orgs: dict[str, Organization]):
        self.session, self.env, self.categories, self.orgs = session, env, categories, orgs
        self.now = clock.now()

    def user(self, login: str) -> User:
        return self.session.exec(select(User).where(User.login == login)).one()

    def sub(self, category: str, name: str) -> tuple[int, int]:
        cat = self.categories[category]
        sub = self.session.exec(select(Subcategory).where(Subcategory.category_id == cat.id,
                                                          Subcategory.name == name)).one()
        return cat.id, sub.id

    def new(self, days_ago: float, applicant: Applicant, text: str, category=None, address="", org=None):
        fields = {"text": text, "address": address, "applicant_id": applicant.id}
        if category:
            fields["category_id"], fields["subcategory_id"] = self.sub(*category)
        if org:
            fields["organization_id"] = self.orgs[org].id
        with clock.frozen(self.now - timedelta(days=days_ago)):
            message = submit_message(self.session, self.env, fields, source="seed",
                                     user_id=applicant.user_id)
        message._seed_clock = days_ago
        return message

    def do(self, message, hours_later: float, login: str, action: Action, **params):
        message._seed_clock -= hours_later / 24
        with clock.frozen(self.now - timedelta(days=message._seed_clock)):
            return act(self.session, self.env, self.user(login), message.id, action, params)

    def head_ids(self, *logins):
        return [self.user(login).id for login in logins]


def load(session: Session, env: Env, categories, orgs) -> int:
    people = _applicants(session)
    session.commit()
    w = _Walker(session, env, categories, orgs)
    ivanov, petrova, company = people["citizen"], people["citizen2"], people["company"]
    zhkh_answer = dict(executor_position="Главный специалист отдела ЖКХ", executor_name="Волков Сергей Николаевич")
    count = 0

    # Moderation: fresh, unclassified, accelerated, and an overdue one.
    w.new(0.1, ivanov, "Во дворе дома по ул. Ленина, 12 третий день не вывозят мусор, контейнеры переполнены.",
          ("Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора"), "г. Благовещенск, ул. Ленина, 12")
    w.new(0.2, petrova, "На остановке «Центральный рынок» нет навеса, люди мокнут под дождем. Просим установить.")
    w.new(0.3, ivanov, "Скорая помощь ехала к пожилой матери больше двух часов, диспетчер не мог назвать время.",
          ("Скорая медицинская помощь", "Нарушение маршрутизации или дефицит бригад скорой медицинской помощи"),
          "г. Благовещенск, ул. Зейская, 140")
    w.new(4, company, "Возле пекарни на ул. Красная Пресня, 47 провал асфальта, машины с хлебом не могут подъехать.",
          ("Дороги", "Ямы и выбоины на дороге"), "г. Тында, ул. Красная Пресня, 47")
    count += 4

    # Coordination: a fresh one and an overdue one.
    m = w.new(1, petrova, "В подъезде дома ул. Горького, 250 не работает освещение второй месяц.",
              ("Жилищно-коммунальное хозяйство", "Ненадлежащее содержание подъезда"), "г. Благовещенск, ул. Горького, 250")
    w.do(m, 2, "moderator", Action.ACCEPT)
    m = w.new(9, ivanov, "Детская площадка во дворе ул. Мухина, 18 сломана: качели без сидений, торчат болты.",
              ("Благоустройство", "Неисправная детская площадка"), "г. Благовещенск, ул. Мухина, 18")
    w.do(m, 1, "moderator", Action.ACCEPT)
    count += 2

    # Execution: region and city.
    m = w.new(3, ivanov, "В доме ул. Кантемирова, 7 нет горячей воды с понедельника, управляющая компания молчит.",
              ("Жилищно-коммунальное хозяйство", "Отсутствие или перебои водоснабжения"), "г. Благовещенск, ул. Кантемирова, 7")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 3, "zhkh.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("zhkh.executor").id)
    m = w.new(2, petrova, "На ул. Профсоюзной в Тынде не горят фонари от дома 10 до дома 30.",
              ("Дороги", "Неработающее уличное освещение"), "г. Тында, ул. Профсоюзная", org="tynda")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "tynda.coordinator", Action.TAKE)
    count += 2

    # Agreement: a chain of two agreeing heads, the first has agreed.
    m = w.new(6, company, "Крыша дома ул. Амурская, 33 протекает, на пятом этаже вода течет по стенам.",
              ("Жилищно-коммунальное хозяйство", "Протечка кровли"), "г. Благовещенск, ул. Амурская, 33")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "zhkh.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("zhkh.executor").id)
    w.do(m, 20, "zhkh.executor", Action.PREPARE_ANSWER, result="resolved",
         answer_text="Кровля над 5-м подъездом отремонтирована управляющей организацией 20.11.", **zhkh_answer,
         approver_id=w.user("zhkh.minister").id, agreeing_ids=w.head_ids("zhkh.head1", "zhkh.head2"))
    w.do(m, 3, "zhkh.head1", Action.AGREE)
    count += 1

    # Approval, and a transfer waiting for approval.
    m = w.new(5, ivanov, "Не убран снег с тротуаров на ул. 50 лет Октября, пешеходы идут по проезжей части.",
              ("Дороги", "Несвоевременная уборка снега и наледи"), "г. Благовещенск, ул. 50 лет Октября")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "transport.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("transport.executor").id)
    w.do(m, 30, "transport.executor", Action.PREPARE_ANSWER, result="not_resolved",
         answer_text="Уборка тротуаров на указанной улице относится к ведению администрации города; "
                     "информация направлена для принятия мер.",
         executor_position="Главный специалист отдела дорожного хозяйства", executor_name="Павлова Юлия Андреевна",
         approver_id=w.user("transport.head").id)
    m = w.new(4, petrova, "На ул. Чайковского, 5 разрушен тротуар у школы.",
              ("Благоустройство", "Ненадлежащее содержание двора"), "г. Благовещенск, ул. Чайковского, 5")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "zhkh.coordinator", Action.TRANSFER, organization_id=w.orgs["transport"].id,
         approver_id=w.user("zhkh.minister").id, comment="Тротуары у дорог — ведение Минтранса.")
    count += 2

    # A transfer approved: now with the target organization, which may «Вернуть» it.
    m = w.new(7, company, "Разбита дорога к промзоне на ул. Транспортной, фуры застревают.",
              ("Жилищно-коммунальное хозяйство", "Иное"), "г. Благовещенск, ул. Транспортная")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "zhkh.coordinator", Action.TRANSFER, organization_id=w.orgs["transport"].id,
         approver_id=w.user("zhkh.minister").id, agreeing_ids=w.head_ids("zhkh.head1"))
    w.do(m, 2, "zhkh.head1", Action.AGREE)
    w.do(m, 3, "zhkh.minister", Action.APPROVE)
    count += 1

    # Rejected by the moderator.
    m = w.new(3, petrova, "Прошу помочь лично мне с ремонтом квартиры.", None, "")
    w.do(m, 2, "moderator", Action.REJECT, reason="з")
    count += 1

    # Postponed until a date.
    m = w.new(12, ivanov, "Просим заасфальтировать двор дома ул. Театральная, 20.",
              ("Благоустройство", "Ненадлежащее содержание двора"), "г. Благовещенск, ул. Театральная, 20")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "zhkh.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("zhkh.executor2").id)
    w.do(m, 40, "zhkh.executor2", Action.PREPARE_ANSWER, result="postponed",
         answer_text="Асфальтирование двора включено в программу благоустройства, работы начнутся с наступлением "
                     "положительных температур.", executor_position="Ведущий специалист отдела благоустройства",
         executor_name="Никитина Анна Павловна", approver_id=w.user("zhkh.minister").id,
         postponed_until=(w.now.date() + timedelta(days=60)).isoformat())
    w.do(m, 3, "zhkh.minister", Action.APPROVE)
    count += 1

    # Answered: one rated well, one rated 2 with a repeated message in moderation (clause 3.3), the ministry
    # that answered preselected for the moderator's «Принять».
    for text, rating in (("Не работает светофор на перекрестке ул. Ленина и ул. Пионерской.", 5),
                         ("Во дворе дома ул. Калинина, 9 неделю течет труба теплотрассы, идет пар.", 2)):
        m = w.new(15, ivanov, text, ("Жилищно-коммунальное хозяйство", "Отсутствие или перебои отопления"),
                  "г. Благовещенск")
        w.do(m, 1, "moderator", Action.ACCEPT)
        w.do(m, 2, "zhkh.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("zhkh.executor").id)
        w.do(m, 30, "zhkh.executor", Action.PREPARE_ANSWER, result="resolved",
             answer_text="Неисправность устранена аварийной службой.", **zhkh_answer,
             approver_id=w.user("zhkh.head2").id)
        w.do(m, 3, "zhkh.head2", Action.APPROVE)
        ivanov_user = session.get(User, ivanov.user_id)
        with clock.frozen(w.now - timedelta(days=8)):
            act(session, env, ivanov_user, m.id, Action.RATE, {"rating": rating})
            if rating <= 3:
                act(session, env, ivanov_user, m.id, Action.REPEAT,
                    {"text": "Труба течет снова, пар идет уже неделю. Прошу проверить работу аварийной службы."})
                count += 1
        count += 1

    # Overdue in execution: arrived 40 days ago and still not answered.
    m = w.new(40, company, "Не вывозятся отходы с контейнерной площадки на ул. Октябрьской, 80.",
              ("Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора"), "г. Благовещенск, ул. Октябрьская, 80")
    w.do(m, 3, "moderator", Action.ACCEPT)
    w.do(m, 5, "zhkh.coordinator", Action.ASSIGN_EXECUTOR, executor_id=w.user("zhkh.executor2").id)
    count += 1

    # The city: accelerated hot-meals message in approval.
    m = w.new(2, petrova, "В школе № 5 горячее питание в начальных классах холодное и однообразное.",
              ("Горячее питание для учащихся начальных классов", "Не устраивает качество питания в начальных классах"),
              "г. Тында, школа № 5", org="tynda")
    w.do(m, 1, "moderator", Action.ACCEPT)
    w.do(m, 2, "tynda.coordinator", Action.SEND_FOR_APPROVAL, result="resolved",
         answer_text="Проведена проверка организации питания, меню скорректировано, поставщику направлена претензия.",
         executor_position="Главный специалист общего отдела", executor_name="Рябова Светлана Викторовна",
         approver_id=w.user("tynda.head").id)
    count += 1
    return count
