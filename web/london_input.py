"""Dates and London wall-clock times typed into the pages, read as days and UTC instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from services.common.fields import FIRST_YEAR, LAST_YEAR
from services.common.london import LONDON, local, spoken_clock, spoken_day


class LocalTimeError(ValueError):
    """A London wall-clock time that a clock change skips or repeats."""


def _clock_change(day: date, wall: time) -> Literal["skipped", "repeated"] | None:
    """Whether a London wall-clock time is skipped or repeated by a clock change, or neither."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=LONDON, fold=0)
    if first.utcoffset() == naive.replace(tzinfo=LONDON, fold=1).utcoffset():
        return None
    # zoneinfo gives two offsets for a skipped time too; only a repeated one survives the round trip.
    round_trip = first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    return "skipped" if round_trip != naive else "repeated"


def london_instant(day: date, wall: time) -> datetime:
    """The UTC instant of a Europe/London wall-clock time; LocalTimeError when it is skipped or repeated."""
    change = _clock_change(day, wall)
    if change is None:
        return datetime.combine(day, wall, tzinfo=LONDON).astimezone(UTC)
    # Walk out to the edges of the odd hour so the message can name it (two hours of minutes at most).
    minute = timedelta(minutes=1)
    start = end = datetime.combine(day, wall)
    while start.time() != time(0) and _clock_change(day, (start - minute).time()) == change:
        start -= minute
    while end.time() != time(23, 59) and _clock_change(day, (end + minute).time()) == change:
        end += minute
    span = f"from {spoken_clock(start.time())} up to {spoken_clock((end + minute).time())}"
    when = f"{spoken_clock(wall)} on {spoken_day(day)}"
    if change == "skipped":
        raise LocalTimeError(
            f"{when} did not happen in London: the clocks went forward that night, "
            f"so there was no time {span}. Choose a time outside that hour."
        )
    raise LocalTimeError(
        f"{when} happened twice in London: the clocks went back that night, so every time {span} "
        "came round twice. Choose a time outside that hour."
    )


def day_param(text: str | None, default: date) -> date:
    """A year-month-day query parameter, or ``default`` when it is empty; ValueError when it is not a date.

    Only the days the services take (2000 to 2099): at the calendar's ends the previous and
    next day's links would overflow.
    """
    if not text:
        return default
    day = date.fromisoformat(text.strip())
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"a day from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def time_param(text: str) -> time:
    """A 24-hour 'HH:MM' (or 'H:MM') time to the minute; ValueError when it is not one."""
    parsed = time.fromisoformat(text.strip().zfill(5))
    return parsed.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class AsAt:
    """The 'as it stood at' request: the instant, or the error to show, and the form's values."""

    instant: datetime | None
    error: str | None
    field: str | None
    date_text: str
    time_text: str
    # The date input's boxes as typed (day, month, year), shown again when they are wrong.
    typed: tuple[str, str, str] | None = None

    @property
    def date_parts(self) -> dict[str, str]:
        """The date input's day, month and year boxes: as typed, or from the date read."""
        if self.typed is not None:
            return dict(zip(("day", "month", "year"), self.typed, strict=True))
        try:
            read = date.fromisoformat(self.date_text)
        except ValueError:
            return {"day": "", "month": "", "year": ""}
        return {"day": str(read.day), "month": str(read.month), "year": str(read.year)}


def resolve_as_at(
    at: str | None, at_date: str | None, at_time: str | None, typed: tuple[str, str, str] | None = None
) -> AsAt:
    """Read the form (a London date, in GOV.UK's date input or as year-month-day, and a time)
    or an ``at`` instant into a UTC instant."""
    if typed is not None and any(part.strip() for part in typed):
        time_text = (at_time or "").strip()
        try:
            at_date = typed_date(*typed, what="The date").isoformat()
        except TypedDateError as exc:
            return AsAt(None, str(exc), f"at-{exc.part}", "", time_text, typed)
        if not time_text:
            return AsAt(None, "Enter the time as well as the date.", "at_time", at_date, "", typed)
    date_text, time_text = (at_date or "").strip(), (at_time or "").strip()
    if date_text or time_text:
        return _from_form(date_text, time_text)
    if at:
        why = "The 'at' instant must be ISO 8601 with an offset, such as 2026-12-02T17:30:00+00:00."
        try:
            given = datetime.fromisoformat(at.strip())
            # At the calendar's ends (9999-12-31T23:59-23:59) the conversion overflows: not an instant.
            wall_clock = local(given) if given.tzinfo is not None else None
        except (ValueError, OverflowError):
            wall_clock = None
        if wall_clock is None:
            return AsAt(None, why, "at-day", "", "")
        return AsAt(given.astimezone(UTC), None, None, wall_clock.date().isoformat(), f"{wall_clock:%H:%M}")
    return AsAt(None, None, None, "", "")


def _from_form(date_text: str, time_text: str) -> AsAt:
    """The form's London date and time as an instant, or the first thing wrong with them."""

    def refuse(why: str, field: str) -> AsAt:
        return AsAt(None, why, field, date_text, time_text)

    if not date_text:
        return refuse("Enter the date as well as the time.", "at-day")
    if not time_text:
        return refuse("Enter the time as well as the date.", "at_time")
    try:
        day = date.fromisoformat(date_text)
    except ValueError:
        return refuse("The date must be a real date", "at-day")
    try:
        wall = time_param(time_text)
    except ValueError:
        return refuse("Enter the time on the 24-hour clock, for example 17:30.", "at_time")
    try:
        return AsAt(london_instant(day, wall), None, None, date_text, time_text)
    except LocalTimeError as exc:
        return refuse(str(exc), "at_time")


MONTHS = {
    name: number
    for number, full in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"),
        start=1,
    )
    for name in (full, full[:3])
}  # fmt: skip


class TypedDateError(ValueError):
    """A date typed in GOV.UK's date input that is not whole or not real; ``part`` names the box to fix."""

    def __init__(self, message: str, part: Literal["day", "month", "year"]) -> None:
        super().__init__(message)
        self.part = part


def typed_date(day: str, month: str, year: str, what: str = "The date") -> date:
    """A date from GOV.UK's date input (day, month and year boxes), read as its pattern advises.

    Spaces are ignored, the month may be a number or a name ('6', 'June', 'jun'), and each
    message says which box is wrong in GOV.UK's words ('The date must include a month').
    """
    parts = {"day": day.strip(), "month": month.strip().lower().rstrip("."), "year": year.strip()}
    missing = [name for name, text in parts.items() if not text]
    if len(missing) == 3:
        raise TypedDateError(f"Enter {what[0].lower()}{what[1:]}", "day")
    if missing:
        both = " and a ".join(missing)
        raise TypedDateError(f"{what} must include a {both}", missing[0])  # type: ignore[arg-type]
    month_number = MONTHS.get(parts["month"]) or (int(parts["month"]) if parts["month"].isdigit() else 0)
    if not parts["day"].isdigit():
        raise TypedDateError(f"{what} must be a real date", "day")
    if not month_number:
        raise TypedDateError(f"{what} must be a real date", "month")
    if not (parts["year"].isdigit() and len(parts["year"]) == 4):
        raise TypedDateError("Year must include 4 numbers", "year")
    try:
        typed = date(int(parts["year"]), month_number, int(parts["day"]))
    except ValueError:
        raise TypedDateError(f"{what} must be a real date", "day") from None
    if not FIRST_YEAR <= typed.year <= LAST_YEAR:
        raise TypedDateError(f"{what} must be between {FIRST_YEAR} and {LAST_YEAR}", "year")
    return typed
