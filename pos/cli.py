"""Management commands: `flask --app app <command>`; usable by scripts (exit codes, plain output)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlmodel import Session, select

from pos import migrate
from pos.models import Message, Organization, User
from pos.services import accounts, admin_audit
from pos.workflow import ROLE_LABELS, Role


def _session() -> Session:
    return Session(current_app.extensions["pos.engine"], expire_on_commit=False)


def _env():
    from pos.web import env
    return env()


def register_cli(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade():
        """Apply the database migrations (Alembic)."""
        migrate.upgrade(current_app.config["DATABASE_URL"])
        click.echo("База данных обновлена.")

    @app.cli.command("seed")
    @click.option("--classifier-only", is_flag=True, help="Load only the classifier (no demo organizations).")
    def seed_cmd(classifier_only: bool):
        """Load the demo data (classifier, two jurisdictions, staff, messages)."""
        import seed
        with _session() as session:
            if classifier_only:
                seed.load_classifier(session)
                click.echo("Классификатор загружен.")
                return
            try:
                counts = seed.load_demo(session, _env(), current_app.config["DEMO_PUBLISH_DIR"])
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"Загружено: категорий {counts['categories']}, организаций {counts['organizations']}, "
                   f"сообщений {counts['messages']}, голосований и опросов {counts['votes']}.")

    @app.cli.command("create-org")
    @click.option("--name", required=True)
    @click.option("--kind", required=True, type=click.Choice(["region", "executive_body", "subordinate",
                                                               "municipal_admin", "branch_body"]))
    @click.option("--parent", "parent_id", type=int, help="Parent organization id (empty for a new jurisdiction).")
    @click.option("--short-name", default="")
    @click.option("--regulation", type=click.Choice(["amur-232", "tynda-608"]), default="amur-232",
                  help="The regulation of a new jurisdiction.")
    @click.option("--category", "category_ids", type=int, multiple=True, help="Competence: category id (repeat).")
    def create_org(name, kind, parent_id, short_name, regulation, category_ids):
        """Create an organization; prints its id."""
        with _session() as session:
            parent = session.get(Organization, parent_id) if parent_id else None
            if parent_id and parent is None:
                raise click.ClickException(f"Организация {parent_id} не найдена.")
            org = accounts.create_organization(session, name, kind, parent, short_name=short_name,
                                               regulation=regulation, category_ids=list(category_ids))
            admin_audit.record(session, None, "organization", org.id, "create",
                               f"Создана организация «{org.short_name}»",
                               new={"name": org.name, "short_name": org.short_name, "kind": kind,
                                    "parent_id": org.parent_id, "categories": sorted(category_ids)})
            session.commit()
            click.echo(org.id)

    @app.cli.command("create-user")
    @click.option("--login", required=True)
    @click.option("--password", required=True, prompt=True, hide_input=True)
    @click.option("--name", "full_name", required=True)
    @click.option("--position", default="")
    @click.option("--email", default="")
    @click.option("--role", "roles", multiple=True,
                  help="ROLE or ROLE:ORG_ID or head:ORG_ID:CAT_ID,CAT_ID (repeat). Roles: "
                       + ", ".join(r.value for r in Role))
    def create_user(login, password, full_name, position, email, roles):
        """Create a staff user with roles; prints its id. The password must pass the policy."""
        from pos.services.passwords import password_problems
        problems = password_problems(password, login=login, email=email, name=full_name)
        if problems:
            raise click.ClickException("Пароль не подходит: " + " ".join(problems))
        with _session() as session:
            try:
                user = accounts.create_user(session, login, password, full_name, position=position, email=email)
                for spec in roles:
                    role, _, rest = spec.partition(":")
                    org, _, cats = rest.partition(":")
                    if org and session.get(Organization, int(org)) is None:
                        raise ValueError(f"Организация {org} не найдена.")
                    accounts.grant(session, user, role, int(org) if org else None,
                                   [int(c) for c in cats.split(",") if c])
                admin_audit.record(session, None, "user", user.id, "create",
                                   f"Создан пользователь «{user.login}» ({full_name})",
                                   new={"login": user.login, "full_name": full_name, "roles": list(roles)})
            except ValueError as exc:
                session.rollback()
                raise click.ClickException(str(exc)) from None
            session.commit()
            click.echo(user.id)

    @app.cli.command("deactivate-user")
    @click.option("--login", required=True)
    def deactivate_user(login):
        """Deactivate a user: no more sign-in, and every session of the user ends at once."""
        with _session() as session:
            user = session.exec(select(User).where(User.login == login.strip().lower())).first()
            if user is None:
                raise click.ClickException(f"Пользователь «{login}» не найден.")
            admin_audit.record(session, None, "user", user.id, "deactivate",
                               f"Пользователь «{user.login}» деактивирован", old={"is_active": user.is_active},
                               new={"is_active": False})
            accounts.deactivate(session, user)  # commits the record with it
            click.echo(f"Пользователь «{user.login}» деактивирован, его сеансы завершены.")

    @app.cli.command("list-users")
    def list_users():
        """Logins with their roles."""
        from pos.services.directory import grants_for
        with _session() as session:
            for user in session.exec(select(User).order_by(User.login)):
                roles = ", ".join(f"{ROLE_LABELS[Role(g.role)]}" + (f" ({g.organization_id})" if g.organization_id else "")
                                  for g in grants_for(session, user.id))
                click.echo(f"{user.login}\t{user.full_name}\t{roles}")

    @app.cli.command("recompute-deadlines")
    @click.option("--message", "message_ids", type=int, multiple=True, help="Only these messages.")
    def recompute_deadlines(message_ids):
        """Recompute answer and stage deadlines (after a calendar or settings change)."""
        from pos.services.deadlines import recompute
        with _session() as session:
            ids = list(message_ids) or None
            changed = recompute(session, _env(), ids)
        click.echo(f"Сроки пересчитаны, изменено сообщений: {changed}.")

    @app.cli.command("set-stage-deadline")
    @click.option("--stage", required=True,
                  type=click.Choice(["moderation", "coordination", "execution", "agreement", "approval", "answer"]),
                  help="answer: the public answer of an incident (with --kind incident only).")
    @click.option("--amount", required=True, type=int)
    @click.option("--unit", required=True, type=click.Choice(["working_hours", "working_days"]))
    @click.option("--jurisdiction", "jurisdiction_id", type=int, help="Root organization id; empty: the default.")
    @click.option("--kind", default="message", type=click.Choice(["message", "incident"]),
                  help="incident: the clock of incidents (public internet posts).")
    def set_stage_deadline(stage, amount, unit, jurisdiction_id, kind):
        """Set how long a stage may take; active messages are recomputed (and it is recorded)."""
        from pos.services.deadlines import set_stage_rule
        with _session() as session:
            try:
                changed = set_stage_rule(session, _env(), stage, amount, unit, jurisdiction_id, kind)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"Срок этапа сохранён, пересчитано сообщений: {changed}.")

    @app.cli.command("import-posts")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_posts(path):
        """Take in public posts from a JSON Lines file (one post an line, the push endpoint's fields)."""
        import json

        from pos.services import incidents
        posts, lines, bad = [], [], []
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    posts.append(json.loads(line))
                    lines.append(number)
                except ValueError:
                    bad.append(f"строка {number}: не JSON")
        created = duplicate = 0
        cfg = current_app.config
        for start in range(0, len(posts), incidents.MAX_POSTS):
            with _session() as session:
                results = incidents.intake(session, _env(), posts[start:start + incidents.MAX_POSTS],
                                           window_hours=float(cfg["INCIDENT_WINDOW_HOURS"]),
                                           threshold=float(cfg["INCIDENT_SIMILARITY"]))
            for r in results:
                created += r.status == "created"
                duplicate += r.status == "duplicate"
                if r.errors:
                    bad.append(f"строка {lines[start + r.index]}: " + " ".join(r.errors))
        click.echo(f"Публикаций создано: {created}, уже были: {duplicate}, с ошибками: {len(bad)}.")
        for line in bad:
            click.echo(line)

    @app.cli.command("calendar-day")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]))
    @click.option("--working", "mode", flag_value="working", help="A working day (e.g. a transferred Saturday).")
    @click.option("--day-off", "mode", flag_value="day_off", help="A day off (e.g. a regional holiday).")
    @click.option("--reset", "mode", flag_value="reset", help="Back to the production calendar.")
    @click.option("--note", default="")
    def calendar_day(day, mode, note):
        """Correct the production calendar for one day; active messages are recomputed."""
        from pos.services.deadlines import set_calendar_day
        if mode is None:
            raise click.ClickException("Укажите --working, --day-off или --reset.")
        is_working = {"working": True, "day_off": False, "reset": None}[mode]
        with _session() as session:
            changed = set_calendar_day(session, _env(), day.date(), is_working, note)
        click.echo(f"Календарь изменён, пересчитано сообщений: {changed}.")

    @app.cli.command("rating")
    @click.option("--month", required=True, help="The reporting month, YYYY-MM.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv")
    @click.option("--output", type=click.Path(dir_okay=False, writable=True),
                  help="Write to this file (CSV in UTF-8 with BOM, for Excel) instead of printing.")
    def rating_cmd(month, fmt, output):
        """The monthly rating of ИОГВ: the stored month, or its draft computed now if it has none."""
        import json

        from pos.services import rating, rating_export, rating_snapshots
        try:
            month = rating.parse_month(month)
            rules = rating.Rules.from_config(current_app.config)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        with _session() as session:
            snapshot = rating_snapshots.get(session, month)
            if snapshot is None:
                snapshot = rating_snapshots.compute_draft(session, _env(), month, rules)
                click.echo(f"Рейтинг за {month:%m.%Y} рассчитан и сохранён как черновик.", err=True)
            rows = rating_snapshots.rows(session, snapshot)
            if fmt == "json":
                text = json.dumps(rating_export.to_json(snapshot, rows), ensure_ascii=False, indent=1) + "\n"
            elif fmt == "xlsx":
                if not output:
                    raise click.ClickException("XLSX — двоичный файл: укажите --output ФАЙЛ.")
                with open(output, "wb") as f:
                    f.write(rating_export.to_xlsx(snapshot, rows))
                return
            else:
                text = rating_export.to_csv(snapshot, rows)
        if output:
            with open(output, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
                f.write(text)
        else:
            click.echo(text, nl=False)

    @app.cli.command("outbox-retry")
    @click.argument("outbox_ids", type=int, nargs=-1)
    @click.option("--all", "retry_all", is_flag=True, help="Retry every failed row.")
    def outbox_retry(outbox_ids, retry_all):
        """Background events that failed after their last retry: list them, or send them again."""
        from pos.services import outbox
        with _session() as session:
            failed = outbox.list_failed(session, limit=10_000)
            ids = [row.id for row in failed] if retry_all else list(outbox_ids)
            if not ids:
                for row in failed:
                    click.echo(f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.payload.get('event', row.kind)}\t"
                               f"сообщение {row.payload.get('message_id')}\tпопыток {row.attempts}\t{row.last_error}")
                click.echo(f"Не доставлено: {len(failed)}.")
                return
            for outbox_id in ids:
                try:
                    outbox.retry(session, outbox_id)
                except (LookupError, ValueError) as exc:
                    raise click.ClickException(str(exc)) from None
            click.echo(f"Отправлено повторно: {len(ids)}.")
