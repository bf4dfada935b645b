"""The password policy: one check for every place a person sets a password (registration, the CLI,
«Сменить пароль»).

Following NIST SP 800-63B: a minimum length and a refusal of what attackers try first — common
passwords, keyboard rows, sequences, repeats, dates, the person's own login, e-mail or name — rather
than rules about character classes. The guessing model and its lists (the most common passwords,
keyboard layouts) come from zxcvbn; a password typed in the Russian layout is also checked as the
keys it was typed with, since «пароль» on a ЙЦУКЕН keyboard is the well-known `gfhjkm`.
"""
from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 200
# zxcvbn's score: 0–1 is guessed within about a million tries, which an online attack reaches.
MIN_SCORE = 2
# zxcvbn's time grows with the length; the first characters decide whether a password is weak.
_CHECKED_PREFIX = 64

TOO_SHORT = f"Пароль должен быть не короче {MIN_LENGTH} символов."
TOO_LONG = f"Пароль длиннее {MAX_LENGTH} символов."
ONLY_DIGITS = "Пароль не может состоять только из цифр."
SAME_AS_LOGIN = "Пароль не должен совпадать с логином или адресом электронной почты."
SAME_AS_NAME = "Пароль не должен совпадать с вашим именем."
HAS_PERSONAL = "Пароль легко угадать: в нём ваш логин, адрес почты или имя."
COMMON = "Это один из самых распространённых паролей: его подбирают первым. Придумайте другой."
KEYBOARD = "Пароль — ряд соседних клавиш (как qwerty или йцукен): его подбирают первым."
SEQUENCE = "Пароль — простая последовательность символов (как abcdefgh или 12345678)."
REPEAT = "Пароль состоит из повторов одного символа или фрагмента (как aaaaaaaa)."
DATE = "Пароль похож на дату: такие пароли подбирают первыми."
WEAK = ("Пароль слишком простой, его легко подобрать. Возьмите несколько слов, которые вместе "
        "не встречаются, или добавьте необычные символы.")

_RU = "ёйцукенгшщзхъфывапролджэячсмитьбю"
_EN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,."
_LAYOUT = str.maketrans(_RU + _RU.upper(), _EN + _EN.upper())

# The reason a weak password is weak, by the kind of match zxcvbn found in it.
_BY_PATTERN = {"spatial": KEYBOARD, "sequence": SEQUENCE, "repeat": REPEAT, "date": DATE}


def _personal(login: str, email: str, name: str) -> tuple[set[str], set[str]]:
    """What the person's own data gives an attacker: (login-like values, name-like values), lowercased."""
    logins = {v.strip().lower() for v in (login, email) if v and v.strip()}
    logins |= {v.partition("@")[0] for v in list(logins) if "@" in v}
    names = {name.strip().lower()} if name and name.strip() else set()
    names |= {part for n in list(names) for part in n.split() if len(part) >= 3}
    return {v for v in logins if v}, names


def _reasons(result: dict) -> list[str]:
    """Why zxcvbn found a password weak, from the matches it is made of."""
    reasons = []
    for match in result["sequence"]:
        if match["pattern"] == "dictionary":
            reason = {"passwords": COMMON, "user_inputs": HAS_PERSONAL}.get(match.get("dictionary_name"), WEAK)
        else:
            reason = _BY_PATTERN.get(match["pattern"], WEAK)
        if reason not in reasons:
            reasons.append(reason)
    specific = [r for r in reasons if r != WEAK]
    return specific or [WEAK]


def password_problems(password: str, *, login: str = "", email: str = "", name: str = "") -> list[str]:
    """What is wrong with `password` as a new password, in Russian; an empty list when it will do."""
    password = password or ""
    if len(password) > MAX_LENGTH:
        return [TOO_LONG]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    if password.isdigit():
        problems.append(ONLY_DIGITS)
    logins, names = _personal(login, email, name)
    lowered = password.strip().lower()
    if lowered in logins:
        problems.append(SAME_AS_LOGIN)
    elif lowered in names or (lowered.split() and all(word in names for word in lowered.split())):
        problems.append(SAME_AS_NAME)
    if problems:
        return problems
    user_inputs = sorted(logins | names)
    checked = password[:_CHECKED_PREFIX]
    weakest = min((zxcvbn(candidate, user_inputs=user_inputs)
                   for candidate in {checked, checked.translate(_LAYOUT)}), key=lambda r: r["guesses"])
    if weakest["score"] < MIN_SCORE:
        return _reasons(weakest)
    return []


WRONG_CURRENT = "Текущий пароль указан неверно."


def check_change(user, current: str, new: str, confirm: str) -> None:
    """«Сменить пароль»: the current password, the policy, the repeat — every problem at once
    (`pos.services.checks.Problems`)."""
    from pos.services import accounts
    from pos.services.checks import Collector

    found = Collector()
    if not current:
        found.add("current_password", "Введите текущий пароль.")
    elif not accounts.verify_password(user, current):
        found.add("current_password", WRONG_CURRENT)
    if not new:
        found.add("new_password", "Придумайте новый пароль.")
    else:
        for problem in password_problems(new, login=user.login, email=user.email, name=user.full_name):
            found.add("new_password", problem)
        if new == current:
            found.add("new_password", "Новый пароль совпадает с текущим: придумайте другой.")
    if not confirm:
        found.add("new_password_confirm", "Повторите новый пароль.")
    elif new and confirm != new:
        found.add("new_password_confirm", "Пароли не совпадают.")
    found.raise_any()


def change_password(session, user, current: str, new: str, confirm: str) -> None:
    """Check the change (`check_change`), then store the new password and commit."""
    from pos.services import accounts

    check_change(user, current, new, confirm)
    accounts.set_password(session, user, new)
    session.commit()
