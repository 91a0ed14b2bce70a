"""The role matrix: which roles may call each operation of each service. Deny by default.

This table is the one place that says who may do what. Every service's routes ask it
through one dependency (``services.common.http.authorized``); a service will not start
while one of its routes has no entry here, or has roles but does not check them; the
OpenAPI documents name each operation's roles from it; the README's table is rendered
from it (a test keeps the two equal). An operation missing here is refused to everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Literal

from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts

from services.common.auth import Role

CALL_TAKER, OFFICER, SUPERVISOR, AUDITOR, GATEWAY, ADMIN = Role

# Anyone, with or without a token: the health probe, metrics and the published HTTP contract.
OPEN: Final = "open"
Allowed = frozenset[Role] | Literal["open"]
RoleTable = Mapping[str, Allowed]  # "METHOD /path/{template}" -> who may call it


def roles(*allowed: Role) -> frozenset[Role]:
    """A set of roles for the table."""
    return frozenset(allowed)


# Who reads diaries and duty lists (every reader of the day's picture).
READERS = roles(CALL_TAKER, OFFICER, SUPERVISOR, AUDITOR, ADMIN)
# Who is told what is free and may see the county, the roster's officers: the people who book or attend.
VIEWERS = roles(CALL_TAKER, OFFICER, SUPERVISOR, ADMIN)
# Who books, moves, cancels and keeps the waitlist: the 101 control room and its supervisors.
BOOKERS = roles(CALL_TAKER, SUPERVISOR, ADMIN)
# Who records what happened at an appointment once it has begun.
ATTENDERS = roles(OFFICER, SUPERVISOR, ADMIN)
ROSTER_KEEPERS = roles(SUPERVISOR, ADMIN)
AUDITORS = roles(AUDITOR, SUPERVISOR, ADMIN)

EVERY_SERVICE: Final[RoleTable] = {
    "GET /health": OPEN,
    "GET /metrics": OPEN,
    "GET /openapi.json": OPEN,
    "GET /docs": OPEN,
    "GET /docs/oauth2-redirect": OPEN,
    "GET /redoc": OPEN,
}

ROLE_MATRIX: Final[Mapping[str, RoleTable]] = {
    "booking": {
        "PUT /reference/county": roles(ADMIN),
        "GET /reference/county": VIEWERS,
        "GET /stations/{station_id}/free-slots": VIEWERS,
        "GET /diary-cars/{district_id}/free-windows": VIEWERS,
        "POST /stations/{station_id}/appointments": BOOKERS,
        "POST /diary-cars/{district_id}/visits": BOOKERS,
        "POST /appointments/{appointment_id}/reschedule": BOOKERS,
        "POST /appointments/{appointment_id}/cancel": BOOKERS,
        "POST /appointments/{appointment_id}/attendance": ATTENDERS,
        "POST /appointments/{appointment_id}/no-show": ATTENDERS,
        "POST /waitlist": BOOKERS,
        "GET /waitlist/{appointment_id}": BOOKERS,
        "POST /waitlist/{appointment_id}/leave": BOOKERS,
        "POST /offers/{appointment_id}/accept": BOOKERS,
        "POST /offers/{appointment_id}/decline": BOOKERS,
    },
    "roster": {
        "POST /officers": ROSTER_KEEPERS,
        "POST /officers/{officer_id}/duties": ROSTER_KEEPERS,
        "POST /officers/{officer_id}/duties/{duty_id}/end": ROSTER_KEEPERS,
        "POST /officers/{officer_id}/withdrawals": ROSTER_KEEPERS,
        # Collar numbers, names, home stations: staff data, no caller's; auditors read histories by them.
        "GET /officers/{officer_id}": READERS,
        "GET /officers": READERS,
        "GET /duties": READERS,
        "GET /reference/county": VIEWERS,
        # The staff directory: each person names themselves at sign-in (their own subject only);
        # names are staff data like officers', read by the same roles to name who did what.
        "PUT /staff/me": READERS,
        "GET /staff": READERS,
    },
    "notifications": {
        # GOV.UK Notify's callbacks, with the bearer token Notify is configured with.
        "POST /gateway/receipts": roles(GATEWAY),
        "POST /gateway/inbound": roles(GATEWAY),
        "GET /appointments/{appointment_id}/messages": BOOKERS,
        # The work mobile an officer on appointment duty is texted their day on (the roster keeps none).
        "PUT /officers/{officer_id}/mobile": ROSTER_KEEPERS,
        # The link in a text: the key in its query opens it, for a phone with no token.
        "GET /calendar/{appointment_id}.ics": OPEN,
    },
    "projections": {
        "GET /diaries/stations/{station_id}/{day}": READERS,
        "GET /diaries/diary-cars/{district_id}/{day}": READERS,
        "GET /appointments/{appointment_id}/history": AUDITORS,
        # The officer assigned (the endpoint checks it is their own day), supervisors, auditors.
        "GET /officers/{officer_id}/days/{day}": roles(OFFICER, SUPERVISOR, AUDITOR, ADMIN),
        # The access log (DPA 2018 s.62): who processed whose personal data.
        "GET /access-log": roles(AUDITOR, ADMIN),
        "GET /kpis": AUDITORS,
        # Who waits for a station or diary car, in order, and the offers out (a diary line's fields):
        # the control room that keeps the waitlist, and audit.
        "GET /waitlists/stations/{station_id}": roles(CALL_TAKER, SUPERVISOR, AUDITOR, ADMIN),
        "GET /waitlists/diary-cars/{district_id}": roles(CALL_TAKER, SUPERVISOR, AUDITOR, ADMIN),
        # An appointment's texts and delivery state (no number, no words): the control room and audit.
        "GET /appointments/{appointment_id}/texts": roles(CALL_TAKER, SUPERVISOR, AUDITOR, ADMIN),
        # Free capacity and the earliest free slot, as booking's free slots are told (no personal data).
        "GET /availability": VIEWERS,
        # The appointments moved off a diary's day and where each went (a diary line's fields).
        "GET /diaries/stations/{station_id}/{day}/moved-away": READERS,
        "GET /diaries/diary-cars/{district_id}/{day}/moved-away": READERS,
        # Appointments by case reference or by the caller's phone (its keyed hash; never kept in
        # clear): the control room and audit find any, an officer only those assigned to them.
        "POST /appointments/search": READERS,
        # Which district's diary car covers a caller's postcode (the ONS Postcode Directory): who books.
        "GET /postcodes/{postcode}": BOOKERS,
    },
}


def role_table(service: str) -> RoleTable | None:
    """The operations of ``service`` and who may call them; None for an app outside the matrix."""
    own = ROLE_MATRIX.get(service)
    return None if own is None else {**EVERY_SERVICE, **own}


def operations(app: FastAPI) -> Iterator[tuple[str, RouteContext]]:
    """Each operation an app serves, as the table names it, with its route."""
    for context in iter_route_contexts(app.routes):
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield f"{method} {context.path_format}", context


def _calls(context: RouteContext) -> set[Callable[..., Any]]:
    dependant = getattr(context, "dependant", None)
    pending = list(dependant.dependencies) if dependant is not None else []
    calls: set[Callable[..., Any]] = set()
    while pending:
        dependency = pending.pop()
        if dependency.call is not None:
            calls.add(dependency.call)
        pending.extend(dependency.dependencies)
    return calls


def unguarded(app: FastAPI, table: RoleTable, guard: Callable[..., Any]) -> list[str]:
    """The app's operations the table does not cover, or that do not ask ``guard`` although they should."""
    problems: list[str] = []
    for operation, context in operations(app):
        allowed = table.get(operation)
        if allowed is None:
            problems.append(f"{operation} has no entry in the role matrix")
        elif allowed == OPEN:
            continue
        elif guard not in _calls(context):
            problems.append(f"{operation} is given roles in the matrix but does not check them")
        elif getattr(context.original_route, "path_format", None) != context.path_format:
            # The guard names an operation by its route's own path, which a router prefix is not part of.
            problems.append(f"{operation} is served under a router prefix the role check does not see")
    return problems


def spoken(allowed: Allowed) -> str:
    """The roles as a sentence's list, in the contract's order."""
    if allowed == OPEN:
        return "anyone"
    return ", ".join(role.value for role in Role if role in allowed) or "nobody"


def describe(schema: dict[str, Any], table: RoleTable) -> dict[str, Any]:
    """Name each operation's roles in an OpenAPI document: ``x-roles``, and a line of its description."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            allowed = table.get(f"{method.upper()} {path}")
            if allowed is None or allowed == OPEN or "x-roles" in operation:
                continue
            operation["x-roles"] = [role.value for role in Role if role in allowed]
            described = operation.get("description", "")
            operation["description"] = f"{described}\n\nRoles: {spoken(allowed)}.".lstrip()
    return schema


def markdown() -> str:
    """The matrix as the README shows it: a row per operation, a column per role."""
    lines = [
        "| service | operation | " + " | ".join(role.value for role in Role) + " |",
        "|---|---|" + "---|" * len(Role),
    ]
    for service, table in ROLE_MATRIX.items():
        for operation, allowed in table.items():
            marks = ["✓" if allowed == OPEN or role in allowed else "" for role in Role]
            lines.append(f"| {service} | `{operation}` | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
