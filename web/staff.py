"""Naming the signed-in person in the roster's staff directory, as they sign in.

Histories and the access log name who did something by the event header's ``actor``, which holds
only a role and a sign-in subject (never a name, by design). So at every sign-in the pages tell the
roster, with the person's own token, the name they signed in with (the identity provider's ``name``
claim, or the local user's name): ``PUT /staff/me``. The roster records it only when it is new or
changed, and serves the names by subject (``GET /staff``), which ``web.officers`` reads to show
"Ana Shah (call taker)". Signing in never waits on or fails for this: a roster that does not answer
is logged (without the name) and the person is signed in all the same.
"""

from __future__ import annotations

import httpx

from services.common.logging import get_logger
from web.backends import Backends

log = get_logger(__name__)
# A sign-in waits at most this long for the roster.
NAME_TIMEOUT = httpx.Timeout(3.0)


async def name_me(backends: Backends, token: str, name: str) -> bool:
    """Tell the roster the name the bearer of ``token`` signed in with; whether it recorded it anew
    (new or changed: the pages' copy of the names is then out of date)."""
    try:
        response = await backends.client.put(
            backends.urls["roster"] + "/staff/me",
            json={"name": name},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=NAME_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        log.warning("the roster did not take the signed-in person's name", why=type(exc).__name__)
        return False
    if response.status_code >= 400:
        log.warning("the roster did not take the signed-in person's name", status=response.status_code)
        return False
    return response.status_code == 201
