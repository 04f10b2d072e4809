"""The deployment config format both services read: one TOML table, environment overrides.

    cfg = settings.load(GatewayConfig, "gateway", path, os.environ)

A field `batch_max` of table `[gateway]` is overridden by `BINFLEET_GATEWAY_BATCH_MAX`.
Values are checked against the dataclass field's type; a bad one raises
ProtocolError naming the key.
"""

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from protocol.errors import ProtocolError

T = TypeVar("T")


def _coerce(key: str, kind: type, value: Any, from_env: bool) -> Any:  # noqa: PLR0912
    if kind is bool:
        if from_env and isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise ProtocolError(key, "must be true or false", value)
    if kind in (int, float):
        noun = "an integer" if kind is int else "a number"
        if from_env and isinstance(value, str):
            try:
                value = kind(value)
            except ValueError:
                raise ProtocolError(key, f"must be {noun}", value) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(key, f"must be {noun}", value)
        if kind is int and isinstance(value, float):
            raise ProtocolError(key, "must be an integer", value)
        return kind(value)
    if kind is str:
        if not isinstance(value, str):
            raise ProtocolError(key, "must be a string", value)
        return value
    if kind == tuple[str, ...]:
        if from_env and isinstance(value, str):
            return tuple(v for v in value.split(",") if v)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProtocolError(key, "must be a list of strings", value)
        return tuple(value)
    raise ProtocolError(key, f"unsupported config type {kind}")


def load(cls: type[T], table: str, path: str | Path | None, env: Mapping[str, str]) -> T:
    """Build a config dataclass from a TOML file's `[table]` and BINFLEET_{TABLE}_{KEY} vars."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except OSError as e:
            raise ProtocolError("config", f"cannot read {path}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ProtocolError("config", f"{path} is not valid TOML: {e}") from None
        section = doc.get(table, {})
        if not isinstance(section, dict):
            raise ProtocolError(table, "must be a TOML table")
        raw = section
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in raw:
        if key not in names:
            raise ProtocolError(f"{table}.{key}", "unknown config key")
    values: dict[str, Any] = {}
    for name in names:
        env_key = f"BINFLEET_{table.upper()}_{name.upper()}"
        if env_key in env:
            values[name] = _coerce(env_key, hints[name], env[env_key], True)
        elif name in raw:
            values[name] = _coerce(f"{table}.{name}", hints[name], raw[name], False)
    return cls(**values)
