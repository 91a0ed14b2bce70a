"""Personal data at the booking edge: validated in clear, sealed before it reaches the domain."""

from __future__ import annotations

import itertools
import re

import phonenumbers

from schemas.booking import CallerDetails
from schemas.personal import Sealed
from services.common.shredding import KeyStore, SubjectErased, subject_id_for

# Ofcom's drama range, 07700 900000 to 900999: never allocated, so libphonenumber rejects it,
# but tests and the public sector's SMS smoke tests use it. Allowed outside production only.
_DRAMA = re.compile(r"^\+447700900\d{3}$")
# The UK postcode shape (BS 7666), e.g. "AL5 4GZ", "SG1 2HE", "EC1A 1BB".
_POSTCODE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})$")


class InvalidPersonalData(ValueError):
    """A phone number or postcode that cannot be right; carries the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_PHONE_CHARACTERS = re.compile(r"[0-9 +()\-.]+")


def normalise_phone(raw: str, field: str, *, production: bool) -> str:
    """A UK (or international) number in E.164, or InvalidPersonalData.

    Only the characters a phone number is written with: phonenumbers would find the number
    in "Zeb 07700 900462" and take it, and with it a name typed into the wrong field.
    """
    if not _PHONE_CHARACTERS.fullmatch(raw):
        raise InvalidPersonalData(field, "a phone number holds only digits, spaces and + ( ) - .")
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPersonalData(field, f"not a phone number ({exc})") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if _DRAMA.match(e164) and not production:
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidPersonalData(field, "not a valid phone number")
    return e164


def normalise_postcode(raw: str, field: str) -> str:
    """A UK postcode in its standard spacing and capitals, or InvalidPersonalData."""
    compact = re.sub(r"\s+", "", raw).upper()
    formatted = f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact
    if not _POSTCODE.match(formatted):
        raise InvalidPersonalData(field, "not a UK postcode")
    return formatted


async def seal_caller(
    keys: KeyStore,
    *,
    name: str,
    phone: str | None,
    address: str | None,
    texts: dict[str, str],
    secret: str,
) -> tuple[CallerDetails, dict[str, Sealed]]:
    """Seal the caller's details and free texts under the caller's own key.

    The subject id is derived from the phone number when there is one, so every
    booking of the same caller shares one key and one erasure removes them all.
    """
    anchor = phone or f"{name}|{address or ''}"
    values = {"name": name}
    if phone:
        values["phone"] = phone
    if address:
        values["address"] = address
    # After an erasure the same caller is a new data subject: their old key stays destroyed.
    for generation in itertools.count():
        subject = subject_id_for("caller", anchor if generation == 0 else f"{anchor}#{generation}", secret)
        try:
            sealed = await keys.seal(subject, {**values, **texts})
            break
        except SubjectErased:
            continue
    caller = CallerDetails(
        subject_id=subject, name=sealed["name"], phone=sealed.get("phone"), address=sealed.get("address")
    )
    return caller, {k: sealed[k] for k in texts}
