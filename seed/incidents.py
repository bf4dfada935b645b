"""Demo incidents: recorded public posts pushed through the intake, walked to several stages, one answered
with its public answer published to the demo network (`pos.adapters.demo`, under POS_DEMO_PUBLISH_DIR)."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from pos import clock
from pos.models import Category, OutboxEvent, Subcategory, User
from pos.services import incidents, public_reply
from pos.services.messages import Env, act
from pos.workflow import Action

POSTS = Path(__file__).with_name("incident-posts.jsonl")


def _posts(now) -> list[dict]:
    rows = [json.loads(line) for line in POSTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row["published_at"] = (now - timedelta(hours=row.pop("published_at_hours_ago"))).isoformat()
    return rows


def load(session: Session, env: Env, categories: dict[str, Category], orgs, publish_dir: str) -> int:
    now = clock.now()
    user = {u.login: u for u in session.exec(select(User))}

    def sub(category: str, name: str) -> tuple[int, int]:
        cat = categories[category]
        found = session.exec(select(Subcategory).where(Subcategory.category_id == cat.id,
                                                       Subcategory.name == name)).one()
        return cat.id, found.id

    def classify(incident_id: int, category: str, name: str) -> None:
        incident = session.get(incidents.Message, incident_id)
        incident.category_id, incident.subcategory_id = sub(category, name)
        session.commit()

    def do(hours_ago: float, login: str, incident_id: int, action: Action, **params):
        with clock.frozen(now - timedelta(hours=hours_ago)):
            return act(session, env, user[login], incident_id, action, params)

    with clock.frozen(now - timedelta(hours=27)):
        results = incidents.intake(session, env, _posts(now))
    by_url = {r.url.rsplit("/", 1)[-1]: r.incident_id for r in results}
    pit, rubbish, lights, greeting = by_url["blag-1001"], by_url["blag-1003"], by_url["blag-1005"], by_url["blag-1006"]
    # The pothole: two posts, answered and published back where the first one was.
    classify(pit, "Дороги", "Ямы и выбоины на дороге")
    do(26, "moderator", pit, Action.ACCEPT, organization_id=orgs["transport"].id)
    do(25.5, "transport.coordinator", pit, Action.ASSIGN_EXECUTOR, executor_id=user["transport.executor"].id)
    do(24, "transport.executor", pit, Action.PREPARE_ANSWER, result="resolved",
       answer_text="Яма у остановки на ул. Театральной заделана 1 декабря, покрытие восстановлено. "
                   "Спасибо, что сообщили!",
       executor_position="Главный специалист отдела дорожного хозяйства", executor_name="Павлова Юлия Андреевна",
       approver_id=user["transport.head"].id)
    do(23, "transport.head", pit, Action.APPROVE)
    Path(publish_dir).mkdir(parents=True, exist_ok=True)
    row = next(r for r in session.exec(select(OutboxEvent)) if public_reply.is_publication(r.payload)
               and r.payload.get("message_id") == pit)
    public_reply.publish(session, {"INCIDENT_PUBLISHERS": "demo=demo", "DEMO_PUBLISH_DIR": publish_dir}, row)
    # Rubbish in a yard: two posts grouped, with the executor now.
    classify(rubbish, "Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора")
    do(3, "moderator", rubbish, Action.ACCEPT, organization_id=orgs["zhkh"].id)
    do(2, "zhkh.coordinator", rubbish, Action.ASSIGN_EXECUTOR, executor_id=user["zhkh.executor"].id)
    # Street lights in Tynda: accepted, at coordination.
    classify(lights, "Дороги", "Неработающее уличное освещение")
    do(1, "moderator", lights, Action.ACCEPT, organization_id=orgs["tynda_city"].id)
    # A greeting: nothing to answer.
    do(0.5, "moderator", greeting, Action.CLOSE_NO_ANSWER,
       comment="Поздравление с праздником: проблемы, требующей ответа, нет.")
    # The broken traffic light stays in moderation.
    return len(set(by_url.values()))
