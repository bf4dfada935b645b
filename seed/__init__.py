"""Demo data: the classifier, two jurisdictions, staff for every role, messages in every stage."""
from sqlmodel import Session, select

from pos.models import Category
from pos.services.messages import Env
from seed import classifier, incidents, messages, organizations, rating, votes


def load_classifier(session: Session) -> dict:
    categories = classifier.load(session)
    session.commit()
    return categories


def load_organizations(session: Session) -> tuple[dict, dict]:
    """The classifier, both jurisdictions with their organizations and staff, the accelerated lists (the
    demo's and the benchmark generator's world); refuses to run on a database that has them already."""
    if session.exec(select(Category)).first() is not None:
        raise RuntimeError("База уже содержит данные; демо-данные не загружены повторно.")
    categories = classifier.load(session)
    orgs = organizations.load(session, categories)
    classifier.mark_accelerated(session, orgs["region"].id, "region-232")
    classifier.mark_accelerated(session, orgs["tynda"].id, "city-608")
    return categories, orgs


def load_demo(session: Session, env: Env, publish_dir: str | None = None) -> dict:
    """Everything `make run` shows; refuses to run twice on the same database. `publish_dir`: the demo
    network's directory, where the answered demo incident's public answer is published (POS_DEMO_PUBLISH_DIR;
    by default `demo-network` beside the uploads, as instance/ holds both)."""
    import os
    categories, orgs = load_organizations(session)
    session.commit()
    count = messages.load(session, env, categories, orgs)
    count += rating.load(session, env, categories, orgs)
    count += incidents.load(session, env, categories, orgs, publish_dir or os.path.join(os.path.dirname(os.path.abspath(env.upload_dir)), "demo-network"))
    held = votes.load(session, env, orgs)
    return {"categories": len(categories), "organizations": len(orgs), "messages": count, "votes": held}
