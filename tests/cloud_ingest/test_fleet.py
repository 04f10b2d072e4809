"""Fleet registry, live state, collections, tonnage and the NGSI-LD export, on the
operational store (SQLite and a real PostgreSQL), fed with readings the firmware core
makes from a simulated bin and that pass the wire format as the gateway sends them."""

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from cloud_ingest import analytics, ngsi, registry, reports
from cloud_ingest.state import FleetState
from firmware.core import payload, reading
from firmware.core.sampling import History, make_sampled_reading
from protocol import v1

T0 = 1_764_547_200_000  # 2025-12-01 00:00 UTC
HOUR = 3_600_000
DEPTH, OFFSET = 1000, 150
CAL = (215_000, 10_000)  # counts per 10 kg
TARE = 84_211


def cfg(bin_id: str) -> reading.BinConfig:
    """The firmware's config for a 1,000 mm deep straight-walled bin."""
    return reading.BinConfig(bin_id, DEPTH, OFFSET, 100, TARE, CAL[0], CAL[1], "0.1.0")


class Bin:
    """A simulated bin: fill and weight in, v1 readings out through the firmware core."""

    def __init__(self, bin_id: str) -> None:
        self.bin_id = bin_id
        self.cfg = cfg(bin_id)
        self.history = History()
        self.seq = 0

    def reading(self, ts_ms: int, fill: float, kg: float, temp_dc: int = 180,
                cover_mm: int | None = None) -> v1.Reading:
        """One wake at fill (0-1) and kg in the bin; cover_mm: a bag lying on the bin."""
        d = cover_mm if cover_mm is not None else int(OFFSET + DEPTH * (1 - fill))
        counts = TARE + round(kg * 1000 * CAL[0] / CAL[1])
        r = make_sampled_reading(self.cfg, self.seq, ts_ms, True, [d, d + 1, d - 1, d, d],
                                 [counts, counts + 20, counts - 20], 3300, temp_dc, self.history)
        self.seq += 1
        return v1.decode(payload.encode_json(r), self.bin_id, ts_ms + HOUR)


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    """A CSV file with a header from the first row."""
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def register(engine: Engine, tmp_path: Path, bins: list[dict[str, object]]) -> None:
    """Two sites and the given bins, through the import path."""
    sites = write_csv(tmp_path / "sites.csv", [
        {"site_id": "north", "name": "North depot", "lat": 52.1, "lon": 5.1},
        {"site_id": "south", "name": "South square", "lat": 52.0, "lon": 5.2}])
    registry.import_rows(engine, "sites", registry.load_rows(sites, "sites"))
    path = write_csv(tmp_path / "bins.csv", bins)
    registry.import_rows(engine, "bins", registry.load_rows(path, "bins"))


def bin_row(bin_id: str, site: str = "north", material: str = "paper",
            interval_s: int = 3600) -> dict[str, object]:
    """A registry row for a 1,100 litre bin."""
    return {"bin_id": bin_id, "site_id": site, "material": material, "lat": 52.1,
            "lon": 5.1, "shape": "rectangular", "depth_mm": DEPTH, "capacity_l": 1100,
            "capacity_kg": 150, "interval_s": interval_s}


def test_import_reports_every_bad_row_and_imports_nothing(store: Engine, tmp_path: Path) -> None:
    """Bad rows are listed with row, field and reason; the good rows are not imported."""
    register(store, tmp_path, [bin_row("bin-a")])
    bad = write_csv(tmp_path / "bad.csv", [
        bin_row("bin-b"),
        {**bin_row("bin-c"), "material": "lava"},
        {**bin_row("bin-e"), "lat": 91},
        {**bin_row("bin-d"), "interval_s": "often"},
        {**bin_row("bin-f"), "shape": "round"},
        bin_row("bin-b"),
    ])
    with pytest.raises(registry.RegistryImportError) as e:
        registry.import_rows(store, "bins", registry.load_rows(bad, "bins"))
    assert e.value.errors == [
        "row 2: material: must be one of cardboard, glass, metal, mixed, organic, paper, "
        "plastic, textile",
        "row 3: lat: must be within -90..90",
        "row 4: interval_s: must be a number",
        "row 5: shape: must be one of rectangular, cylindrical, tapered",
        "row 6: bin_id: bin-b appears twice in the file",
    ]
    assert [b["bin_id"] for b in registry.list_rows(store, "bins")] == ["bin-a"]
    orphan = write_csv(tmp_path / "orphan.csv", [bin_row("bin-x", site="west")])
    with pytest.raises(registry.RegistryImportError, match="west is not a known site"):
        registry.import_rows(store, "bins", registry.load_rows(orphan, "bins"))
    assert len(registry.list_rows(store, "bins")) == 1


