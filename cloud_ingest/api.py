"""The read side of the HTTP API: live state, rollups, collections, reports, registry,
and the NGSI-LD export. Every response has a model in /openapi.json."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cloud_ingest import ngsi, registry, reports
from cloud_ingest.models import BinState, Collection, Crew, Rollup, Site, TonnageRow
from cloud_ingest.state import FleetState
from protocol.v1 import ID_RE

MAX_MS = 2**53 - 1
BinId = Annotated[str, Path(pattern=ID_RE.pattern)]
BinQuery = Annotated[str | None, Query(pattern=ID_RE.pattern)]
FromMs = Annotated[int, Query(ge=0, le=MAX_MS, description="from this time, Unix ms")]
ToMs = Annotated[int, Query(ge=0, le=MAX_MS, description="up to this time, Unix ms")]
SiteId = Annotated[str | None, Query(pattern=registry.TAG_RE.pattern)]
BY_PATTERN = r"^(material|site|month)(,(material|site|month)){0,2}$"
BY_HELP = "grouping, comma-separated: material, site, month"


def _error(status: int, field: str, rule: str) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "rule": rule}}, status_code=status)


def read_routes(state: FleetState) -> APIRouter:
    """Routes over the fleet state."""
    router = APIRouter()

    @router.get("/api/v1/bins", summary="Live state of every bin", response_model=list[BinState])
    async def bins() -> list[dict[str, Any]]:
        """Every registered or reporting bin: latest reading, online/offline, forecast,
        battery, sensor health, density (docs/cloud_ingest.md#state-model)."""
        return await run_in_threadpool(state.bins)

    @router.get("/api/v1/bins/{bin_id}", summary="Live state of one bin", response_model=BinState,
             responses={404: {"description": "no such bin"}})
    async def one_bin(bin_id: BinId) -> Any:
        """One bin's live state."""
        found = await run_in_threadpool(state.bin, bin_id)
        if found is None:
            return _error(404, "bin_id", "no bin with this id is registered or reporting")
        return found

    @router.get("/api/v1/bins/{bin_id}/rollups", summary="Hourly rollups of one bin",
             response_model=list[Rollup])
    async def rollups(bin_id: BinId, from_ms: FromMs = 0, to_ms: ToMs = MAX_MS
                      ) -> list[dict[str, Any]]:
        """Fill max/last, weight and data completeness per hour, [from_ms, to_ms)."""
        return await run_in_threadpool(state.rollups, bin_id, from_ms, to_ms)

    @router.get("/api/v1/collections", summary="Recorded emptyings",
                response_model=list[Collection])
    async def collections(bin_id: BinQuery = None, site_id: SiteId = None,
                          from_ms: FromMs = 0, to_ms: ToMs = MAX_MS) -> list[dict[str, Any]]:
        """Emptyings with kilograms removed, oldest first."""
        return await run_in_threadpool(state.collections, bin_id, site_id, from_ms, to_ms)

    @router.get("/api/v1/reports/tonnage", summary="Tonnes collected by material, site and month",
             response_model=list[TonnageRow],
             responses={200: {"content": {"text/csv": {}}}})
    async def tonnage(by: Annotated[str, Query(pattern=BY_PATTERN, description=BY_HELP)] = (
                          "material,site,month"),
                      from_ms: FromMs = 0, to_ms: ToMs = MAX_MS,
                      format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
        """Sum of kilograms removed, in tonnes, grouped as asked. format=csv for a file."""
        rows = reports.tonnage(await run_in_threadpool(state.collections, None, None,
                                                       from_ms, to_ms), by.split(","))
        if format == "csv":
            return Response(reports.to_csv(rows), media_type="text/csv")
        return rows

    @router.get("/api/v1/sites", summary="Registered sites", response_model=list[Site])
    async def sites() -> list[dict[str, Any]]:
        """Sites from the registry (binfleet fleet import)."""
        return await run_in_threadpool(registry.list_rows, state.engine, "sites")

    @router.get("/api/v1/crews", summary="Registered crews", response_model=list[Crew])
    async def crews() -> list[dict[str, Any]]:
        """Crews from the registry (binfleet fleet import)."""
        return await run_in_threadpool(registry.list_rows, state.engine, "crews")

    @router.get("/ngsi-ld/v1/entities", summary="Bins as FIWARE WasteContainer entities (NGSI-LD)",
             responses={200: {"content": {"application/ld+json": {}}}})
    async def ngsi_entities(type: Annotated[str, Query(pattern="^WasteContainer$")] = (
                                "WasteContainer")) -> Response:
        """Every bin as an NGSI-LD WasteContainer, for a city's context broker."""
        entities = [ngsi.waste_container(b) for b in await run_in_threadpool(state.bins)]
        return Response(json.dumps(entities), media_type="application/ld+json")

    @router.get("/ngsi-ld/v1/entities/{entity_id}", summary="One bin as an NGSI-LD WasteContainer",
             responses={200: {"content": {"application/ld+json": {}}}, 404: {}})
    async def ngsi_entity(entity_id: Annotated[str, Path(max_length=80)]) -> Response:
        """urn:ngsi-ld:WasteContainer:{bin_id}."""
        bin_id = entity_id.removeprefix(ngsi.URN_PREFIX)
        found = await run_in_threadpool(state.bin, bin_id) if ID_RE.fullmatch(bin_id) else None
        if found is None:
            return _error(404, "entity_id", "no such WasteContainer")
        return Response(json.dumps(ngsi.waste_container(found)), media_type="application/ld+json")

    return router
