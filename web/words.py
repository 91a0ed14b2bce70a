"""Plain words for the pages: lists, days of the week, moments, and codes made readable."""

from __future__ import annotations

import re

from services.common.reference import WEEKDAYS, Weekday


def spoken_days(days: tuple[Weekday, ...]) -> str:
    """'every day', 'Sunday to Thursday', or 'Monday, Wednesday and Friday'."""
    wanted = set(days)
    if len(wanted) == len(WEEKDAYS):
        return "every day"
    for start in range(len(WEEKDAYS)):
        run = [WEEKDAYS[(start + i) % len(WEEKDAYS)] for i in range(len(wanted))]
        if len(run) >= 3 and set(run) == wanted:
            return f"{run[0].title()} to {run[-1].title()}"
    return spoken_list([d.title() for d in WEEKDAYS if d in wanted])


def spoken_list(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """The text with its first letter a capital, the rest untouched (unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def plain(code: str) -> str:
    """'no-longer-needed' or 'SomethingHappened' as 'No longer needed' / 'Something happened'."""
    return sentence(re.sub(r"(?<!^)(?=[A-Z])", " ", code).replace("-", " ").replace("_", " ").lower())


def css_word(code: str) -> str:
    """A code as a CSS class word: 'missed-by-public', 'none'."""
    return re.sub(r"[^a-z]+", "-", code.lower()).strip("-")
