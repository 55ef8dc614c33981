"""Spec of the source attribution and masking behind ``lineage config show`` and settings errors."""

import pytest
import yaml
from pydantic import SecretStr

from lineage_pipeline.settings import IngestionSettings
from lineage_pipeline.settings_sources import (
    MASK,
    describe,
    display_value,
    env_names,
    field_for_key,
    is_secret,
    redact_url,
)


def test_env_names_follow_prefix_or_aliases():
    assert env_names("write_batch_size") == ["LINEAGE_WRITE_BATCH_SIZE"]
    assert env_names("enable_batching") == ["LINEAGE_ENABLE_BATCHING", "ENABLE_BATCHING"]
    assert env_names("statsd_host") == ["LINEAGE_STATSD_HOST", "STATSD_HOST"]


def test_field_for_key_maps_aliases_and_rejects_unknown_keys():
    assert field_for_key("lineage_enable_batching") == "enable_batching"
    assert field_for_key("STATSD_PORT") == "statsd_port"
    assert field_for_key("graph_name") == "graph_name"
    assert field_for_key("no_such_knob") is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379", f"redis://:{MASK}@host:6379"),
        ("neo4j+s://user:p%40ss@db.example:7687/x", f"neo4j+s://user:{MASK}@db.example:7687/x"),
        ("redis://host:6379", "redis://host:6379"),
    ],
)
def test_redact_url_masks_only_the_password(url, shown):
    assert redact_url(url) == shown


def test_secrets_are_recognised_and_masked():
    assert is_secret("neo4j_password") and not is_secret("neo4j_user")
    assert display_value("neo4j_password", SecretStr("x")) == MASK
    assert display_value("neo4j_password", None) == "null"
    assert display_value("folder_dialects", {"a": "tsql"}) == '{"a": "tsql"}'


def test_describe_attributes_env_over_yaml(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"corpus_root": str(corpus), "graph_name": "y", "write_batch_size": 5}))
    for key in ("LINEAGE_GRAPH_NAME", "LINEAGE_WRITE_BATCH_SIZE", "LINEAGE_CORPUS_ROOT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LINEAGE_CONFIG", str(config))
    monkeypatch.setenv("LINEAGE_WRITE_BATCH_SIZE", "9")
    rows = {row.key: row for row in describe(IngestionSettings())}
    assert (rows["write_batch_size"].value, rows["write_batch_size"].source) == ("9", "env LINEAGE_WRITE_BATCH_SIZE")
    assert (rows["graph_name"].value, rows["graph_name"].source) == ("y", f"yaml {config.resolve()}")
