"""How long a text is, counted the way GOV.UK Notify counts it, and how many parts it costs.

Notify sends GSM 03.38 text: 160 characters fit one part; a longer text is split into
parts of 153 (306 for two, 459 for three, ...), and Notify refuses anything over 918.
The characters of GSM's extension table (``[]{}^\\|~€``) take two places each. A text
with any character outside GSM goes as Unicode: 70 to one part, 67 to each of several.
"""

from __future__ import annotations

import math

# GSM 03.38's basic character set (what one place holds).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38's extension table: each is an escape and a character, so two places.
GSM_EXTENDED = frozenset("[]{}^\\|~€\f")
# Notify's most: six parts of 153.
MAX_LENGTH = 918
_ONE_PART = 160
_PART = 153
_UNICODE_ONE_PART = 70
_UNICODE_PART = 67


def is_gsm(text: str) -> bool:
    """Whether every character of ``text`` is in GSM 03.38 (basic or extension)."""
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def notify_length(text: str) -> int:
    """The text's length as Notify counts it: extension characters twice, the rest once."""
    return sum(2 if c in GSM_EXTENDED else 1 for c in text)


def fragments(text: str) -> int:
    """How many SMS parts the text is sent in (what Notify bills)."""
    if not is_gsm(text):
        n = len(text)
        return 1 if n <= _UNICODE_ONE_PART else math.ceil(n / _UNICODE_PART)
    n = notify_length(text)
    return 1 if n <= _ONE_PART else math.ceil(n / _PART)


def too_long(text: str) -> bool:
    """Whether Notify would refuse the text (over 918 characters as it counts them)."""
    return notify_length(text) > MAX_LENGTH
