"""The waitlist: when nothing suits, a caller waits for a station or diary car over a few days,
and capacity that frees up is offered to the first caller waiting whose days include it.

- ``entries``: join a waitlist, see where an entry stands;
- ``answers``: accept or decline an offer, leave the waitlist;
- ``reactor``: booking's own events that free capacity (and new duty) offered on, one change
  at a time (``offering`` holds how), never by rescanning every waitlist;
- ``lapses``: the timer that lapses offers by their deadline, and on each pass takes off
  the callers whose days are over (``over``);
- ``forms`` and ``streams``: what comes in over HTTP, and how a waitlist stream folds.

The rules themselves (who fits a freed slot, when an offer lapses) are in ``domain.offers``.
"""

from services.booking.app.waitlist.answers import Answers, Taken
from services.booking.app.waitlist.entries import EntryState, EntryStatus, Waitlists
from services.booking.app.waitlist.forms import WaitlistForm, WaitlistSettings
from services.booking.app.waitlist.lapses import OfferLapses
from services.booking.app.waitlist.reactor import WaitlistReactor, offer_new_duty

__all__ = [
    "Answers",
    "EntryState",
    "EntryStatus",
    "OfferLapses",
    "Taken",
    "WaitlistForm",
    "WaitlistReactor",
    "WaitlistSettings",
    "Waitlists",
    "offer_new_duty",
]
