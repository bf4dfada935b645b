"""The filter of every analytics page: a period, a jurisdiction, an organization with its subtree, the kind
(official messages, incidents, all; GET).

Interface: `AnalyticsFilterForm(request.args)`, then `set_choices(jurisdictions, organizations)`
with (id, label) pairs the person may choose, then `validate()`. A value outside the choices, a date out
of pos.params' bounds, a period that ends before it starts or is longer than MAX_DAYS is an error on its
field (the view answers 400 and shows the form). Empty dates mean the last DEFAULT_DAYS days up to today.
"""
from __future__ import annotations

from wtforms import Form
from wtforms.validators import Optional

from pos.forms.fields import BoundedDateField, IdSelectField, SelectField
from pos.forms.staff import _RussianMeta

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a longer period is a bench test, not a question anybody asks this page


class AnalyticsFilterForm(Form):
    class Meta(_RussianMeta):
        pass

    date_from = BoundedDateField("Период с", validators=[Optional()])
    date_to = BoundedDateField("по", validators=[Optional()])
    jurisdiction_id = IdSelectField("Юрисдикция", validators=[Optional()])
    organization_id = IdSelectField("Организация (с подведомственными)", validators=[Optional()])
    # Clause 2.2.5: official messages and incidents (public internet posts) apart and together.
    kind = SelectField("Вид", default="", choices=[("", "все"), ("message", "сообщения"), ("incident", "инциденты")])

    def set_choices(self, jurisdictions: list[tuple[int, str]], organizations: list[tuple[int, str]],
                    all_label: str = "все") -> None:
        self.jurisdiction_id.choices = [("", all_label)] + jurisdictions
        self.organization_id.choices = [("", all_label)] + organizations

    def _check_choice(self, field) -> bool:
        allowed = {value for value, _label in field.choices if value != ""}
        if field.data is not None and field.data not in allowed:
            field.errors = [*field.errors, "Такого значения нет в списке."]
            return False
        return True

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = self._check_choice(self.jurisdiction_id) and ok
        ok = self._check_choice(self.organization_id) and ok
        start, end = self.date_from.data, self.date_to.data
        if start and end and not self.date_from.errors and not self.date_to.errors:
            if end < start:
                self.date_to.errors = [*self.date_to.errors, "Конец периода раньше его начала."]
                ok = False
            elif (end - start).days + 1 > MAX_DAYS:
                self.date_to.errors = [*self.date_to.errors, f"Период не длиннее {MAX_DAYS} дней."]
                ok = False
        return ok
