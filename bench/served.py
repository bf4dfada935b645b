"""The apps `python -m bench pages` serves through gunicorn: the platform as production builds it, with a
count of its SQL statements added here (never in pos/), and the floor, a bare Flask app.

- `bench.served:app`: `pos.create_app()` and nothing else changed, except that every response carries
  `X-Bench-SQL`: the statements its request sent to the database (a SQLAlchemy event listener on the
  engine class, counting per request in a context variable).
- `bench.served:bare`: a Flask app that renders a 50-row table from a Python list with Jinja, the cost
  of the web stack itself (gunicorn, WSGI, Flask, a template) on the same machine in the same run.
- `bench.served:bare_post`: the floor of `python -m bench intake`, a Flask app whose
  `POST /open311/v2/requests.json` reads the form and answers a JSON list shaped as the platform's
  (no database, no Redis): the cost of receiving a POST and answering it.
"""
from __future__ import annotations

from contextvars import ContextVar

from flask import Flask, render_template_string
from sqlalchemy import event
from sqlalchemy.engine import Engine

SQL_HEADER = "X-Bench-SQL"
_statements: ContextVar[list[int] | None] = ContextVar("bench_sql", default=None)


@event.listens_for(Engine, "before_cursor_execute")
def _count(_conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1


def _counted(flask_app: Flask) -> Flask:
    @flask_app.before_request
    def _start() -> None:
        _statements.set([0])

    @flask_app.after_request
    def _report(response):
        counter = _statements.get()
        # A streamed body (an export) runs more statements after this: they are counted in the headers
        # of the next request of the same thread, not here; the bench reads the page's own rows at once.
        response.headers[SQL_HEADER] = str(counter[0] if counter else 0)
        return response

    return flask_app


def make_app() -> Flask:
    from pos import create_app
    return _counted(create_app())


BARE_ROWS = [(i, f"Строка {i}", f"Организация {i % 7}", i * 3 % 100, f"{i * 1.7:.1f}") for i in range(1, 51)]
BARE_TEMPLATE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Таблица</title></head>
<body><main><h1>Таблица</h1><table><thead><tr><th>№</th><th>Название</th><th>Организация</th><th>Число</th>
<th>Доля, %</th></tr></thead><tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}
</tr>{% endfor %}</tbody></table></main></body></html>"""


def make_bare() -> Flask:
    bare_app = Flask("bench_bare")

    @bare_app.get("/")
    def table():
        return render_template_string(BARE_TEMPLATE, rows=BARE_ROWS)

    return bare_app


def make_bare_post() -> Flask:
    import itertools
    import json
    import secrets

    from flask import Response, request

    bare_app = Flask("bench_bare_post")
    numbers = itertools.count(1)

    @bare_app.post("/open311/v2/requests.json")
    def create():
        form = request.form.to_dict()
        if not form.get("api_key") or not form.get("service_code"):
            return Response('[{"code": 400, "description": "bad"}]', 400, content_type="application/json")
        payload = [{"service_request_id": f"ПОС-2026-{next(numbers):06d}", "token": secrets.token_urlsafe(12),
                    "service_notice": "Сообщение зарегистрировано.", "account_id": None}]
        return Response(json.dumps(payload, ensure_ascii=False), 200, content_type="application/json; charset=utf-8")

    return bare_app


def __getattr__(name: str):
    # Built only when gunicorn asks for one of them: the bare server never imports the platform.
    if name == "app":
        return make_app()
    if name == "bare":
        return make_bare()
    if name == "bare_post":
        return make_bare_post()
    raise AttributeError(name)
