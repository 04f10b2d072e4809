"""Network layer: the MQTT client the bin uses (Wi-Fi and NTP live on the device side)."""
