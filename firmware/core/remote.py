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

The same version again (the broker re-sends the retained message on every connect) is
ignored, and so is a config already refused, so a bad retained config costs one status
message, not one per wake. An older version is refused, so a stale retained message
cannot roll a bin back.

    rc = RemoteConfig("/data/remote.json")
    changed, status = rc.offer(payload)     # status: bytes for the status topic, or None
    policy = rc.policy()
"""

import json

from firmware.core.flashfile import read_text, write_atomic
from firmware.core.policy import PolicyConfig

# key: (low, high); all integers.
KEYS = {
    "interval_s": (60, 86400),
    "min_interval_s": (60, 86400),
    "max_interval_s": (60, 7 * 86400),
    "batch_size": (1, 96),
    "heartbeat_s": (300, 7 * 86400),
    "change_dpct": (10, 1000),
    "full_dpct": (100, 1000),
    "near_full_dpct": (100, 1000),
    "empty_dpct": (0, 1000),
    "fast_fill_dpct_per_h": (1, 1000),
    "fire_dc": (300, 1500),
    "fire_rise_dc": (10, 1000),
    "samples": (1, 15),
}
_POLICY_KEYS = ("interval_s", "min_interval_s", "max_interval_s", "batch_size", "heartbeat_s",
                "change_dpct", "full_dpct", "near_full_dpct", "empty_dpct",
                "fast_fill_dpct_per_h", "fire_dc", "fire_rise_dc")
DEFAULT_SAMPLES = 5
MAX_BYTES = 1024


class ConfigError(ValueError):
    """A refused config: field and reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field + ": " + reason)
        self.field = field
        self.reason = reason
        self.version = 0  # the refused config's version, when it had a valid one


def check(payload: bytes) -> dict[str, int]:
    """The config a payload holds, or ConfigError naming the first bad field."""
    if len(payload) > MAX_BYTES:
        raise ConfigError("config", "must be at most " + str(MAX_BYTES) + " bytes")
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeError):
        raise ConfigError("config", "is not valid JSON") from None
    if not isinstance(obj, dict):
        raise ConfigError("config", "must be a JSON object")
    version = obj.get("version")
    if type(version) is not int or not 1 <= version < 2**31:
        raise ConfigError("version", "must be an integer 1..2^31-1")
    out = {"version": version}
    try:
        _check_keys(obj, out)
        policy_of(out)  # the cross-checks PolicyConfig makes
    except ConfigError as e:
        e.version = version
        raise
    return out


def _check_keys(obj: dict[str, object], out: dict[str, int]) -> None:
    for key in sorted(obj):
        if key == "version":
            continue
        if key not in KEYS:
            raise ConfigError(key, "unknown key")
        value = obj[key]
        low, high = KEYS[key]
        if type(value) is not int:
            raise ConfigError(key, "must be an integer")
        if not low <= value <= high:
            raise ConfigError(key, "must be " + str(low) + ".." + str(high))
        out[key] = value


def policy_of(cfg: dict[str, int]) -> PolicyConfig:
    """A PolicyConfig from a checked config (defaults for what it leaves out)."""
    p = PolicyConfig()
    for key in _POLICY_KEYS:
        if key in cfg:
            setattr(p, key, cfg[key])
    try:
        PolicyConfig(p.interval_s, p.min_interval_s, p.max_interval_s, p.batch_size,
                     p.heartbeat_s)
    except ValueError as e:
        text = str(e)
        field, _, reason = text.partition(": ")
        raise ConfigError(field, reason) from None
    if not p.empty_dpct < p.near_full_dpct <= p.full_dpct:
        raise ConfigError("near_full_dpct", "need empty_dpct < near_full_dpct <= full_dpct")
    return p


def status_message(version: int, error: str | None = None) -> bytes:
    """The JSON status a bin publishes about its config."""
    out = '{"state":"online","config":' + str(version)
    if error is not None:
        out += ',"config_error":' + json.dumps(error[:200])
    return (out + "}").encode()


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
            saved = json.loads(text)
            self.config = check(json.dumps(saved["config"]).encode())
            self.refused = int(saved.get("refused", 0))
            self.error = saved.get("error")
        except (ValueError, KeyError, TypeError):
            pass  # a file we wrote ourselves; if it is damaged, run on defaults

    @property
    def version(self) -> int:
        return self.config["version"]

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(
            {"config": self.config, "refused": self.refused, "error": self.error}))

    def offer(self, payload: bytes) -> tuple[bool, bytes | None]:
        """Consider a config message: (applied?, status message to publish or None)."""
        try:
            cfg = check(payload)
        except ConfigError as e:
            error = ("v" + str(e.version) + " " if e.version else "") + str(e)
            if error == self.error:
                return False, None  # refused before and already reported
            return self._refuse(e.version, error)
        version = cfg["version"]
        if version in (self.version, self.refused):
            return False, None
        if version < self.version:
            error = "version: " + str(version) + " is older than the applied " + str(self.version)
            if error == self.error:
                return False, None
            return self._refuse(version, error)
        self.config = cfg
        self.error = None
        self._save()
        return True, status_message(self.version)

    def _refuse(self, version: int, error: str) -> tuple[bool, bytes]:
        self.refused = version
        self.error = error
        self._save()
        return False, status_message(self.version, error)

    def policy(self) -> PolicyConfig:
        """The reporting policy this config sets."""
        return policy_of(self.config)

    def samples(self) -> int:
        """Samples per wake."""
        return self.config.get("samples", DEFAULT_SAMPLES)
