"""Field types for what people send: each one's OpenAPI schema says exactly what it accepts.

A date, a time or a text is checked against one regular expression, the very one the
published document carries as the field's ``pattern``: so a request the document calls
valid is never refused as malformed, and one it calls invalid never gets in. Dates are
kept to the years 2000 to 2099 (a diary of year 9999 is a typo, and its arithmetic would
overflow); texts hold no control characters (a NUL reaches no database) and at least one
character that is not a space. Lengths count the text as sent (nothing is stripped first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

FIRST_YEAR, LAST_YEAR = 2000, 2099

# A calendar date of 2000-2099, exactly: months' lengths, and 29 February in leap years only
# (every fourth year of this span, 2000 included).
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)"
)
_DATE = rf"(?:20[0-9]{{2}}-{_MONTH_DAY}|20(?:[02468][048]|[13579][26])-02-29)"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
DAY_PATTERN = rf"^{_DATE}$"
TIME_PATTERN = rf"^{_CLOCK}(?::[0-5][0-9])?$"
INSTANT_PATTERN = rf"^{_DATE}T{_CLOCK}:[0-5][0-9](?:\.[0-9]{{1,6}})?(?:Z|[+-]{_CLOCK})$"

# The spaces str.strip() removes that are not control characters (those are refused anyway).
_SPACES = r"\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# C0 and C1 controls and DEL; free text keeps tabs and line breaks.
_CONTROLS = r"\u0000-\u001f\u007f-\u009f"
_LINE_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
LINE_PATTERN = rf"^[^{_CONTROLS}]*[^{_CONTROLS}{_SPACES}][^{_CONTROLS}]*$"
TEXT_PATTERN = rf"^[^{_LINE_CONTROLS}]*[^{_LINE_CONTROLS}{_SPACES}][^{_LINE_CONTROLS}]*$"


# Half a UTF-16 pair, which JSON can spell (\\ud800) but no UTF-8 text (nor a database) holds.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _matching(pattern: str, what: str) -> Any:
    """A check that the raw value is a string matching ``pattern`` whole (as JSON Schema reads it)."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, date | time):
            return value  # made in Python (a TOML file, a model), not sent
        if not isinstance(value, str) or compiled.fullmatch(value) is None:
            raise ValueError(what)
        return value

    return check


def _visible(pattern: str, what: str) -> Any:
    """A check that a text matches ``pattern`` whole; anything but a string is left to the type's check."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and (compiled.fullmatch(value) is None or _SURROGATE.search(value)):
            raise ValueError(what)
        return value

    return check


def _schema(pattern: str, fmt: str | None = None) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    if fmt is not None:
        schema["format"] = fmt
    return WithJsonSchema(schema)


_DAY_WHY = f"a date as YYYY-MM-DD, from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"
_TIME_WHY = "a local time as HH:MM (24-hour clock), optionally with :SS"
_INSTANT_WHY = (
    f"an instant as YYYY-MM-DDTHH:MM:SS with Z or an offset (+01:00), from {FIRST_YEAR} to {LAST_YEAR}"
)
_LINE_WHY = "text of visible characters: not only spaces, and no control characters"
_TEXT_WHY = "text of visible characters: not only spaces, and no control characters but line breaks and tabs"

# A Europe/London calendar date, 2000-01-01 to 2099-12-31.
Day = Annotated[date, BeforeValidator(_matching(DAY_PATTERN, _DAY_WHY)), _schema(DAY_PATTERN, "date")]
# A wall-clock time, "17:00" or "17:00:00".
LocalTime = Annotated[time, BeforeValidator(_matching(TIME_PATTERN, _TIME_WHY)), _schema(TIME_PATTERN)]
# An instant with its offset, RFC 3339, in 2000-2099.
Instant = Annotated[
    datetime, BeforeValidator(_matching(INSTANT_PATTERN, _INSTANT_WHY)), _schema(INSTANT_PATTERN, "date-time")
]


@dataclass(frozen=True)
class Visible:
    """A text of visible characters up to ``max_length``: ``Annotated[str, Visible(200)]``.

    One line (a name, a reason, a reference) unless ``lines`` (free text: tabs and line breaks
    allowed). The text is kept as sent: its length counts every character.
    """

    max_length: int
    min_length: int = 1
    lines: bool = False

    @property
    def pattern(self) -> str:
        """The regular expression the text matches whole, as published."""
        return TEXT_PATTERN if self.lines else LINE_PATTERN

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        inner = core_schema.str_schema(min_length=self.min_length, max_length=self.max_length)
        why = _TEXT_WHY if self.lines else _LINE_WHY
        return core_schema.no_info_before_validator_function(_visible(self.pattern, why), inner)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        published = handler(schema)
        published["pattern"] = self.pattern
        return published
