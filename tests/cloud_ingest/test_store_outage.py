"""cloud_ingest with its operational store on PostgreSQL behind a fault proxy: while the
network to the database is cut, batches get 503 with Retry-After; once it is back, the
same batches are taken, and the fleet state and the series hold every reading once."""

import gzip
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from protocol import batch
from tests.cloud_ingest.conftest import _pg_database
from tests.cloud_ingest.test_ingest import AUTH, reading
from tests.faultproxy import FaultProxy
from tests.servers import VictoriaMetrics, points_at_least
from tests.services import Ingest


def test_postgres_cut_gives_503_and_loses_nothing(tmp_path: Path,
                                                  victoria: VictoriaMetrics) -> None:
    """Cut the database link mid-run, post, restore, post again: all 60 readings once."""
    gen = _pg_database()
    url = next(gen)
    db_name = url.rsplit("/", 1)[1]
    proxy = FaultProxy(5432)
    proxy.start()
    proxied = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{db_name}"
    svc = Ingest(tmp_path / "ingest", influx_url=victoria.url,
                 extra=f'state_url = "{proxied}"\n')
    svc.start()
    headers = {**AUTH, "Content-Encoding": "gzip"}
    now = int(time.time() * 1000)

    def post(k: int) -> httpx.Response:
        body = batch.encode("gw-1", [reading(f"bin-{i}", k, now - 60_000 + k * 1000)
                                     for i in range(20)])
        return httpx.post(f"{svc.url}/api/v1/ingest", content=gzip.compress(body),
                          headers=headers, timeout=30)

    try:
        assert post(0).status_code == 200
        proxy.mode = "cut_request"  # every connection to PostgreSQL dies on its next query
        refused = post(1)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["error"]["field"] == "store"
        proxy.mode = "pass"
        # The cut left PostgreSQL's side of the broken connection open, idle in a
        # transaction that holds batch 1's row: retries wait 5 s for that lock and get
        # 503 until the server ends the session (idle_in_transaction_session_timeout,
        # 30 s, set by cloud_ingest), then batch 1 goes in.
        for k in (1, 2):  # the gateway's retry of batch 1, then the next batch
            for _ in range(20):
                r = post(k)
                if r.status_code == 200:
                    break
                time.sleep(1)  # as Retry-After says
            assert r.status_code == 200, r.text
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*), count(DISTINCT (bin_id, seq)) "
                                        "FROM readings")).one()
            per_bin = conn.execute(sa.text("SELECT min(readings), max(readings) "
                                           "FROM bin_state")).one()
        engine.dispose()
        assert tuple(rows) == (60, 60)
        assert tuple(per_bin) == (3, 3)
        points = points_at_least(victoria, 60)
        assert len(points) == 60
    finally:
        svc.stop()
        proxy.stop()
        gen.close()