def test_geojson_import_and_update_in_place(store: Engine, tmp_path: Path) -> None:
    """GeoJSON points give the coordinates; importing again updates, not duplicates."""
    register(store, tmp_path, [bin_row("bin-a")])
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.9, 52.37]},
         "properties": {"bin_id": "bin-a", "site_id": "south", "material": "glass",
                        "capacity_l": 240}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.8, 52.3]},
         "properties": {"bin_id": "bin-g", "material": "glass"}}]}
    path = tmp_path / "bins.geojson"
    path.write_text(json.dumps(doc))
    assert registry.import_rows(store, "bins", registry.load_rows(path, "bins")) == 2
    rows = {b["bin_id"]: b for b in registry.list_rows(store, "bins")}
    assert (rows["bin-a"]["site_id"], rows["bin-a"]["lat"], rows["bin-a"]["lon"]) == (
        "south", 52.37, 4.9)
    assert rows["bin-g"]["interval_s"] == registry.DEFAULT_INTERVAL_S
    path.write_text('{"type": "Feature"}')
    with pytest.raises(registry.RegistryImportError, match="FeatureCollection"):
        registry.load_rows(path, "bins")


def test_collections_add_up_and_replays_change_nothing(store: Engine, tmp_path: Path) -> None:
    """Three fillings and emptyings (one partial): the collections hold exactly the
    kilograms removed, the tonnage report adds them by material, site and month, and
    sending every batch again changes nothing."""
    register(store, tmp_path, [bin_row("bin-p"), bin_row("bin-g", "south", "glass")])
    state = FleetState(store)
    sims = {"bin-p": (Bin("bin-p"), 0.09), "bin-g": (Bin("bin-g"), 0.35)}  # kg per litre
    removed: dict[str, float] = {"bin-p": 0.0, "bin-g": 0.0}
    batches = []
    t = T0
    level = 0.05
    for after in (0.0, 0.4, 0.0):  # what is left after each emptying
        for step in range(12):  # fill from where the last emptying left it to 80 %
            fill = level + (0.8 - level) * step / 11
            rs = []
            for b, dens in sims.values():
                rs.append(b.reading(t, fill, round(fill * 1100 * dens, 2)))
            batches.append((rs, f"b{len(batches)}"))
            t += HOUR
        rs = []
        for bin_id, (b, dens) in sims.items():
            before_kg = round(0.8 * 1100 * dens, 2)
            after_kg = round(after * 1100 * dens, 2)
            removed[bin_id] += before_kg - after_kg
            rs.append(b.reading(t, after, after_kg))
        batches.append((rs, f"b{len(batches)}"))
        t += HOUR
        level = after
    for rs, bid in batches:
        state.apply(rs, t, (), bid)
    got = state.collections()
    assert len(got) == 6
    assert [c["partial"] for c in got if c["bin_id"] == "bin-p"] == [False, True, False]
    assert state.bin("bin-p", t)["empty_baseline_kg"] == 0.0  # type: ignore[index]
    for bin_id, kg in removed.items():
        assert sum(c["kg_removed"] for c in got if c["bin_id"] == bin_id) == pytest.approx(
            kg, abs=0.01)
    report = reports.tonnage(got, ["material", "site", "month"])
    assert report == [
        {"material": "glass", "site": "south", "month": "2025-12", "collections": 3,
         "tonnes": round(removed["bin-g"] / 1000, 3)},
        {"material": "paper", "site": "north", "month": "2025-12", "collections": 3,
         "tonnes": round(removed["bin-p"] / 1000, 3)}]
    assert next(csv.DictReader(io.StringIO(reports.to_csv(report))))["tonnes"] == str(
        round(removed["bin-g"] / 1000, 3))
    before = (state.bins(t), state.collections(), state.rollups("bin-p", 0, 2**53))
    for rs, bid in batches:  # the gateway retrying everything: same ids
        state.apply(rs, t, (), bid)
    for rs, _ in batches:  # and again under new batch ids: the (bin, seq) keys catch them
        state.apply(rs, t, (), None)
    assert (state.bins(t), state.collections(), state.rollups("bin-p", 0, 2**53)) == before


