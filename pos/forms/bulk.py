"""The inbox's bulk form: the messages picked on the page (each with the version its row showed) and the action."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField

from pos import params
from pos.forms.fields import IdSelectField, SelectField
from pos.forms.staff import _RussianMeta
from pos.services.bulk import MAX_MESSAGES


class BulkForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    action = SelectField("Действие", validate_choice=False)  # the pressed button's value
    all_on_page = BooleanField("Выбрать все на странице")
    to_organization_id = IdSelectField("Организация для выбранных")
    to_executor_id = IdSelectField("Исполнитель для выбранных")


def picks(values: list[str]) -> list[tuple[int, int]]:
    """The picked rows, "id:version" each, in order and once; a value out of shape is a BadValue."""
    result, seen = [], set()
    for value in values[:MAX_MESSAGES + 1]:
        message_id, _, version = str(value).partition(":")
        pair = (params.parse_id(message_id, "Сообщение"), params.parse_id(version, "Версия"))
        if None in pair:
            raise params.BadValue("Неверный выбор сообщений.")
        if pair[0] not in seen:
            seen.add(pair[0])
            result.append(pair)
    if len(result) > MAX_MESSAGES:
        raise params.BadValue(f"Выберите не больше {MAX_MESSAGES} сообщений за раз.")
    return result
