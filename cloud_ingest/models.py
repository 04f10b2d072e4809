"""Response models of the HTTP API: what /openapi.json documents for each endpoint."""

from pydantic import BaseModel, Field


class BinState(BaseModel):
    """A bin's live state (docs/cloud_ingest.md#state-model). Absent values are null."""

    bin_id: str
    registered: bool = Field(description="in the registry (binfleet fleet import)")
    site_id: str | None = None
    material: str | None = None
    lat: float | None = None
    lon: float | None = None
    capacity_l: float | None = None
    capacity_kg: float | None = None
    interval_s: int = Field(description="expected seconds between reports")
    seq: int | None = None
    ts_ms: int | None = Field(None, description="device time of the newest reading")
    fill_pct: float | None = None
    weight_kg: float | None = None
    battery_mv: int | None = None
    temp_c: float | None = None
    quality: int | None = Field(None, description="LwM2M 3435 quality code of the newest reading")
    flags: int | None = None
    fw: str | None = None
    last_seen_ms: int | None = Field(None, description="when cloud_ingest last got a reading")
    readings: int | None = None
    status: str | None = Field(None, description="online/offline as the broker saw it")
    status_ts_ms: int | None = None
    config_version: int | None = None
    config_error: str | None = None
    dropped: int | None = Field(None, description="readings the bin's flash queue had to "
                                                  "drop in a long outage (its reported "
                                                  "total): they will never arrive")
    online: bool = Field(description="reported within twice its interval plus 5 minutes")
    date_last_emptying_ms: int | None = None
    empty_baseline_kg: float | None = Field(None, description="weight left by the last full "
                                                             "emptying: the learned empty weight")
    weekly_factors: list[float] | None = Field(None, description="fill rate per weekday "
                                                                 "(Monday first, UTC) over the "
                                                                 "bin's average; null until 14 "
                                                                 "days of history")
    fill_rate_pct_per_h: float | None = None
    full_at_ms: int | None = Field(None, description="forecast time of reaching 85 % full")
    full_at_earliest_ms: int | None = None
    full_at_latest_ms: int | None = None
    forecast_checks: int = Field(0, description="times the bin crossed full with a forecast "
                                               "made 24 h before (the last 5 count)")
    forecast_error_h: float | None = Field(None, description="mean absolute error of those "
                                                            "forecasts, hours")
    sensor_health: int = Field(description="0-100: share of the last day's readings "
                                           "without a sensor fault")
    sensor_faults: list[str]
    noise_rising: bool = Field(False, description="the spread of distance samples grew over "
                                                  "the last week")
    blocked: bool = Field(description="the newest reading was flagged covered")
    battery_days: float | None = None
    density_kg_per_l: float | None = None
    likely_contamination: bool


class Rollup(BaseModel):
    """One bin-hour."""

    hour_ms: int
    fill_max: float | None
    fill_last: float | None
    weight_last: float | None
    readings: int
    expected: int
    completeness: float


class Collection(BaseModel):
    """One recognised emptying."""

    bin_id: str
    ts_ms: int
    kg_removed: float
    weight_before: float
    weight_after: float
    fill_before: float | None
    fill_after: float | None
    partial: bool
    site_id: str | None
    material: str | None


class TonnageRow(BaseModel):
    """Tonnes collected in one group (keys present as grouped by)."""

    material: str | None = None
    site: str | None = None
    month: str | None = None
    collections: int
    tonnes: float


class Site(BaseModel):
    """A registered site."""

    site_id: str
    name: str
    lat: float | None
    lon: float | None


class Crew(BaseModel):
    """A registered crew."""

    crew_id: str
    name: str
    push_target: str
    shift_start: str
    shift_end: str
    lat: float | None
    lon: float | None
