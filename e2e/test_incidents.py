"""The whole life of an incident: public posts pushed by a monitoring system, grouped into one incident,
moderated, assigned, answered, approved, its public answer handed to the demo network (which records it), the
incident closed; a publication that failed (the network away) retried by the outbox and published."""
from __future__ import annotations

import json
import re
import shutil
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.test_journeys import answer, done, open_form, stage_is
from pos.adapters import demo

TRANSPORT_HEAD = "Кузнецов Роман Игоревич — Министр транспорта и дорожного хозяйства"
EXECUTOR = "Павлова Юлия Андреевна — Главный специалист отдела дорожного хозяйства"


def push(server, key: str, posts: list[dict]) -> dict:
    request = urllib.request.Request(f"{server.url}/api/incidents/v1/posts", method="POST",
                                     data=json.dumps({"posts": posts}).encode(),
                                     headers={"Content-Type": "application/json", "X-Api-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def open_incident(page: Page, number: str) -> None:
    page.goto(f"/staff/?q={number}&kind=incident&stage=all")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=re.compile(rf"^Инцидент {number}"))).to_be_visible()
    page.wait_for_load_state()


def publication(page: Page):
    return page.get_by_role("region", name="Публичный ответ")


def wait_publication(page: Page, status: str, seconds: float) -> None:
    """Reload the incident until its publication reads `status` (the worker publishes in the background)."""
    pattern = re.compile(rf"Публикация\s*{status}")
    for _ in range(int(seconds * 2)):
        page.reload()
        region = publication(page)
        if region.count() and pattern.search(region.inner_text()):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the publication is not «{status}» after {seconds} s: {publication(page).inner_text()}")


def test_posts_grouped_moderated_answered_published_and_a_failed_publication_retried(server, login_as):
    key = server.flask("create-api-client", "--name", "Мониторинг соцсетей").strip().splitlines()[-1]
    tag = uuid.uuid4().hex[:6]
    now = datetime.now(timezone.utc)
    posts = [{"network": "demo", "url": f"https://demo.pos.local/posts/e2e-{tag}-{i}", "author": f"driver_{tag}_{i}",
              "published_at": (now - timedelta(hours=3 - i)).isoformat(), "place": place, "text": text}
             for i, (text, place) in enumerate([
                 (f"Огромная яма на улице Зейской у моста {tag}, машины пробивают колёса", "г. Благовещенск, ул. Зейская, 1"),
                 (f"Пробил колесо в яме у моста на Зейской {tag}, когда заделают ямы?", ""),
             ])]
    body = push(server, key, posts)
    assert body["created"] == 2
    [number] = {r["incident_number"] for r in body["results"]}  # grouped into one incident
    assert push(server, key, posts[:1])["duplicate"] == 1

    moderator = login_as("moderator")
    open_incident(moderator, number)
    region = moderator.get_by_role("region", name=re.compile("Публикации в интернете"))
    expect(region).to_contain_text(f"driver_{tag}_0")
    expect(region).to_contain_text(f"driver_{tag}_1")
    expect(moderator.locator("dl.props").first).to_contain_text("Источникинтернет")
    f = open_form(moderator, "Изменить категорию", "Изменить категорию и подкатегорию")
    f.get_by_label("Категория", exact=True).select_option(label="Дороги")
    f.get_by_label("Подкатегория", exact=True).select_option(label="Ямы и выбоины на дороге")
    f.get_by_role("button", name="Изменить категорию", exact=True).click()
    done(moderator, "Изменить категорию")
    f = open_form(moderator, "Принять", "Принять на этап координации")
    f.get_by_label("Организация, рассматривающая сообщение").select_option(label="Минтранс АО")
    f.get_by_role("button", name="Принять", exact=True).click()
    done(moderator, "Принять")
    stage_is(moderator, "Координация")

    coordinator = login_as("transport.coordinator")
    open_incident(coordinator, number)
    f = open_form(coordinator, "Назначить исполнителя", "Назначить исполнителя")
    f.get_by_label("Исполнитель").select_option(label=EXECUTOR)
    f.get_by_role("button", name="Назначить исполнителя", exact=True).click()
    done(coordinator, "Назначить исполнителя")

    executor = login_as("transport.executor")
    open_incident(executor, number)
    answer(executor, result="решено", text="Звоните по телефону 8 (4162) 22-33-44", approver=TRANSPORT_HEAD)
    expect(executor.get_by_text(re.compile("не должен содержать персональных данных"))).to_be_visible()
    answer(executor, result="решено", text=f"Яма у моста на ул. Зейской заделана сегодня ({tag}). Спасибо!",
           approver=TRANSPORT_HEAD)
    done(executor, "Подготовить ответ")
    stage_is(executor, "Утверждение")

    # The demo network goes away before the approval: the first publication fails.
    network = Path(server.env["POS_INSTANCE_DIR"]) / "demo-network"
    away = network.with_name("demo-network-away")
    shutil.move(str(network), str(away))
    head = login_as("transport.head")
    open_incident(head, number)
    open_form(head, "Утвердить", "Утвердить ответ").get_by_role("button", name="Утвердить", exact=True).click()
    done(head, "Утвердить")
    stage_is(head, "Ответ дан")
    wait_publication(head, "Не опубликован", 30)
    expect(publication(head)).to_contain_text("Демо-сеть недоступна")

    # The network is back: the outbox's retry publishes the answer where the first post was.
    shutil.move(str(away), str(network))
    wait_publication(head, "Опубликован", 60)  # RQ's first retry comes 10 s later (POS_JOB_RETRY_INTERVALS)
    expect(publication(head)).to_contain_text(f"{posts[0]['url']}#reply-")
    replies = [r for r in demo.recorded(str(network)) if tag in r["text"]]
    assert replies == [{"post_url": posts[0]["url"], "text": f"Яма у моста на ул. Зейской заделана сегодня ({tag}). Спасибо!",
                        "reply_url": replies[0]["reply_url"]}]
    history = head.get_by_role("region", name="История")
    expect(history).to_contain_text("Ответ не удалось опубликовать")
    expect(history).to_contain_text("Ответ опубликован в сети")
    expect(head.locator("dl.props").first).to_contain_text("ЭтапОтвет дан")  # closed: a final state
