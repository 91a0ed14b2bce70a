"""Who a control-room request's events are recorded as done by: always the control room."""

from __future__ import annotations

from services.booking.adapters.controlroom import control_room_actor


def test_the_control_room_is_named_as_such_whatever_it_calls_itself() -> None:
    assert control_room_actor("control-room:storm") == "control-room:storm"
    assert control_room_actor("storm:operator-12") == "control-room:storm:operator-12"
    assert control_room_actor(None) == control_room_actor("") == "control-room"
