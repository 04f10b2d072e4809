"""Status payloads: bare online/offline, the firmware's JSON form, and what is refused."""

import pytest

from protocol import status
from protocol.errors import ProtocolError


@pytest.mark.parametrize(("payload", "field"), [
    (b"sleepy", "status"),
    (b"{", "status"),
    (b'["online"]', "status"),
    (b'{"state": "sleepy"}', "state"),
    (b'{"state": "online", "config": "7"}', "config_version"),
    (b'{"state": "online", "config": -1}', "config_version"),
    (b'{"state": "online", "config": 7, "config_error": 5}', "config_error"),
    (b'{"state": "online", "config_error": "' + b"x" * 201 + b'"}', "config_error"),
    (b'{"state": "online"}' + b" " * 600, "status"),
    (b'{"state": "online", "config": 7, "dropped": -3}', "dropped"),
    (b'{"state": "online", "config": 7, "dropped": "12"}', "dropped"),
])
def test_bad_status_names_the_field(payload: bytes, field: str) -> None:
    """Each refusal names the field the dead letter will carry."""
    with pytest.raises(ProtocolError) as e:
        status.decode("bin-1", payload, 1)
    assert e.value.field == field


def test_json_status_round_trips_through_the_batch_form() -> None:
    """What the gateway forwards validates at cloud_ingest to the same event."""
    e = status.decode("bin-1", b'{"state":"online","config":3,"config_error":"v4 x: bad"}', 9)
    assert e == status.StatusEvent("bin-1", "online", 9, 3, "v4 x: bad")
    assert status.validate(e.to_wire()) == e
    plain = status.decode("bin-1", b" offline\n", 9)
    assert plain.to_wire() == {"bin": "bin-1", "status": "offline", "ts_ms": 9}


def test_dropped_count_round_trips_through_the_batch_form() -> None:
    """The firmware's count of readings its flash queue dropped reaches cloud_ingest."""
    e = status.decode("bin-1", b'{"state":"online","config":3,"dropped":12}', 9)
    assert e == status.StatusEvent("bin-1", "online", 9, 3, None, 12)
    assert e.to_wire()["dropped"] == 12
    assert status.validate(e.to_wire()) == e
    with pytest.raises(ProtocolError) as bad:
        status.validate({**e.to_wire(), "dropped": 1.5})
    assert bad.value.field == "dropped"