def test_late_reading_inside_an_emptying_is_placed_in_time(store: Engine, tmp_path: Path
                                                           ) -> None:
    """A reading that arrives after newer ones is compared with its neighbours in time:
    the emptying is still recorded once, at the right reading."""
    register(store, tmp_path, [bin_row("bin-l")])
    state = FleetState(store)
    b = Bin("bin-l")
    full = b.reading(T0, 0.8, 79.2)
    late = b.reading(T0 + HOUR, 0.79, 79.0)
    empty = b.reading(T0 + 2 * HOUR, 0.02, 1.0)
    state.apply([full], T0, (), "1")
    state.apply([empty], T0, (), "2")
    state.apply([late], T0, (), "3")
    got = state.collections()
    assert [(c["ts_ms"], c["kg_removed"]) for c in got] == [(T0 + 2 * HOUR, 78.0)]


def test_silent_bin_goes_offline_after_its_own_interval(store: Engine, tmp_path: Path) -> None:
    """Offline after twice the bin's own reporting interval plus 5 minutes, not before;
    a bin with a longer interval is still online at that time."""
    register(store, tmp_path, [bin_row("bin-fast", interval_s=600),
                               bin_row("bin-slow", interval_s=3600)])
    state = FleetState(store)
    state.apply([Bin("bin-fast").reading(T0, 0.3, 30), Bin("bin-slow").reading(T0, 0.3, 30)],
                T0, (), "x")
    limit = T0 + 2 * 600_000 + 300_000
    at = {b["bin_id"]: b["online"] for b in state.bins(limit)}
    assert at == {"bin-fast": True, "bin-slow": True}
    at = {b["bin_id"]: b["online"] for b in state.bins(limit + 1)}
    assert at == {"bin-fast": False, "bin-slow": True}


def test_steady_filling_predicts_time_to_full(store: Engine, tmp_path: Path) -> None:
    """A bin filling 1.5 points an hour from 10 %: after 24 h the forecast of reaching
    85 % is within 30 minutes of the truth, inside its own window. When it does cross
    85 %, the forecast made 24 h before is checked and its error reported."""
    register(store, tmp_path, [bin_row("bin-s")])
    state = FleetState(store)
    b = Bin("bin-s")
    rs = [b.reading(T0 + h * HOUR, 0.10 + 0.015 * h, round((0.10 + 0.015 * h) * 99, 2))
          for h in range(25)]
    state.apply(rs, T0 + 24 * HOUR, (), "s")
    live = state.bin("bin-s", T0 + 24 * HOUR)
    assert live is not None
    truth = T0 + int((0.85 - 0.10) / 0.015 * HOUR)
    assert live["fill_rate_pct_per_h"] == pytest.approx(1.5, abs=0.05)
    assert abs(live["full_at_ms"] - truth) <= 30 * 60_000
    assert live["full_at_earliest_ms"] <= live["full_at_ms"] <= live["full_at_latest_ms"]
    assert live["forecast_checks"] == 0
    more = [b.reading(T0 + h * HOUR, 0.10 + 0.015 * h, round((0.10 + 0.015 * h) * 99, 2))
            for h in range(25, 56)]
    state.apply(more, T0 + 55 * HOUR, (), "s2")
    live = state.bin("bin-s", T0 + 55 * HOUR)
    assert live is not None
    assert live["forecast_checks"] == 1
    # Crossed at the first hourly reading at or above 85 % (hour 50); forecast said 50.0 h.
    assert live["forecast_error_h"] <= 0.5


def test_full_with_unchanged_weight_is_blocked_and_density_flags_glass_in_paper(
        store: Engine, tmp_path: Path) -> None:
    """A bag over the sensor (the firmware flags it covered) shows as blocked with a
    lower sensor health; glass-heavy weight in a paper bin shows as likely contamination."""
    register(store, tmp_path, [bin_row("bin-b"), bin_row("bin-c")])
    state = FleetState(store)
    b = Bin("bin-b")
    rs = [b.reading(T0 + h * HOUR, 0.2, 19.8) for h in range(3)]
    rs.append(b.reading(T0 + 3 * HOUR, 0.2, 19.9, cover_mm=160))
    c = Bin("bin-c")
    state.apply([*rs, c.reading(T0, 0.5, 0.5 * 1100 * 0.35)], T0 + 3 * HOUR, (), "b")
    live = {x["bin_id"]: x for x in state.bins(T0 + 3 * HOUR)}
    assert live["bin-b"]["blocked"] is True
    assert live["bin-b"]["sensor_faults"] == ["covered"]
    assert live["bin-b"]["sensor_health"] == 75
    assert live["bin-b"]["likely_contamination"] is False
    assert live["bin-c"]["density_kg_per_l"] == pytest.approx(0.35, abs=0.01)
    assert live["bin-c"]["likely_contamination"] is True


