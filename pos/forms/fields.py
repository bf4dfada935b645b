"""Form fields whose values are bounded by pos.params: a select of ids and a calendar date.

A tampered value (an id past what a table holds, a date in the year 9999) is an
error on the field, in Russian, so the form refuses it and nothing is written.
"""
from __future__ import annotations

from wtforms import DateField, SelectField

from pos import params


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
