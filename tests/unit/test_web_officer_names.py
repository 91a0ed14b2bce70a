"""How the pages name an officer: collar number and name, 'name not recorded' without one, never the id."""

from __future__ import annotations

from web.officers import KnownOfficer, KnownOfficers, officer_label
from web.pages.events import who

ID = "0b9f6b1e-aaaa-4c1e-9a57-3e8d4b1f0c21"
NAMED = KnownOfficers({ID: KnownOfficer("4127", "Priya Shah")}, read=True)


def test_an_officer_is_their_collar_number_and_name() -> None:
    assert NAMED.label(ID) == "4127 Priya Shah"
    assert NAMED.words(ID) == "Officer 4127 Priya Shah"


def test_an_officer_registered_without_a_name_says_so() -> None:
    known = KnownOfficers({ID: KnownOfficer("4127", None)}, read=True)

    assert known.label(ID) == "4127 (name not recorded)"
    assert known.words(ID) == "Officer 4127 (name not recorded)"
    assert officer_label("4127", "") == "4127 (name not recorded)"


def test_an_id_the_roster_does_not_know_is_never_shown() -> None:
    other = "0b9f6b1e-bbbb-4c1e-9a57-3e8d4b1f0c21"

    assert NAMED.label(other) == "Not on the roster"
    assert NAMED.words(other) == "Officer not on the roster"
    unread = KnownOfficers()
    assert unread.label(ID) == "Not shown (the roster could not be read)"
    assert unread.words(ID) == "Officer not shown (the roster could not be read)"
    assert ID not in (unread.words(ID) or "")


def test_no_officer_is_none() -> None:
    assert NAMED.label(None) is None and NAMED.words("") is None


def test_a_person_who_acted_is_named_when_their_subject_is_a_collar_number_on_the_roster() -> None:
    assert NAMED.with_collar("pc-4127") == KnownOfficer("4127", "Priya Shah")
    assert who("officer:pc-4127", "urn:booking", NAMED) == "Officer 4127 Priya Shah (pc-4127)"
    assert who("supervisor:ps-2710", "urn:booking", NAMED) == "Supervisor ps-2710"  # not on the roster
    assert who("call-taker:ct-ana", "urn:booking", NAMED) == "Call taker ct-ana"
    assert who("officer:pc-4127", "urn:booking") == "Officer pc-4127"  # the roster not asked


def test_a_person_whose_subject_is_their_roster_id_is_named_without_the_id() -> None:
    assert NAMED.acting(ID) == "4127 Priya Shah"
    assert who(f"officer:{ID}", "urn:booking", NAMED) == "Officer 4127 Priya Shah"
