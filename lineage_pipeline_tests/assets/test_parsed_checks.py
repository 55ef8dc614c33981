"""Spec of assets.parsed_checks in real Dagster runs (ephemeral instance, copied demo corpus)."""

from contextlib import closing

import dagster as dg
import pytest

from lineage_pipeline.assets.corpus import sql_corpus
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.assets.parsed_checks import parse_error_rate_below_threshold
from lineage_pipeline_tests.assets.support import DOMAIN, checks_setup, metadata, run_checks

pytestmark = pytest.mark.integration  # Dagster runs with parse workers

DEFINITIONS = [sql_corpus, parsed_sql, parse_error_rate_below_threshold]


@pytest.fixture
def setup(tmp_path):
    yield from checks_setup(tmp_path)


def test_the_parse_error_rate_check_passes_after_a_clean_ingest(setup):
    checks = run_checks(setup, DEFINITIONS)
    assert checks["parse_error_rate_below_threshold"].passed
    parse = metadata(checks["parse_error_rate_below_threshold"])
    assert (parse["files"], parse["files_with_errors"], parse["max_error_rate"]) == (11, 1, 0.25)


def test_parse_error_rate_fails_over_the_threshold(setup):
    checks = run_checks(setup, DEFINITIONS, max_error_rate=0.05)
    assert not checks["parse_error_rate_below_threshold"].passed
    assert metadata(checks["parse_error_rate_below_threshold"])["error_rate"] == round(1 / 11, 4)
    for n in range(4):
        (setup.corpus / DOMAIN / f"junk_{n}.sql").write_text("SELEC broken FROM WHERE (((;\n")
    checks = run_checks(setup, DEFINITIONS)
    evaluation = checks["parse_error_rate_below_threshold"]
    assert not evaluation.passed and metadata(evaluation)["files_with_errors"] == 5
    assert evaluation.severity == dg.AssetCheckSeverity.WARN


def test_the_threshold_defaults_to_the_parser_resources_max_error_rate(tmp_path):
    setups = checks_setup(tmp_path, parse_error_rate_threshold=0.05)
    with closing(setups):
        evaluation = run_checks(next(setups), DEFINITIONS)["parse_error_rate_below_threshold"]
    assert not evaluation.passed and metadata(evaluation)["max_error_rate"] == 0.05
