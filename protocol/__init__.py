"""Wire formats shared by the gateway and cloud_ingest: decode and validate at the edge, once."""
