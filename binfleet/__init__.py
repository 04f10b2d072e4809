"""The `binfleet` command line: demo, gateway, ingest, sim."""
