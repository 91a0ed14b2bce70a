"""Who did it, by name: the roster's staff directory (GET /staff) for the audit commands' tables.

Events and the access log name a person only by role and sign-in subject (``call-taker:ct-ana``);
the roster keeps the name each person signed in with. The commands show both, "Ana Shah
(call-taker:ct-ana)", and only the actor when the roster does not answer or does not know them.
"""

from __future__ import annotations

import httpx

from cli.operator import stack_settings


def staff_names(token: str, url: str = "", transport: httpx.BaseTransport | None = None) -> dict[str, str]:
    """Sign-in subjects to names, from the roster; empty when it cannot say (the tables then show ids)."""
    base = url or f"http://{stack_settings().host}:{stack_settings().port('roster')}"
    try:
        with httpx.Client(base_url=base.rstrip("/"), transport=transport, timeout=10) as client:
            response = client.get("/staff", headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            return {}
        return {str(p["subject"]): str(p["name"]) for p in response.json() if p.get("name")}
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def named(actor: str | None, names: dict[str, str]) -> str:
    """An actor with the name the roster knows them by: 'Ana Shah (call-taker:ct-ana)'."""
    if not actor:
        return ""
    name = names.get(actor.partition(":")[2])
    return f"{name} ({actor})" if name else actor
