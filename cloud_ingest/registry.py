"""The fleet registry: sites, bins and crews, imported from CSV or GeoJSON.

    binfleet fleet import sites.csv --kind sites --config ingest.toml
    binfleet fleet import bins.geojson --kind bins

CSV columns per kind (header row required; empty cells are "not given"):

    sites: site_id, name, lat, lon
    bins:  bin_id, site_id, material, lat, lon, shape, depth_mm, capacity_l, capacity_kg,
           interval_s, sample_s
    crews: crew_id, name, push_target, shift_start, shift_end, lat, lon

GeoJSON: a FeatureCollection whose Point geometries give lon/lat and whose properties
give the other columns. Every row is checked first; if any row is bad, nothing is
imported and every bad row is reported ("row 3: material: must be one of ..."). A
good file is imported in one transaction, replacing rows with the same id.
"""

import csv
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud_ingest import analytics, db
from protocol.v1 import ID_RE

TAG_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # site ids become time-series tag values
HHMM_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
KINDS = ("sites", "bins", "crews")
COLUMNS = {
    "sites": ("site_id", "name", "lat", "lon"),
    "bins": ("bin_id", "site_id", "material", "lat", "lon", "shape", "depth_mm", "capacity_l",
             "capacity_kg", "interval_s", "sample_s"),
    "crews": ("crew_id", "name", "push_target", "shift_start", "shift_end", "lat", "lon"),
}
DEFAULT_INTERVAL_S = 4 * 3600  # the firmware's heartbeat: it reports at least this often
DEFAULT_SAMPLE_S = 900  # the firmware's default sampling interval


