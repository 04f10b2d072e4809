"""Edge service: MQTT in, validate, durable buffer, acknowledge, forward to cloud_ingest."""
