"""Whether a text may be published on the internet: no personal data of anyone (pure).

What is checked (an approved incident answer is published where the post was, clause 2.2.2, and must carry
nobody's personal data): e-mail addresses; telephone numbers (+7 / 8 and ten digits, ten digits, or a local
number of 5–7 digits in groups, with the usual brackets, spaces and dashes); full names — a surname, name and patronymic («Иванов Иван
Иванович», the patronymic ends in -вич / -вна / -чна / -ична / -оглы / -кызы), or a surname with initials
(«Иванов И. И.», «И. И. Иванов»); a passport series and number; an СНИЛС. A name of a street («ул. Ленина»)
or an organization passes. The check is a guard against the usual slips, not a proof: the approving head
still reads the text.
"""
from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the usual separators; what its digits count makes it (`_is_phone`).
_DIGITS = re.compile(r"(?<![\d.,])\+?\d[\d\s()\-]{4,20}\d(?![\d.,])")
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
    (_PASSPORT, "серию и номер паспорта"),
    (_FULL_NAME, "фамилию, имя и отчество"),
    (_INITIALS, "фамилию с инициалами"),
)


def _is_phone(run: str) -> bool:
    """+7 / 8 and ten digits, ten digits, or a local number of 5–7 digits written in groups (22-33-44)."""
    digits = re.sub(r"\D", "", run)
    if len(digits) == 11:
        return digits[0] in "78"
    if len(digits) == 10:
        return True
    return 5 <= len(digits) <= 7 and "-" in run


def personal_data_problems(text: str) -> list[str]:
    """What personal data the text seems to hold, in Russian («номер телефона «8 914 …»»); [] when none."""
    problems = []
    phone = next((m.group(0).strip() for m in _DIGITS.finditer(text or "") if _is_phone(m.group(0))), None)
    if phone:
        problems.append(f"номер телефона «{phone}»")
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
