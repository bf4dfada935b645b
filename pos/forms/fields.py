"""Form fields whose values are bounded by pos.params: a select of ids and a calendar date; the select
every form uses, and the attributes every widget writes.

A tampered value (an id past what a table holds, a date in the year 9999) is an
error on the field, in Russian, so the form refuses it and nothing is written.
"""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import DateField
from wtforms import SelectField as WtSelectField
from wtforms import widgets

from pos import params

_wt_html_params = widgets.html_params


def html_params(**kwargs) -> Markup:
    """WTForms' `html_params`, the same attributes in the same (name) order, each by an f-string: the library's
    `Markup.format` runs a Python string formatter per attribute, a fifth of an inbox filter form's rendering."""
    attributes = []
    for key, value in sorted(kwargs.items()):
        key = escape(widgets.core.clean_key(key))
        if value is True:
            attributes.append(key)
        elif value is not False:
            attributes.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(attributes))


# Every widget and label of WTForms writes its attributes through this one function (the inputs and buttons
# keep it as a class attribute): ours in its place, for every form.
widgets.core.html_params = widgets.html_params = html_params
widgets.Input.html_params = widgets.Button.html_params = staticmethod(html_params)


class SelectWidget(widgets.Select):
    """WTForms' select, a plain option written by one f-string: the same markup as `html_params` gives
    (attributes in name order), where its `Markup.format` per attribute of every option was a tenth of an
    inbox page's time. An option with attributes of its own goes the library's way."""

    def __call__(self, field, **kwargs):
        """Choices given as (value, label) pairs, the forms' only kind, straight from the list: the library
        makes a choice object of each pair three times over (and inspects `render_option`'s signature) for
        every select it writes. Groups, `multiple`, choices of other shapes: the library's way."""
        choices = field.choices
        if self.multiple or type(choices) is not list or not all(type(c) is tuple and len(c) == 2 for c in choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        coerce, data = field.coerce, field.data
        html = [f"<select {widgets.html_params(name=field.name, **kwargs)}>"]
        for value, label in choices:
            selected = "selected " if coerce(value) == data else ""
            shown = str(value) if isinstance(value, bool) else value
            html.append(f'<option {selected}value="{escape(shown)}">{escape(label or value)}</option>')
        html.append("</select>")
        return Markup("".join(html))

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')


class SelectField(WtSelectField):
    widget = SelectWidget()


def optional_int(value):
    """An id for comparing choices (None for anything that is not one)."""
    return params.id_or_none(value)


class IdSelectField(SelectField):
    """A select whose options are row ids; the choices themselves are checked by the service."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", optional_int)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = params.parse_id(valuelist[0], self.label.text)
        except params.BadValue as exc:
            self.data = None
            raise ValueError(str(exc)) from None


class BoundedDateField(DateField):
    """A date YYYY-MM-DD within pos.params' years (the browser's date picker gets the same bounds)."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"min": params.MIN_DATE.isoformat(), "max": params.MAX_DATE.isoformat(),
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            return
        try:
            self.data = params.parse_date(" ".join(valuelist).strip(), self.label.text)
        except params.BadValue as exc:
            self.data = None
            raise ValueError(str(exc)) from None
