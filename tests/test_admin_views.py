"""Administration in the browser: every form (create, edit, the refusals), the administrator only, the
deadlines recomputed as the CLI does, the record of changes (old and new, append-only), the temporary
password that must be changed at sign-in."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from pos.models import (AcceleratedSubcategory, AdminChange, AnswerTemplate, ApiClient, Category, HistoryEntry,
                        Message, Organization, OrganizationCategory, RoleGrant, RoleGrantCategory, StageDeadline,
                        Subcategory, User)
from pos.models.admin import AppendOnly
from pos.services import choices, open311
from pos.services.directory import DbDirectory, load_policy
from pos.services.messages import RECOMPUTED
from pos.workflow import Role, Stage
from tests.staff_app import StaffApp, staff_app  # noqa: F401

ADMIN = "/staff/admin"


@pytest.fixture(scope="module")
def admin(staff_app):
    return staff_app.client("admin")


def _text(response) -> str:
    return response.get_data(as_text=True)


def _changes(staff_app, entity: str) -> list[AdminChange]:
    with staff_app.session() as s:
        return list(s.exec(select(AdminChange).where(AdminChange.entity == entity).order_by(AdminChange.id)))


def _org_id(staff_app, short_name: str) -> int:
    return staff_app.org(short_name).id


def _new_org(admin, staff_app, name: str, parent: str | None = "Минтранс АО", **extra) -> int:
    data = {"name": name, "short_name": name, "kind": "subordinate", **extra}
    if parent:
        data["parent_id"] = _org_id(staff_app, parent)
    response = admin.post(f"{ADMIN}/organizations/new", data=data)
    assert response.status_code == 303, _text(response)
    return int(response.location.rsplit("/", 1)[-1])


# --- who may ---------------------------------------------------------------------------------------------

PAGES = ["/", "/organizations", "/organizations/new", "/organizations/1", "/users", "/users/new", "/users/1",
         "/classifier", "/classifier/categories/1", "/classifier/subcategories/1", "/deadlines", "/templates",
         "/templates/1", "/api-clients", "/changes", "/changes?format=csv"]
POSTS = ["/organizations/new", "/organizations/1/edit", "/organizations/1/close", "/users/new", "/users/1/deactivate",
         "/users/1/password", "/classifier/categories", "/classifier/categories/1/retire", "/deadlines",
         "/deadlines/calendar", "/templates", "/api-clients", "/api-clients/1/revoke"]


@pytest.mark.parametrize("login", ["moderator", "zhkh.coordinator", "zhkh.executor", "zhkh.head1", "zhkh.curator",
                                   "analyst", "citizen"])
def test_every_other_role_is_refused_every_page_and_every_form(staff_app, login):
    client = staff_app.client(login)
    with staff_app.session() as s:
        before = len(s.exec(select(AdminChange)).all())
    for path in PAGES:
        assert client.get(ADMIN + path).status_code == 403, (login, path)
    for path in POSTS:
        assert client.post(ADMIN + path, data={"name": "Взлом", "login": "hack", "full_name": "Х"}).status_code == 403
    with staff_app.session() as s:
        assert len(s.exec(select(AdminChange)).all()) == before


def test_anonymous_is_sent_to_sign_in(staff_app):
    response = staff_app.client().get(f"{ADMIN}/users")
    assert response.status_code == 302 and "/login" in response.location


def test_the_administrator_starts_at_the_admin_home_with_what_needs_attention(staff_app, admin):
    assert staff_app.client("admin").get("/").location.endswith(f"{ADMIN}/")
    page = _text(admin.get(f"{ADMIN}/"))
    for heading in ("Сбои доставки уведомлений", "Организации без координатора или руководителя",
                    "Подкатегории без компетентной организации", "Пользователи без ролей"):
        assert heading in page
    assert "Амурупрадор" in page  # the seed gives it no staff


def test_every_admin_page_opens(staff_app, admin):
    for path in PAGES:
        response = admin.get(ADMIN + path)
        assert response.status_code == 200, path


# --- organizations --------------------------------------------------------------------------------------

def test_create_an_organization_with_its_competence_and_the_record(staff_app, admin):
    with staff_app.session() as s:
        roads = s.exec(select(Category).where(Category.name == "Дороги")).one()
    org_id = _new_org(admin, staff_app, "ГКУ «Дорожный фонд»", category_ids=[roads.id])
    with staff_app.session() as s:
        org = s.get(Organization, org_id)
        parent = s.exec(select(Organization).where(Organization.short_name == "Минтранс АО")).one()
        assert (org.parent_id, org.root_id, org.path) == (parent.id, parent.root_id, f"{parent.path}{org.id}/")
        assert s.get(OrganizationCategory, (org.id, roads.id)) is not None
    [change] = [c for c in _changes(staff_app, "organization") if c.entity_id == str(org_id)]
    assert change.action == "create" and change.new["name"] == "ГКУ «Дорожный фонд»"
    assert change.new["categories"] == [roads.id] and change.actor_id == staff_app.user("admin").id
    assert "ГКУ «Дорожный фонд»" in _text(admin.get(f"{ADMIN}/organizations?q=дорожный"))


@pytest.mark.parametrize("data, error", [
    ({"name": "", "kind": "subordinate"}, "Заполните поле «Полное название»."),
    ({"name": "Без вида", "kind": ""}, "Выберите вид организации."),
    ({"name": "Подчинённая без родителя", "kind": "subordinate"}, "только юрисдикция"),
    ({"name": "Новый регион", "kind": "region"}, "Выберите регламент юрисдикции."),
    ({"name": "Плохой родитель", "kind": "subordinate", "parent_id": "99999999999"}, "Неверное значение"),
])
def test_an_organization_form_with_errors_says_so_in_russian_and_creates_nothing(staff_app, admin, data, error):
    with staff_app.session() as s:
        before = len(s.exec(select(Organization)).all())
    response = admin.post(f"{ADMIN}/organizations/new", data=data)
    assert response.status_code == 400 and error in _text(response)
    with staff_app.session() as s:
        assert len(s.exec(select(Organization)).all()) == before


def test_rename_an_organization_records_old_and_new(staff_app, admin):
    org_id = _new_org(admin, staff_app, "Старое имя")
    response = admin.post(f"{ADMIN}/organizations/{org_id}/edit",
                          data={"name": "Новое полное имя", "short_name": "Новое имя", "kind": "subordinate"})
    assert response.status_code == 303
    with staff_app.session() as s:
        assert s.get(Organization, org_id).short_name == "Новое имя"
    change = [c for c in _changes(staff_app, "organization") if c.entity_id == str(org_id)][-1]
    assert change.action == "rename"
    assert (change.old["short_name"], change.new["short_name"]) == ("Старое имя", "Новое имя")


def test_moving_an_organization_under_its_own_subordinate_is_refused(staff_app, admin):
    top = _new_org(admin, staff_app, "Верхняя")
    middle = _new_org(admin, staff_app, "Средняя", parent=None, kind="subordinate", parent_id=top)
    bottom = _new_org(admin, staff_app, "Нижняя", parent=None, kind="subordinate", parent_id=middle)
    for target in (bottom, top):
        response = admin.post(f"{ADMIN}/organizations/{top}/move", data={"parent_id": target})
        assert response.status_code == 400 and "замкнутый круг" in _text(response)
    transport = _org_id(staff_app, "Минтранс АО")
    with staff_app.session() as s:
        assert s.get(Organization, top).parent_id == transport
    # A proper move carries the subtree with it.
    other = _org_id(staff_app, "Минздрав АО")
    assert admin.post(f"{ADMIN}/organizations/{middle}/move", data={"parent_id": other}).status_code == 303
    with staff_app.session() as s:
        health = s.get(Organization, other)
        assert s.get(Organization, middle).path == f"{health.path}{middle}/"
        assert s.get(Organization, bottom).path == f"{health.path}{middle}/{bottom}/"
        assert s.get(Organization, bottom).parent_id == middle
    change = [c for c in _changes(staff_app, "organization") if c.entity_id == str(middle)][-1]
    assert change.action == "move" and change.old["parent_id"] == top and change.new["parent_id"] == other


def test_a_closed_organization_receives_nothing_new_and_lists_its_open_messages(staff_app, admin):
    with staff_app.session() as s:
        ecology = Category(name="Тестовая экология")
        s.add(ecology)
        s.commit()
    org_id = _new_org(admin, staff_app, "Экоцентр", category_ids=[ecology.id])
    with staff_app.session() as s:
        directory = DbDirectory(s, staff_app_now(), load_policy(s, "Asia/Yakutsk"))
        assert directory.route(ecology.id) == org_id
        message = Message(**_message_fields(s, org_id))
        s.add(message)
        s.commit()
        message_id = message.id
    assert admin.post(f"{ADMIN}/organizations/{org_id}/close").status_code == 303
    with staff_app.session() as s:
        assert DbDirectory(s, staff_app_now(), load_policy(s, "Asia/Yakutsk")).route(ecology.id) is None
        assert org_id not in [o.id for o in choices.organizations(s)]  # the moderator's choices
    page = _text(admin.get(f"{ADMIN}/organizations/{org_id}"))
    assert "закрыта" in page and f"№ {message_id}" in page
    # The moderator's accept form on a message no longer offers it.
    moderation = staff_app.new_message("Свалка у реки.")
    assert f'value="{org_id}"' not in _text(staff_app.client("moderator").get(f"/staff/messages/{moderation.id}"))
    assert admin.post(f"{ADMIN}/organizations/{org_id}/reopen").status_code == 303
    with staff_app.session() as s:
        assert s.get(Organization, org_id).is_active
    assert [c.action for c in _changes(staff_app, "organization") if c.entity_id == str(org_id)][-2:] == \
        ["close", "reopen"]


def staff_app_now():
    from pos import clock
    return clock.now()


def _message_fields(s, org_id: int) -> dict:
    from pos import clock
    now = clock.now()
    return dict(text="Сообщение закрываемой организации.", stage=Stage.COORDINATION, organization_id=org_id,
                received_at=now, stage_entered_at=now, stage_due_at=now + timedelta(days=1),
                answer_due_at=now + timedelta(days=30), source="web")


def test_the_regulation_of_a_jurisdiction(staff_app, admin):
    root = _org_id(staff_app, "Администрация г. Тынды")
    page = _text(admin.get(f"{ADMIN}/organizations/{root}"))
    assert "Регламент юрисдикции" in page
    child = _org_id(staff_app, "Минтранс АО")
    response = admin.post(f"{ADMIN}/organizations/{child}/regulation", data={"regulation": "tynda-608"})
    assert response.status_code == 400 and "корневой" in _text(response)
    assert admin.post(f"{ADMIN}/organizations/{root}/regulation", data={"regulation": "tynda-608"}).status_code == 303


# --- users ----------------------------------------------------------------------------------------------

def _new_user(admin, login: str, **extra) -> tuple[int, str]:
    response = admin.post(f"{ADMIN}/users/new", data={"login": login, "full_name": "Петров Пётр Петрович",
                                                      "position": "Специалист", **extra})
    assert response.status_code == 303, _text(response)
    page = _text(admin.get(response.location))
    password = re.search(r'<code id="secret-value">([^<]+)</code>', page).group(1)
    return int(response.location.rsplit("/", 1)[-1]), password


def test_create_a_user_shows_the_temporary_password_once(staff_app, admin):
    user_id, password = _new_user(admin, "new.petrov")
    assert len(password) >= 12
    assert password not in _text(admin.get(f"{ADMIN}/users/{user_id}"))  # once
    with staff_app.session() as s:
        user = s.get(User, user_id)
        assert user.must_change_password and user.is_staff and password not in user.password_hash
    [change] = [c for c in _changes(staff_app, "user") if c.entity_id == str(user_id)]
    assert change.action == "create" and change.new["login"] == "new.petrov" and password not in str(change.new)


@pytest.mark.parametrize("login, error", [("zhkh.coordinator", "Логин «zhkh.coordinator» уже занят."),
                                          ("ZHKH.Executor", "Логин «zhkh.executor» уже занят."),
                                          ("я", "Логин: от 2 до 120"), ("", "Заполните поле «Логин».")])
def test_a_login_taken_or_malformed_is_refused(staff_app, admin, login, error):
    response = admin.post(f"{ADMIN}/users/new", data={"login": login, "full_name": "Двойник"})
    assert response.status_code == 400 and error in _text(response)
    with staff_app.session() as s:
        assert s.exec(select(User).where(User.full_name == "Двойник")).first() is None


def test_edit_a_user_records_only_what_changed(staff_app, admin):
    user_id, _ = _new_user(admin, "edit.me")
    response = admin.post(f"{ADMIN}/users/{user_id}/edit", data={"full_name": "Петров Пётр Петрович",
                                                                 "position": "Главный специалист", "email": "p@x.ru"})
    assert response.status_code == 303
    change = [c for c in _changes(staff_app, "user") if c.entity_id == str(user_id)][-1]
    assert change.old == {"position": "Специалист", "email": ""}
    assert change.new == {"position": "Главный специалист", "email": "p@x.ru"}
    bad = admin.post(f"{ADMIN}/users/{user_id}/edit", data={"full_name": "", "email": "не-почта"})
    assert bad.status_code == 400 and "Заполните поле «Фамилия, имя, отчество»." in _text(bad)


def test_deactivating_oneself_is_refused(staff_app, admin):
    me = staff_app.user("admin")
    response = admin.post(f"{ADMIN}/users/{me.id}/deactivate", follow_redirects=True)
    assert "Нельзя деактивировать самого себя" in _text(response)
    assert staff_app.user("admin").is_active


def test_deactivation_ends_sessions_keeps_the_account_and_reactivation_lets_in_again(staff_app, admin):
    user_id, password = _new_user(admin, "leaving.soon")
    admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "moderator"})
    client = staff_app.app.test_client()
    client.post("/login", data={"login": "leaving.soon", "password": password})
    client.post("/account/password", data={"current_password": password, "new_password": "зелёный-слон-42",
                                           "new_password_confirm": "зелёный-слон-42"})
    assert client.get("/staff/").status_code == 200
    assert admin.post(f"{ADMIN}/users/{user_id}/deactivate").status_code == 303
    assert client.get("/staff/").status_code == 302  # the session ended
    with staff_app.session() as s:
        assert s.get(User, user_id) is not None and not s.get(User, user_id).is_active
    refused = staff_app.app.test_client().post("/login", data={"login": "leaving.soon", "password": "зелёный-слон-42"})
    assert refused.status_code == 401
    assert admin.post(f"{ADMIN}/users/{user_id}/reactivate").status_code == 303
    again = staff_app.app.test_client().post("/login", data={"login": "leaving.soon", "password": "зелёный-слон-42"})
    assert again.status_code == 303
    assert [c.action for c in _changes(staff_app, "user") if c.entity_id == str(user_id)][-2:] == \
        ["deactivate", "reactivate"]


def test_role_grants_per_organization_from_the_roles_of_the_workflow(staff_app, admin):
    user_id, _ = _new_user(admin, "many.roles")
    page = _text(admin.get(f"{ADMIN}/users/{user_id}"))
    for role in Role:  # every role the workflow knows is offered
        assert f'value="{role.value}"' in page
    zhkh = _zhkh(staff_app)
    with staff_app.session() as s:
        roads = s.exec(select(Category).where(Category.name == "Дороги")).one()
    refused = admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "coordinator"})
    assert refused.status_code == 400 and "выдаётся в организации" in _text(refused)
    not_head = admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "executor", "organization_id": zhkh,
                                                                     "category_ids": [roads.id]})
    assert not_head.status_code == 400 and "только роль руководителя" in _text(not_head)
    assert admin.post(f"{ADMIN}/users/{user_id}/grants",
                      data={"role": "head", "organization_id": zhkh, "category_ids": [roads.id]}).status_code == 303
    assert admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "analyst", "organization_id": zhkh}
                      ).status_code == 303
    twice = admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "analyst"})
    assert twice.status_code == 400 and "уже есть" in _text(twice)
    with staff_app.session() as s:
        grants = {g.role: g for g in s.exec(select(RoleGrant).where(RoleGrant.user_id == user_id))}
        assert grants["head"].organization_id == zhkh and grants["analyst"].organization_id is None
        assert [link.category_id for link in s.exec(select(RoleGrantCategory).where(
            RoleGrantCategory.grant_id == grants["head"].id))] == [roads.id]
        head_id = grants["head"].id
    assert admin.post(f"{ADMIN}/users/{user_id}/grants/{head_id}/revoke").status_code == 303
    with staff_app.session() as s:
        assert s.get(RoleGrant, head_id) is None
    revoke = [c for c in _changes(staff_app, "role_grant") if c.entity_id == str(head_id)]
    assert [c.action for c in revoke] == ["grant", "revoke"] and revoke[1].old["categories"] == [roads.id]


def _zhkh(staff_app) -> int:
    coordinator = staff_app.user("zhkh.coordinator").id
    with staff_app.session() as s:
        return s.exec(select(RoleGrant).where(RoleGrant.user_id == coordinator)).first().organization_id


def test_the_search_by_login_name_and_organization(staff_app, admin):
    by_login = _text(admin.get(f"{ADMIN}/users?q=zhkh.head"))
    assert "Громов Павел Андреевич" in by_login and "Орлова Марина" not in by_login
    by_name = _text(admin.get(f"{ADMIN}/users?q=громов"))
    assert "zhkh.head1" in by_name and "zhkh.head2" not in by_name
    by_org = _text(admin.get(f"{ADMIN}/users?organization_id={_zhkh(staff_app)}"))
    assert "zhkh.curator" in by_org and "transport.head" not in by_org
    fragment = admin.get(f"{ADMIN}/users?q=zhkh", headers={"HX-Request": "true", "HX-Target": "rows"})
    assert _text(fragment).startswith('\n<div id="rows">') or _text(fragment).lstrip().startswith('<div id="rows">')
    assert admin.get(f"{ADMIN}/users?organization_id=99999999999").status_code == 400


# --- the temporary password -----------------------------------------------------------------------------

def test_a_temporary_password_must_be_changed_before_anything_else(staff_app, admin):
    user_id, password = _new_user(admin, "first.time")
    admin.post(f"{ADMIN}/users/{user_id}/grants", data={"role": "executor", "organization_id": _zhkh(staff_app)})
    client = staff_app.app.test_client()
    assert client.post("/login", data={"login": "first.time", "password": password}).status_code == 303
    for path in ("/staff/", "/staff/notifications", "/staff/admin/"):
        response = client.get(path)
        assert response.status_code == 303 and response.location.endswith("/account/password"), path
    assert client.get("/", follow_redirects=True).request.path == "/account/password"
    assert client.post("/staff/notifications/read").location.endswith("/account/password")
    same = client.post("/account/password", data={"current_password": password, "new_password": password,
                                                  "new_password_confirm": password})
    assert same.status_code == 400
    done = client.post("/account/password", data={"current_password": password, "new_password": "кедровая-шишка-7",
                                                  "new_password_confirm": "кедровая-шишка-7"})
    assert done.status_code == 303
    assert client.get("/staff/").status_code == 200
    with staff_app.session() as s:
        assert not s.get(User, user_id).must_change_password
    # The administrator resets it: the sessions end, and the flow starts again.
    assert admin.post(f"{ADMIN}/users/{user_id}/password").status_code == 303
    new_password = re.search(r'<code id="secret-value">([^<]+)</code>', _text(admin.get(f"{ADMIN}/users/{user_id}"))
                             ).group(1)
    assert client.get("/staff/").status_code == 302  # signed out
    client.post("/login", data={"login": "first.time", "password": new_password})
    assert client.get("/staff/").location.endswith("/account/password")
    assert [c.action for c in _changes(staff_app, "user") if c.entity_id == str(user_id)][-1] == "reset_password"


# --- the classifier -------------------------------------------------------------------------------------

def test_a_new_subcategory_is_offered_to_the_applicant_and_a_retired_one_to_nobody(staff_app, admin):
    with staff_app.session() as s:
        roads = s.exec(select(Category).where(Category.name == "Дороги")).one()
    response = admin.post(f"{ADMIN}/classifier/categories/{roads.id}/subcategories", data={"sub-name": "Нет тротуара"})
    assert response.status_code == 303
    with staff_app.session() as s:
        sub = s.exec(select(Subcategory).where(Subcategory.name == "Нет тротуара")).one()
    citizen = staff_app.client("citizen")
    assert "Нет тротуара" in _text(citizen.get(f"/classifier/subcategories?category_id={roads.id}"))
    taken = admin.post(f"{ADMIN}/classifier/categories/{roads.id}/subcategories", data={"sub-name": "Нет тротуара"})
    assert taken.status_code == 400 and "уже есть" in _text(taken)
    assert admin.post(f"{ADMIN}/classifier/subcategories/{sub.id}/retire").status_code == 303
    assert "Нет тротуара" not in _text(citizen.get(f"/classifier/subcategories?category_id={roads.id}"))
    with staff_app.session() as s:
        assert sub.id not in [value for value, _ in choices.subcategory_options(
            s, roads.id, any_label="", no_category_label="")]
    assert [c.action for c in _changes(staff_app, "subcategory") if c.entity_id == str(sub.id)] == ["create", "retire"]


def test_create_and_rename_a_category(staff_app, admin):
    response = admin.post(f"{ADMIN}/classifier/categories", data={"name": "Связь и интернет"})
    assert response.status_code == 303
    category_id = int(response.location.rsplit("/", 1)[-1])
    taken = admin.post(f"{ADMIN}/classifier/categories", data={"name": "Дороги"})
    assert taken.status_code == 400 and "Категория «Дороги» уже есть." in _text(taken)
    assert admin.post(f"{ADMIN}/classifier/categories/{category_id}/rename", data={"name": "Связь"}).status_code == 303
    change = [c for c in _changes(staff_app, "category") if c.entity_id == str(category_id)][-1]
    assert (change.old, change.new) == ({"name": "Связь и интернет"}, {"name": "Связь"})
    empty = admin.post(f"{ADMIN}/classifier/categories/{category_id}/rename", data={"name": ""})
    assert empty.status_code == 400 and "Заполните поле «Название»." in _text(empty)


def test_retiring_a_category_an_organization_still_needs_is_refused_naming_it(staff_app, admin):
    with staff_app.session() as s:
        roads = s.exec(select(Category).where(Category.name == "Дороги")).one()
    response = admin.post(f"{ADMIN}/classifier/categories/{roads.id}/retire", follow_redirects=True)
    assert "нельзя вывести из употребления" in _text(response) and "Минтранс АО" in _text(response)
    with staff_app.session() as s:
        assert s.get(Category, roads.id).is_active
    # Free of organizations, it can go; the applicant's form no longer offers it.
    response = admin.post(f"{ADMIN}/classifier/categories", data={"name": "Временная категория"})
    category_id = int(response.location.rsplit("/", 1)[-1])
    assert admin.post(f"{ADMIN}/classifier/categories/{category_id}/retire").status_code == 303
    assert "Временная категория" not in _text(staff_app.client("citizen").get("/my/messages/new"))
    with staff_app.session() as s:
        assert not s.get(Category, category_id).is_active


def test_an_appendix_entry_is_not_taken_off_the_accelerated_list_without_confirmation(staff_app, admin):
    with staff_app.session() as s:
        entry = s.exec(select(AcceleratedSubcategory)).first()
        root = s.get(Organization, entry.jurisdiction_id)
        sub = s.get(Subcategory, entry.subcategory_id)
    page = _text(admin.get(f"{ADMIN}/classifier/subcategories/{sub.id}"))
    assert "приложение к регламенту" in page
    url = f"{ADMIN}/classifier/subcategories/{sub.id}/accelerated/{root.id}/off"
    refused = admin.post(url)
    assert refused.status_code == 400 and "подтвердите" in _text(refused)
    retire = admin.post(f"{ADMIN}/classifier/subcategories/{sub.id}/retire")
    assert retire.status_code == 400 and "подтвердите" in _text(retire)
    with staff_app.session() as s:
        assert s.get(AcceleratedSubcategory, (root.id, sub.id)) is not None and s.get(Subcategory, sub.id).is_active
    assert admin.post(url, data={"confirm_appendix": "y"}).status_code == 303
    with staff_app.session() as s:
        assert s.get(AcceleratedSubcategory, (root.id, sub.id)) is None
    assert admin.post(f"{ADMIN}/classifier/subcategories/{sub.id}/accelerated/{root.id}/on").status_code == 303
    with staff_app.session() as s:
        assert s.get(AcceleratedSubcategory, (root.id, sub.id)) is not None
    assert [c.action for c in _changes(staff_app, "accelerated") if c.entity_id == f"{root.id}:{sub.id}"] == \
        ["unset", "set"]


def test_the_accelerated_flag_recomputes_the_active_messages_of_the_subcategory(staff_app, admin):
    category_id, sub_id = staff_app.sub("Жилищно-коммунальное хозяйство", "Протечка кровли")
    message = staff_app.new_message("Протекает крыша над кухней.", category=("Жилищно-коммунальное хозяйство",
                                                                              "Протечка кровли"),
                                    steps=[("moderator", "accept", {})])
    assert not message.accelerated
    root = staff_app.message(message.id).organization_id
    with staff_app.session() as s:
        root = s.get(Organization, root).root_id
    assert admin.post(f"{ADMIN}/classifier/subcategories/{sub_id}/accelerated/{root}/on").status_code == 303
    after = staff_app.message(message.id)
    assert after.accelerated and after.answer_due_at < message.answer_due_at
    with staff_app.session() as s:
        [entry] = s.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                    HistoryEntry.action == RECOMPUTED)).all()
    assert "ускоренный срок подкатегории «Протечка кровли» установлен" in entry.details["reason"]


# --- deadlines and the calendar -------------------------------------------------------------------------

def test_a_stage_deadline_set_in_the_browser_recomputes_active_messages_and_writes_the_history(staff_app, admin):
    message = staff_app.new_message("Нет света в подъезде.", steps=[("moderator", "accept", {})])
    response = admin.post(f"{ADMIN}/deadlines", data={"stage": "coordination", "amount": "3", "unit": "working_days"})
    assert response.status_code == 303
    assert "пересчитано сообщений" in _text(admin.get(response.location))
    after = staff_app.message(message.id)
    assert after.stage_due_at > message.stage_due_at
    with staff_app.session() as s:
        reasons = [h.details["reason"] for h in s.exec(select(HistoryEntry).where(
            HistoryEntry.message_id == message.id, HistoryEntry.action == RECOMPUTED))]
        rule = s.exec(select(StageDeadline).where(StageDeadline.stage == "coordination",
                                                  StageDeadline.jurisdiction_id.is_(None))).one()
    assert reasons == ["изменён срок этапа: 3 рабочих дней"] and (rule.amount, rule.unit) == (3, "working_days")
    change = _changes(staff_app, "stage_deadline")[-1]
    assert change.new["amount"] == 3 and change.actor_id == staff_app.user("admin").id
    refused = admin.post(f"{ADMIN}/deadlines", data={"stage": "coordination", "amount": "0", "unit": "working_days"})
    assert refused.status_code == 400 and "от 1 до 1000" in _text(refused)
    not_root = admin.post(f"{ADMIN}/deadlines?jurisdiction={_zhkh(staff_app)}", data={
        "stage": "coordination", "amount": "2", "unit": "working_days"})
    assert not_root.status_code == 404


def test_a_calendar_day_set_in_the_browser_recomputes_and_is_recorded(staff_app, admin):
    message = staff_app.new_message("Нет воды в доме.", steps=[("moderator", "accept", {})])
    from zoneinfo import ZoneInfo
    due_day = message.stage_due_at.astimezone(ZoneInfo("Asia/Yakutsk")).date()
    response = admin.post(f"{ADMIN}/deadlines/calendar", data={"day": due_day.isoformat(), "mode": "day_off",
                                                                "note": "региональный выходной"})
    assert response.status_code == 303
    assert staff_app.message(message.id).stage_due_at > message.stage_due_at
    change = _changes(staff_app, "calendar_day")[-1]
    assert change.entity_id == due_day.isoformat() and change.new == {"is_working": False,
                                                                      "note": "региональный выходной"}
    assert admin.post(f"{ADMIN}/deadlines/calendar", data={"day": due_day.isoformat(), "mode": "reset"}
                      ).status_code == 303
    assert staff_app.message(message.id).stage_due_at == message.stage_due_at
    bad = admin.post(f"{ADMIN}/deadlines/calendar", data={"day": "9999-01-01", "mode": "day_off"})
    assert bad.status_code == 400 and "должна быть в пределах" in _text(bad)


# --- answer templates and API clients -------------------------------------------------------------------

def test_answer_templates_create_edit_retire(staff_app, admin):
    with staff_app.session() as s:
        roads = s.exec(select(Category).where(Category.name == "Дороги")).one()
    response = admin.post(f"{ADMIN}/templates", data={"category_id": roads.id, "title": "Яма заделана",
                                                      "text": "Уважаемый заявитель! Яма заделана."})
    assert response.status_code == 303
    with staff_app.session() as s:
        row = s.exec(select(AnswerTemplate).where(AnswerTemplate.title == "Яма заделана")).one()
        assert row.id in [t.id for t in choices.templates(s, roads.id)]
    empty = admin.post(f"{ADMIN}/templates", data={"title": "", "text": ""})
    assert empty.status_code == 400 and "Введите текст шаблона." in _text(empty)
    assert admin.post(f"{ADMIN}/templates/{row.id}", data={"category_id": roads.id, "title": "Яма заделана",
                                                           "text": "Яма заделана асфальтом."}).status_code == 303
    assert admin.post(f"{ADMIN}/templates/{row.id}/retire").status_code == 303
    with staff_app.session() as s:
        assert row.id not in [t.id for t in choices.templates(s, roads.id)]
        assert s.get(AnswerTemplate, row.id).text == "Яма заделана асфальтом."
    edit = [c for c in _changes(staff_app, "answer_template") if c.entity_id == str(row.id)]
    assert [c.action for c in edit] == ["create", "edit", "retire"]
    assert edit[1].old == {"text": "Уважаемый заявитель! Яма заделана."}


def test_an_api_key_is_shown_once_and_revoked(staff_app, admin):
    response = admin.post(f"{ADMIN}/api-clients", data={"name": "Городской портал"})
    assert response.status_code == 303
    key = re.search(r'<code id="secret-value">([^<]+)</code>', _text(admin.get(response.location))).group(1)
    assert key not in _text(admin.get(f"{ADMIN}/api-clients"))
    with staff_app.session() as s:
        client = open311.client_for_key(s, key, required=True)
        assert client.name == "Городской портал"
    assert admin.post(f"{ADMIN}/api-clients", data={"name": ""}).status_code == 400
    assert admin.post(f"{ADMIN}/api-clients/{client.id}/revoke").status_code == 303
    with staff_app.session() as s:
        assert not s.get(ApiClient, client.id).is_active
        with pytest.raises(Exception):
            open311.client_for_key(s, key, required=True)
    assert [c.action for c in _changes(staff_app, "api_client") if c.entity_id == str(client.id)] == \
        ["create", "revoke"]
    assert key not in str([(c.old, c.new) for c in _changes(staff_app, "api_client")])


# --- the record of changes ------------------------------------------------------------------------------

def test_the_record_is_filtered_by_person_and_period_and_exported(staff_app, admin):
    _new_org(admin, staff_app, "Для журнала")
    me = staff_app.user("admin").id
    page = _text(admin.get(f"{ADMIN}/changes?actor_id={me}"))
    assert "Создана организация «Для журнала»" in page
    today = date.today()
    assert "Для журнала" not in _text(admin.get(f"{ADMIN}/changes?date_to={(today - timedelta(days=3)).isoformat()}"))
    assert "Для журнала" in _text(admin.get(f"{ADMIN}/changes?date_from={(today - timedelta(days=1)).isoformat()}"))
    other = staff_app.user("moderator").id
    assert "Для журнала" not in _text(admin.get(f"{ADMIN}/changes?actor_id={other}"))
    wrong = admin.get(f"{ADMIN}/changes?date_from=2026-12-10&date_to=2026-12-01")
    assert wrong.status_code == 400 and "раньше его начала" in _text(wrong)
    export = admin.get(f"{ADMIN}/changes?format=csv&entity=organization")
    assert export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["№", "Когда", "Кто"]
    assert any(r[6] == "Создана организация «Для журнала»" and "Семенов" in r[2] for r in rows[1:])
    assert all(r[3] == "организация" for r in rows[1:])


def test_no_route_edits_or_deletes_the_record(staff_app, admin):
    rules = [r for r in staff_app.app.url_map.iter_rules() if r.rule.startswith(f"{ADMIN}/changes")]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    with staff_app.session() as s:
        row = s.exec(select(AdminChange)).first()
    for method in ("post", "put", "patch", "delete"):
        assert getattr(admin, method)(f"{ADMIN}/changes").status_code == 405
        assert getattr(admin, method)(f"{ADMIN}/changes/{row.id}").status_code in (404, 405)
    # And the code cannot by mistake: an update or a delete fails at flush.
    with staff_app.session() as s:
        stored = s.get(AdminChange, row.id)
        stored.summary = "подмена"
        with pytest.raises(AppendOnly):
            s.commit()
        s.rollback()
        with pytest.raises(AppendOnly):
            s.delete(s.get(AdminChange, row.id))
            s.commit()
    with staff_app.session() as s:
        assert s.get(AdminChange, row.id).summary == row.summary


def test_a_refused_change_leaves_no_record(staff_app, admin):
    with staff_app.session() as s:
        before = len(s.exec(select(AdminChange)).all())
    admin.post(f"{ADMIN}/users/new", data={"login": "zhkh.coordinator", "full_name": "Двойник"})
    admin.post(f"{ADMIN}/users/{staff_app.user('admin').id}/deactivate")
    with staff_app.session() as s:
        assert len(s.exec(select(AdminChange)).all()) == before


def test_the_lists_are_paginated_with_bounded_page_numbers(staff_app, admin, monkeypatch):
    from pos.services import admin_users
    from pos.views import admin_orgs
    monkeypatch.setattr(admin_users, "PER_PAGE", 5)
    monkeypatch.setattr(admin_orgs, "PER_PAGE", 3)
    first, second = _text(admin.get(f"{ADMIN}/users")), _text(admin.get(f"{ADMIN}/users?page=2"))
    assert "Следующая" in first and "Предыдущая" in second
    logins = lambda html: set(re.findall(r"<td>([a-z0-9._-]+)</td>", html))  # noqa: E731
    assert len(logins(first)) == 5 and not logins(first) & logins(second)
    assert admin.get(f"{ADMIN}/users?page=99999999999999").status_code == 200  # bounded, not an error
    assert "Следующая" in _text(admin.get(f"{ADMIN}/organizations"))
    assert admin.get(f"{ADMIN}/organizations?page=abc").status_code == 200
