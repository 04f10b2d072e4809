"""Remote config: the retained `bins/{bin_id}/config` message, checked before it is used.

    {"version": 7, "interval_s": 600, "heartbeat_s": 7200, "samples": 7}

Every key is optional except version, an integer that grows with each new config; keys
left out keep their defaults. A config is applied whole or not at all: an unknown key,
a wrong type, a value out of range or an inconsistent set (min_interval_s above
interval_s) refuses it with "field: reason", the old config stays in force, and the
refusal goes out on the status topic. An accepted config is written to flash (atomic
rename) and its version goes out on the status topic, retained:

    {"state":"online","config":7}
    {"state":"online","config":6,"config_error":"v7 interval_s: must be 60..86400"}
    {"state":"online","config":7,"dropped":12}     (readings the flash queue dropped)

The same version again (the broker re-sends the retained message on every connect) is
ignored, and so is a config already refused, so a bad retained config costs one status
message, not one per wake. An older version is refused, so a stale retained message
cannot roll a bin back.

The rules and the handling of an offered config live in firmware/core/remotecheck.py,
imported only when a config message arrives: a wake that gets none (nearly all) does
not spend heap on them. The file holds the config's JSON text on its first line and a
CRC-16 of that text on the second, so flash damage falls back to defaults instead of
odd settings.

    rc = RemoteConfig("/data/remote.json")
    changed, status = rc.offer(payload)     # status: bytes for the status topic, or None
    policy = rc.policy()
"""

import json

from firmware.core.compat import const
from firmware.core.crc import crc16
from firmware.core.flashfile import read_text, write_atomic
from firmware.core.policy import PolicyConfig

POLICY_KEYS = ("interval_s", "min_interval_s", "max_interval_s", "batch_size", "heartbeat_s",
               "change_dpct", "full_dpct", "near_full_dpct", "empty_dpct",
               "fast_fill_dpct_per_h", "fire_dc", "fire_rise_dc")
_DEFAULT_SAMPLES = const(5)


def status_message(version: int, error: str | None = None, dropped: int = 0) -> bytes:
    """The retained JSON status a bin publishes: the config version in force, why the
    newest config was refused, and how many readings the flash queue had to drop."""
    out = '{"state":"online","config":' + str(version)
    if error is not None:
        out += ',"config_error":' + json.dumps(error[:200])
    if dropped:
        out += ',"dropped":' + str(dropped)
    return (out + "}").encode()


def apply_policy(cfg: dict[str, int]) -> PolicyConfig:
    """PolicyConfig defaults with the config's values in place (not cross-checked)."""
    p = PolicyConfig()
    for key in POLICY_KEYS:
        if key in cfg:
            setattr(p, key, cfg[key])
    return p


class RemoteConfig:
    """The config in force, and the last one refused, kept in a flash file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.config = {"version": 0}  # type: dict[str, int]
        self.refused = 0  # version of the last refused config (0: none, or unknown)
        self.error = None  # type: str | None
        text = read_text(path)
        if text is None:
            return
        try:
            config_text, meta_text = text.split("\n", 1)
            meta = json.loads(meta_text)
            if meta["crc"] != crc16(config_text.encode()):
                return  # damaged on flash: run on defaults
            config = json.loads(config_text)
            if type(config.get("version")) is not int:
                return
            self.config = config
            self.refused = int(meta.get("refused", 0))
            self.error = meta.get("error")
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # a file we wrote ourselves; if it is damaged, run on defaults

    @property
    def version(self) -> int:
        return self.config["version"]

    def save(self) -> None:
        """Write the config in force and the last refusal to flash (atomic rename)."""
        config_text = json.dumps(self.config)
        write_atomic(self.path, config_text + "\n" + json.dumps(
            {"crc": crc16(config_text.encode()), "refused": self.refused, "error": self.error}))

    def offer(self, payload: bytes) -> tuple[bool, bytes | None]:
        """Consider a config message: (applied?, status message to publish or None)."""
        from firmware.core.remotecheck import offer

        return offer(self, payload)

    def policy(self) -> PolicyConfig:
        """The reporting policy this config sets."""
        return apply_policy(self.config)

    def samples(self) -> int:
        """Samples per wake."""
        return self.config.get("samples", _DEFAULT_SAMPLES)
