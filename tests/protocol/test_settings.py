"""The shared config format: TOML table plus environment overrides, errors naming the key."""

from pathlib import Path

import pytest

from cloud_ingest import config as ingest_config
from gateway import config as gateway_config
from protocol.errors import ProtocolError


def test_defaults_file_and_environment(tmp_path: Path) -> None:
    """Environment beats file beats default."""
    f = tmp_path / "gw.toml"
    f.write_text('[gateway]\nbatch_max = 50\ngateway_id = "north"\n')
    cfg = gateway_config.load(f, {"BINFLEET_GATEWAY_BATCH_MAX": "70"})
    assert cfg.batch_max == 70
    assert cfg.gateway_id == "north"
    assert cfg.commit_window_ms == 5


def test_bad_values_name_the_key(tmp_path: Path) -> None:
    """Unknown keys, wrong types and bad ranges are named."""
    f = tmp_path / "gw.toml"
    f.write_text("[gateway]\nbatch_size = 50\n")
    with pytest.raises(ProtocolError, match=r"gateway\.batch_size: unknown config key"):
        gateway_config.load(f, {})
    with pytest.raises(ProtocolError, match="BINFLEET_GATEWAY_BATCH_MAX: must be an integer"):
        gateway_config.load(None, {"BINFLEET_GATEWAY_BATCH_MAX": "many"})
    with pytest.raises(ProtocolError, match="mqtt_url"):
        gateway_config.load(None, {"BINFLEET_GATEWAY_MQTT_URL": "http://x"})
    f.write_text("[ingest]\nport = 'x'\n")
    with pytest.raises(ProtocolError, match=r"ingest\.port: must be an integer"):
        ingest_config.load(f, {})


def test_list_from_environment() -> None:
    """Lists come from comma-separated environment values."""
    cfg = ingest_config.load(None, {"BINFLEET_INGEST_TOKEN_SHA256": "aa,bb"})
    assert cfg.token_sha256 == ("aa", "bb")