class RegistryImportError(Exception):
    """The file had bad rows; nothing was imported."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)"
                                                  if len(errors) > 5 else ""))
        self.errors = errors


@dataclass
class _Row:
    number: int  # 1-based data row (CSV: header is row 0) or feature index + 1
    values: dict[str, Any]


def _text(v: Any, field: str, required: bool, pattern: re.Pattern[str] | None = None,
          max_len: int = 200) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise ValueError(f"{field}: required")
        return None
    s = str(v).strip()
    if len(s) > max_len:
        raise ValueError(f"{field}: at most {max_len} characters")
    if pattern is not None and not pattern.fullmatch(s):
        raise ValueError(f"{field}: must match {pattern.pattern}")
    return s


def _number(v: Any, field: str, low: float, high: float, *,
            integer: bool = False) -> float | int | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{field}: must be a number") from None
    if math.isnan(x) or not low <= x <= high:
        raise ValueError(f"{field}: must be within {low:g}..{high:g}")
    if integer:
        if x != int(x):
            raise ValueError(f"{field}: must be a whole number")
        return int(x)
    return x


def _coords(v: dict[str, Any]) -> dict[str, Any]:
    return {"lat": _number(v.get("lat"), "lat", -90, 90),
            "lon": _number(v.get("lon"), "lon", -180, 180)}


def _site(v: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": _text(v.get("site_id"), "site_id", True, TAG_RE),
            "name": _text(v.get("name"), "name", True), **_coords(v)}


def _bin(v: dict[str, Any]) -> dict[str, Any]:
    material = _text(v.get("material"), "material", True)
    if material not in analytics.MATERIALS:
        raise ValueError(f"material: must be one of {', '.join(analytics.MATERIALS)}")
    interval = _number(v.get("interval_s"), "interval_s", 60, 7 * 86400, integer=True)
    sample = _number(v.get("sample_s"), "sample_s", 60, 86400, integer=True)
    return {"bin_id": _text(v.get("bin_id"), "bin_id", True, ID_RE),
            "site_id": _text(v.get("site_id"), "site_id", False, TAG_RE),
            "material": material, **_coords(v), "shape": _shape(v.get("shape")),
            "depth_mm": _number(v.get("depth_mm"), "depth_mm", 100, 5000, integer=True),
            "capacity_l": _number(v.get("capacity_l"), "capacity_l", 1, 100_000),
            "capacity_kg": _number(v.get("capacity_kg"), "capacity_kg", 1, 100_000),
            "interval_s": DEFAULT_INTERVAL_S if interval is None else interval,
            "sample_s": DEFAULT_SAMPLE_S if sample is None else sample}


SHAPES = ("rectangular", "cylindrical", "tapered")


def _shape(v: Any) -> str | None:
    shape = _text(v, "shape", False)
    if shape is not None and shape not in SHAPES:
        raise ValueError(f"shape: must be one of {', '.join(SHAPES)}")
    return shape


def _crew(v: dict[str, Any]) -> dict[str, Any]:
    return {"crew_id": _text(v.get("crew_id"), "crew_id", True, TAG_RE),
            "name": _text(v.get("name"), "name", True),
            "push_target": _text(v.get("push_target"), "push_target", True, max_len=500),
            "shift_start": _text(v.get("shift_start"), "shift_start", True, HHMM_RE),
            "shift_end": _text(v.get("shift_end"), "shift_end", True, HHMM_RE), **_coords(v)}


CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "sites": _site, "bins": _bin, "crews": _crew}
TABLES = {"sites": db.sites, "bins": db.bins, "crews": db.crews}
KEYS = {"sites": "site_id", "bins": "bin_id", "crews": "crew_id"}


def _rows_csv(text: str, kind: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in COLUMNS[kind]]
    if unknown:
        raise RegistryImportError([f"header: unknown column(s) {', '.join(unknown)} for {kind} "
                            f"(expected {', '.join(COLUMNS[kind])})"])
    return [_Row(i, dict(r)) for i, r in enumerate(reader, start=1)]


def _rows_geojson(text: str) -> list[_Row]:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise RegistryImportError([f"file: not valid JSON ({e})"]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or \
            not isinstance(doc.get("features"), list):
        raise RegistryImportError(["file: must be a GeoJSON FeatureCollection"])
    rows = []
    for i, f in enumerate(doc["features"], start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        values = dict(props) if isinstance(props, dict) else {}
        geom = f.get("geometry") if isinstance(f, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and \
                isinstance(geom.get("coordinates"), list) and len(geom["coordinates"]) >= 2:
            values["lon"], values["lat"] = geom["coordinates"][:2]
        rows.append(_Row(i, values))
    return rows


def load_rows(path: Path, kind: str) -> list[dict[str, Any]]:
    """Parse and check a file; RegistryImportError listing every bad row."""
    if kind not in KINDS:
        raise RegistryImportError([f"kind: must be one of {', '.join(KINDS)}"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as e:
        raise RegistryImportError([f"file: cannot read {path} ({e})"]) from None
    geo = path.suffix.lower() in (".geojson", ".json")
    rows = _rows_geojson(text) if geo else _rows_csv(text, kind)
    errors, out, seen = [], [], set()
    for row in rows:
        try:
            values = CHECKS[kind](row.values)
        except ValueError as e:
            errors.append(f"row {row.number}: {e}")
            continue
        key = values[KEYS[kind]]
        if key in seen:
            errors.append(f"row {row.number}: {KEYS[kind]}: {key} appears twice in the file")
            continue
        seen.add(key)
        out.append(values)
    if errors:
        raise RegistryImportError(errors)
    return out


def import_rows(engine: Engine, kind: str, rows: list[dict[str, Any]]) -> int:
    """Upsert checked rows in one transaction; a bin's site must exist. Return the count."""
    table, key = TABLES[kind], KEYS[kind]
    with engine.begin() as conn:
        if kind == "bins":
            known = {s for (s,) in conn.execute(sa.select(db.sites.c.site_id))}
            missing = [f"bin {r['bin_id']}: site_id: {r['site_id']} is not a known site"
                       for r in rows if r["site_id"] is not None and r["site_id"] not in known]
            if missing:
                raise RegistryImportError(missing)
        for r in rows:
            exists = conn.execute(sa.select(table.c[key]).where(table.c[key] == r[key])).first()
            if exists:
                conn.execute(table.update().where(table.c[key] == r[key]).values(**r))
            else:
                conn.execute(table.insert().values(**r))
    return len(rows)


def list_rows(engine: Engine, kind: str) -> list[dict[str, Any]]:
    """Every row of a registry table, by id."""
    table, key = TABLES[kind], KEYS[kind]
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.select(table).order_by(table.c[key]))]
