"""Checking a remote config message: the rare path, imported only when one arrives.

firmware/core/remote.py has the format and the life of a config; this module holds
the rules (KEYS: each key's range), what an offered config does to the one in force,
and the messages for the status topic.
"""

import json

from firmware.core.policy import PolicyConfig
from firmware.core.remote import RemoteConfig, apply_policy, status_message

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
    """A PolicyConfig from a checked config, cross-checked (min <= interval <= max, ...)."""
    p = apply_policy(cfg)
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


def offer(rc: RemoteConfig, payload: bytes) -> tuple[bool, bytes | None]:
    """RemoteConfig.offer: apply a valid newer config, refuse the rest once each."""
    try:
        cfg = check(payload)
    except ConfigError as e:
        error = ("v" + str(e.version) + " " if e.version else "") + str(e)
        if error == rc.error:
            return False, None  # refused before and already reported
        return _refuse(rc, e.version, error)
    version = cfg["version"]
    if version in (rc.version, rc.refused):
        return False, None
    if version < rc.version:
        error = "version: " + str(version) + " is older than the applied " + str(rc.version)
        if error == rc.error:
            return False, None
        return _refuse(rc, version, error)
    rc.config = cfg
    rc.error = None
    rc.save()
    return True, status_message(rc.version)


def _refuse(rc: RemoteConfig, version: int, error: str) -> tuple[bool, bytes]:
    rc.refused = version
    rc.error = error
    rc.save()
    return False, status_message(rc.version, error)
