"""Bins as FIWARE Smart Data Models WasteContainer entities, in NGSI-LD JSON.

Mapping from the live state (cloud_ingest/state.py):

    id                  urn:ngsi-ld:WasteContainer:{bin_id}
    fillingLevel        fill_pct / 100 (0-1), observedAt = the reading's time
    cargoWeight         weight_kg (unitCode KGM)
    temperature         temp_c (unitCode CEL)
    status              burning (>= 70 C) | dropped (tilt switch) | lidOpen | ok
    dateLastEmptying    the newest recorded collection
    location            the registry's lat/lon as a GeoJSON Point
    refWasteContainerModel is not given; wasteType is not a field of WasteContainer, so the
    material goes out as the BinFleet-specific property "material".
"""

import time
from typing import Any

from cloud_ingest.analytics import ngsi_status

URN_PREFIX = "urn:ngsi-ld:WasteContainer:"
CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/"
    "context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]


def _iso(ts_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_ms / 1000)) + \
        f".{ts_ms % 1000:03d}Z"


def _prop(value: Any, ts_ms: int | None = None, unit: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if ts_ms is not None:
        out["observedAt"] = _iso(ts_ms)
    if unit is not None:
        out["unitCode"] = unit
    return out


def waste_container(b: dict[str, Any]) -> dict[str, Any]:
    """One bin's live state as an NGSI-LD entity."""
    ts = b.get("ts_ms")
    e: dict[str, Any] = {"id": URN_PREFIX + b["bin_id"], "type": "WasteContainer",
                         "@context": CONTEXT}
    if b.get("fill_pct") is not None:
        e["fillingLevel"] = _prop(round(b["fill_pct"] / 100, 4), ts)
    if b.get("weight_kg") is not None:
        e["cargoWeight"] = _prop(b["weight_kg"], ts, "KGM")
    if b.get("temp_c") is not None:
        e["temperature"] = _prop(b["temp_c"], ts, "CEL")
    if ts is not None:
        e["status"] = _prop(ngsi_status(b.get("flags") or 0, b.get("temp_c")), ts)
    if b.get("date_last_emptying_ms") is not None:
        e["dateLastEmptying"] = _prop({"@type": "DateTime",
                                       "@value": _iso(b["date_last_emptying_ms"])})
    if b.get("lat") is not None and b.get("lon") is not None:
        e["location"] = {"type": "GeoProperty",
                         "value": {"type": "Point", "coordinates": [b["lon"], b["lat"]]}}
    if b.get("material") is not None:
        e["material"] = _prop(b["material"])
    return e