def test_ngsi_ld_waste_container(store: Engine, tmp_path: Path) -> None:
    """The FIWARE WasteContainer shape: 0-1 filling level, weight, status, location."""
    register(store, tmp_path, [bin_row("bin-n")])
    state = FleetState(store)
    b = Bin("bin-n")
    state.apply([b.reading(T0, 0.8, 79.0), b.reading(T0 + HOUR, 0.02, 1.0, temp_dc=750)],
                T0 + HOUR, (), "n")
    e = ngsi.waste_container(state.bin("bin-n", T0 + HOUR) or {})
    assert e["id"] == "urn:ngsi-ld:WasteContainer:bin-n"
    assert e["type"] == "WasteContainer"
    assert 0 <= e["fillingLevel"]["value"] <= 0.05
    assert e["cargoWeight"] == {"type": "Property", "value": 1.0,
                                "observedAt": "2025-12-01T01:00:00.000Z", "unitCode": "KGM"}
    assert e["status"]["value"] == "burning"
    assert e["dateLastEmptying"]["value"] == {"@type": "DateTime",
                                              "@value": "2025-12-01T01:00:00.000Z"}
    assert e["location"]["value"] == {"type": "Point", "coordinates": [5.1, 52.1]}


def test_fleet_import_cli(tmp_path: Path) -> None:
    """`binfleet fleet import` reports bad rows and exits 1; a good file imports."""
    toml = tmp_path / "ingest.toml"
    toml.write_text(f'[ingest]\nstate_path = "{tmp_path / "state.sqlite3"}"\n')
    sites = write_csv(tmp_path / "sites.csv", [{"site_id": "n", "name": "N"},
                                                {"site_id": "bad id", "name": "B"}])
    run = [sys.executable, "-m", "binfleet.cli", "fleet"]
    proc = subprocess.run([*run, "import", str(sites), "--kind", "sites", "--config", str(toml)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "nothing imported, 1 problem(s)" in proc.stderr
    assert "row 2: site_id: must match" in proc.stderr
    sites.write_text("site_id,name\nn,North\n")
    proc = subprocess.run([*run, "import", str(sites), "--kind", "sites", "--config", str(toml)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*run, "list", "--kind", "sites", "--config", str(toml)],
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(proc.stdout) == {"site_id": "n", "name": "North", "lat": None,
                                       "lon": None}


def test_state_file_from_before_migrations_is_upgraded(tmp_path: Path) -> None:
    """A state file the hand-written schema made is migrated in place; its rows stay."""
    import sqlite3

    from cloud_ingest import db

    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE bin_state (bin_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
            ts_ms INTEGER NOT NULL, fill_pct REAL, weight_kg REAL, battery_mv INTEGER,
            temp_c REAL, quality INTEGER NOT NULL, flags INTEGER NOT NULL, fw TEXT NOT NULL,
            last_seen_ms INTEGER NOT NULL, readings INTEGER NOT NULL);
        CREATE TABLE bin_status (bin_id TEXT PRIMARY KEY, status TEXT NOT NULL,
            status_ts_ms INTEGER NOT NULL);
        INSERT INTO bin_state VALUES ('bin-o', 4, 1764547200000, 40.0, 20.0, 3300, 18.0,
            4, 0, '0.1.0', 1764547200000, 5);
        INSERT INTO bin_status VALUES ('bin-o', 'online', 1764547200000);
    """)
    con.close()
    state = FleetState(db.open_store(f"sqlite:///{path}"))
    live = state.bin("bin-o", T0)
    assert live is not None
    assert (live["fill_pct"], live["readings"], live["status"]) == (40.0, 5, "online")
    b = Bin("bin-o")
    b.seq = 5
    state.apply([b.reading(T0 + HOUR, 0.5, 25.0)], T0 + HOUR, (), "after")
    assert state.bin("bin-o", T0 + HOUR)["readings"] == 6  # type: ignore[index]


def test_store_at_revision_0001_gains_the_dropped_column(tmp_path: Path) -> None:
    """A store migrated before bins reported dropped readings gets the column from 0002,
    and a status event's count lands in it."""
    import sqlite3

    from cloud_ingest import db
    from protocol.status import StatusEvent

    path = tmp_path / "0001.sqlite3"
    db.open_store(f"sqlite:///{path}").dispose()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE bin_status DROP COLUMN dropped")
    con.execute("UPDATE alembic_version SET version_num = '0001'")
    con.commit()
    con.close()
    state = FleetState(db.open_store(f"sqlite:///{path}"))
    state.apply([], T0, [StatusEvent("bin-d", "online", T0, 3, None, 61)], "status")
    live = state.bin("bin-d", T0)
    assert live is not None
    assert (live["config_version"], live["dropped"]) == (3, 61)


def test_weekday_rhythm_moves_the_forecast(store: Engine, tmp_path: Path) -> None:
    """A bin by an office: 2 points an hour on weekdays, 0.25 at weekends, emptied on a
    morning round when 40 % or more. After three weeks the rhythm is learned at an
    emptying; on a Friday afternoon the forecast runs through the slow weekend to Monday
    evening, within 2 hours of the truth, where the straight line from Friday's readings
    says Saturday night, more than a day early."""
    register(store, tmp_path, [bin_row("bin-o")])
    state = FleetState(store)
    b = Bin("bin-o")

    def rate(ts: int) -> float:  # fill points per hour
        return 2.0 if time.gmtime(ts / 1000).tm_wday < 5 else 0.25

    fill, ts, rs = 5.0, T0, []  # T0 is a Monday
    end = T0 + (3 * 7 + 4) * 24 * HOUR + 16 * HOUR  # Friday of week 4, 16:00
    while ts <= end:
        if time.gmtime(ts / 1000).tm_hour == 8 and fill >= 40:  # the morning round
            fill = 5.0
        rs.append(b.reading(ts, fill / 100, round(fill / 100 * 99, 2)))
        fill += rate(ts)
        ts += HOUR
    for i in range(0, len(rs), 50):
        state.apply(rs[i:i + 50], ts, (), f"o{i}")
    now = rs[-1].ts_ms
    live = state.bin("bin-o", now)
    assert live is not None
    factors = live["weekly_factors"]
    assert factors is not None
    # 2 and 0.25 points an hour against an average day of 10.5 / 7 = 1.5.
    assert all(f == pytest.approx(2 / 1.5, abs=0.05) for f in factors[:5])
    assert all(f == pytest.approx(0.25 / 1.5, abs=0.05) for f in factors[5:])
    truth, f, t = None, rs[-1].fill_pct, now
    while truth is None:
        if f + rate(t) >= 85:
            truth = t + int((85 - f) / rate(t) * HOUR)
        f += rate(t)
        t += HOUR
    assert abs(live["full_at_ms"] - truth) <= 2 * HOUR
    emptied = state.collections(bin_id="bin-o")[-1]["ts_ms"]
    line = analytics.forecast([analytics.Point(r.ts_ms, r.fill_pct, r.weight_kg, r.quality,
                                               r.flags) for r in rs if r.ts_ms >= emptied], now)
    assert line is not None
    assert line.full_at_ms is not None
    assert truth - line.full_at_ms > 24 * HOUR


def test_rising_noise_is_a_sensor_fault(store: Engine, tmp_path: Path) -> None:
    """Samples spreading wider day by day (a dirty transducer) show as rising noise."""
    register(store, tmp_path, [bin_row("bin-z"), bin_row("bin-q")])
    state = FleetState(store)
    now = T0 + 4 * 24 * HOUR
    rs = []
    for name, grow in (("bin-z", 4), ("bin-q", 0)):
        b = Bin(name)
        for h in range(0, 4 * 24, 3):
            r = b.reading(T0 + h * HOUR, 0.3, 29.7)
            spread = 3 + grow * h // 24  # mm: 4 more a day for bin-z
            rs.append(v1.validate({**r.to_wire(), "spread_mm": spread}, name, now))
    state.apply(rs, now, (), "z")
    live = {x["bin_id"]: x for x in state.bins(now)}
    assert live["bin-z"]["noise_rising"] is True
    assert "rising_noise" in live["bin-z"]["sensor_faults"]
    assert live["bin-q"]["noise_rising"] is False


def test_weight_jump_without_fill_drop_is_not_a_collection() -> None:
    """A load cell that jumps down while the fill stays put is not an emptying."""
    before = analytics.Point(T0, 70.0, 60.0, 4, 0)
    assert analytics.emptying(before, analytics.Point(T0 + HOUR, 69.0, 20.0, 4, 0)) is None
    e = analytics.emptying(before, analytics.Point(T0 + HOUR, 30.0, 20.0, 4, 0))
    assert e is not None
    assert (e.kg_removed, e.partial) == (40.0, True)
    assert analytics.emptying(before, analytics.Point(T0 + HOUR, 2.0, 0.5, 3, 0)) is None
