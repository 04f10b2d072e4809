"""Platform side: ingest API, time-series writes, fleet state."""
