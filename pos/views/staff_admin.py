"""Administrator: background events that failed after their last retry, and sending them again."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from pos.auth import current_actor, staff_required
from pos.services import outbox
from pos.views.staff import bp
from pos.web import db, register_nav
from pos.wording import OUTBOX_EVENTS, OUTBOX_KINDS, OUTBOX_STATUS
from pos.workflow import Role

register_nav("staff.outbox_failed", "Сбои доставки", roles=(Role.ADMINISTRATOR.value,))


def _administrator_only() -> None:
    if not current_actor().has(Role.ADMINISTRATOR):
        abort(403)


@bp.get("/outbox")
@staff_required
def outbox_failed():
    _administrator_only()
    session = db()
    counts = outbox.status_counts(session)
    return render_template("staff/outbox.html", rows=outbox.list_failed(session),
                           counts=[(OUTBOX_STATUS.get(status, status), counts[status])
                                   for status in sorted(counts, key=_status_order)],
                           kinds=OUTBOX_KINDS, events=OUTBOX_EVENTS)


def _status_order(status: str) -> int:
    order = list(OUTBOX_STATUS)
    return order.index(status) if status in order else len(order)


@bp.post("/outbox/<int:outbox_id>/retry")
@staff_required
def outbox_retry(outbox_id: int):
    _administrator_only()
    try:
        outbox.retry(db(), outbox_id)
    except LookupError:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Событие {outbox_id} поставлено в очередь повторно.", "success")
    return redirect(url_for("staff.outbox_failed"), 303)
