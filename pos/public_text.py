"""Whether a text may be published on the internet: no personal data of anyone (pure).

What is checked (an approved incident answer is published where the post was, clause 2.2.2, and must carry
nobody's personal data): e-mail addresses; telephone numbers (ten or eleven digits in the usual Russian
spellings: +7 / 8, brackets, spaces, dashes); full names — a surname, name and patronymic («Иванов Иван
Иванович», the patronymic ends in -вич / -вна / -чна / -ична / -оглы / -кызы), or a surname with initials
(«Иванов И. И.», «И. И. Иванов»); a passport series and number; an СНИЛС. A name of a street («ул. Ленина»)
or an organization passes. The check is a guard against the usual slips, not a proof: the approving head
still reads the text.
"""
from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"
                    r"|(?<!\d)\d{3}[\s-]\d{2}[\s-]\d{2}(?!\d)")
_UPPER = "А-ЯЁ"
_WORD = rf"[{_UPPER}][а-яё]+(?:-[{_UPPER}][а-яё]+)?"
_PATRONYMIC = r"[А-ЯЁ][а-яё]+(?:вич|вна|чна|ична|инична|оглы|кызы)(?:а|у|ем|е|ой|ы)?"
_FULL_NAME = re.compile(rf"\b{_WORD}\s+{_WORD}\s+{_PATRONYMIC}\b|\b{_WORD}\s+{_PATRONYMIC}\s+{_WORD}\b")
_INITIALS = re.compile(rf"\b{_WORD}\s+[{_UPPER}]\.\s?[{_UPPER}]\.|\b[{_UPPER}]\.\s?[{_UPPER}]\.\s?{_WORD}")
_PASSPORT = re.compile(r"(?<!\d)\d{2}\s?\d{2}\s?№?\s?\d{6}(?!\d)")
_SNILS = re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}[\s-]\d{2}(?!\d)")
_CHECKS = (
    (_EMAIL, "адрес электронной почты"),
    (_SNILS, "номер СНИЛС"),
    (_PHONE, "номер телефона"),
    (_PASSPORT, "серию и номер паспорта"),
    (_FULL_NAME, "фамилию, имя и отчество"),
    (_INITIALS, "фамилию с инициалами"),
)


def personal_data_problems(text: str) -> list[str]:
    """What personal data the text seems to hold, in Russian («номер телефона «8 914 …»»); [] when none."""
    problems = []
    for pattern, what in _CHECKS:
        found = pattern.search(text or "")
        if found:
            problems.append(f"{what} «{found.group(0).strip()}»")
    return problems


def public_text_error(text: str) -> str | None:
    """A Russian sentence for the form, or None when the text may be published."""
    problems = personal_data_problems(text)
    if not problems:
        return None
    return ("Ответ на инцидент публикуется в интернете и не должен содержать персональных данных. "
            "В тексте найдены: " + "; ".join(problems) + ". Уберите их.")
