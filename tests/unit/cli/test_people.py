"""The audit commands name who did it from the roster's staff directory, and fall back to the actor."""

from __future__ import annotations

import httpx

from cli.people import named, staff_names


def directory(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/staff" and request.headers["authorization"] == "Bearer t0ken"
    return httpx.Response(200, json=[
        {"subject": "ct-ana", "name": "Ana Shah", "role": "call-taker"},
        {"subject": "4021", "name": "Sam Okafor", "role": "officer"},
    ])  # fmt: skip


def test_a_person_the_roster_knows_is_named_beside_their_role_and_subject() -> None:
    names = staff_names("t0ken", "http://roster.test", httpx.MockTransport(directory))
    assert names == {"ct-ana": "Ana Shah", "4021": "Sam Okafor"}
    assert named("call-taker:ct-ana", names) == "Ana Shah (call-taker:ct-ana)"
    assert named("control-room:storm", names) == "control-room:storm"  # not a person the roster knows
    assert named(None, names) == ""


def test_a_roster_that_refuses_or_does_not_answer_leaves_the_actors_as_they_are() -> None:
    refused = httpx.MockTransport(lambda _: httpx.Response(403, json={"detail": "not for you"}))
    assert staff_names("t0ken", "http://roster.test", refused) == {}

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert staff_names("t0ken", "http://roster.test", httpx.MockTransport(down)) == {}
    garbled = httpx.MockTransport(lambda _: httpx.Response(200, json={"not": "a list"}))
    assert staff_names("t0ken", "http://roster.test", garbled) == {}
