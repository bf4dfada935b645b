"""The form widgets' markup: the platform's faster writers give exactly what WTForms' own do."""
from __future__ import annotations

import pytest
from markupsafe import Markup
from wtforms import Form, widgets

from pos.forms import fields


@pytest.mark.parametrize("attributes", [
    {},
    {"name": "q", "id": "q", "value": 'x"<y>&\''},
    {"class_": "primary", "for_": "f", "data_role_name": "a", "aria_described_by": "f-error"},
    {"checked": True, "disabled": False, "required": True, "hx-get": "/staff/?a=1&b=2"},
    {"value": Markup('<b title="t">'), "min": 0, "max": 10.5, "label": None},
])
def test_html_params_as_wtforms_writes_them(attributes):
    assert fields.html_params(**attributes) == fields._wt_html_params(**attributes)
    assert widgets.html_params is fields.html_params and widgets.Input.html_params is fields.html_params


class _Choices(Form):
    plain = fields.SelectField(choices=[("", "все"), ("a", "<A> & «Б»"), ("b", None), ("c", "")])
    ids = fields.IdSelectField(render_kw={"hx-get": "/x", "hx-trigger": "change"})
    flags = fields.SelectField(choices=[(True, "да"), (False, "нет")], coerce=lambda v: v in (True, "True"))
    shaped = fields.SelectField(choices=[("a", "A", {"disabled": True}), ("b", "B")])


@pytest.mark.parametrize("data", [{}, {"plain": "a", "ids": "2", "flags": "True"}, {"ids": "junk", "plain": "zz"}])
def test_select_as_wtforms_writes_it(data):
    from werkzeug.datastructures import MultiDict
    form = _Choices(MultiDict(data))
    form.ids.choices = [("", "все"), (1, "Первая"), (2, 'Вторая "кавычки"')]
    for field in form:
        assert field.widget(field) == widgets.Select.__call__(field.widget, field), field.name
        assert field.widget(field, aria_invalid="true") == widgets.Select.__call__(field.widget, field,
                                                                                     aria_invalid="true")
