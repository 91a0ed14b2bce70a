"""A range of London days typed in GOV.UK's date input (``from-day``, ``from-month``, ``from-year`` and
the same for ``to``), as the figures and the access log pages read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from web.london_input import TypedDateError, typed_date

ENDS = ("from", "to")
PARTS = ("day", "month", "year")


@dataclass
class TypedRange:
    """The range as typed (for the boxes), the days read, and the first problem with them."""

    typed: dict[str, dict[str, str]]
    first: date | None = None
    last: date | None = None
    errors: dict[str, str] = field(default_factory=dict)  # the box's id ("from-month") -> the words

    @property
    def error_list(self) -> list[dict[str, str]]:
        """GOV.UK's error summary's list."""
        return [{"text": text, "href": f"#{box}"} for box, text in self.errors.items()]


def read_range(query: Mapping[str, str], default_first: date | None, default_last: date | None) -> TypedRange:
    """The typed range; an end left empty is its default (None: leave it to the service).

    A range that ends before it starts is an error on the last day."""
    typed = {end: {part: query.get(f"{end}-{part}", "").strip() for part in PARTS} for end in ENDS}
    found = TypedRange(typed)
    days: dict[str, date | None] = {"from": default_first, "to": default_last}
    for end, words in (("from", "The first day"), ("to", "The last day")):
        if not any(typed[end].values()):
            continue
        try:
            days[end] = typed_date(typed[end]["day"], typed[end]["month"], typed[end]["year"], words)
        except TypedDateError as exc:
            found.errors[f"{end}-{exc.part}"] = str(exc)
    found.first, found.last = days["from"], days["to"]
    if not found.errors and found.first and found.last and found.last < found.first:
        found.errors["to-day"] = "The last day must be the same as or after the first day"
    for end, day in days.items():
        if day is not None and not any(typed[end].values()):
            typed[end] = {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    return found
