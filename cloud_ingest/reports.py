"""Tonnage reports: kilograms removed by emptyings, summed into tonnes per group."""

import csv
import io
import time
from collections.abc import Sequence
from typing import Any

GROUPS = ("material", "site", "month")


def _month(ts_ms: int) -> str:
    return time.strftime("%Y-%m", time.gmtime(ts_ms / 1000))


def tonnage(collections: Sequence[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Group collections by any of material, site and month (UTC); tonnes to the kg."""
    keys = [k for k in GROUPS if k in by]
    sums: dict[tuple[Any, ...], list[float]] = {}
    for c in collections:
        values = {"material": c.get("material"), "site": c.get("site_id"),
                  "month": _month(c["ts_ms"])}
        key = tuple(values[k] for k in keys)
        acc = sums.setdefault(key, [0, 0.0])
        acc[0] += 1
        acc[1] += c["kg_removed"]
    out = []
    for key in sorted(sums, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        n, kg = sums[key]
        out.append({**dict(zip(keys, key, strict=True)), "collections": int(n),
                    "tonnes": round(kg / 1000, 3)})
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV with a header row."""
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()
