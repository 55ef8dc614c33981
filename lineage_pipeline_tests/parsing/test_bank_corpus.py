"""Spec: the demo bank warehouse corpus (examples/bank_corpus) - its README's assertable lineage facts."""

from itertools import pairwise
from pathlib import Path

import pytest

from lineage_pipeline.parsing import FileLineage, build_catalog, parse_file_bytes

ROOT = Path(__file__).resolve().parents[2] / "examples" / "bank_corpus"
DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery"}

pytestmark = pytest.mark.skipif(not ROOT.exists(), reason="bank corpus not present")


def _dialect(path: Path) -> str:
    return DIALECTS.get(path.relative_to(ROOT).parts[0], "ansi")


@pytest.fixture(scope="module")
def parsed() -> dict[str, FileLineage]:
    paths = sorted(ROOT.rglob("*.sql"))
    first = [parse_file_bytes(p.read_bytes(), _dialect(p), str(p)) for p in paths]
    catalog = build_catalog(first)
    return {
        str(p.relative_to(ROOT)): parse_file_bytes(p.read_bytes(), _dialect(p), str(p), catalog) for p in paths
    }


@pytest.fixture(scope="module")
def table_edges(parsed) -> set[tuple[str, str]]:
    return {
        (source, target)
        for result in parsed.values()
        for statement in result.statements
        for source in statement.sources
        for target in statement.targets
    }


@pytest.fixture(scope="module")
def column_edges(parsed) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in parsed.values():
        for statement in result.statements:
            for edge in statement.columns:
                found.setdefault(edge.target, set()).update(edge.sources)
    return found


CHAINS = [
    "src_core_banking.accounts stg.accounts dw.dim_account risk.exposure_at_default reporting.regulatory_capital",
    "src_core_banking.transactions stg.transactions dw.fact_transaction reporting.monthly_transaction_volumes "
    "reporting.management_kpis",
    "src_market.fx_rates stg.fx_rates dw.fact_balance_daily reporting.daily_balance_sheet reporting.management_kpis",
    "src_core_banking.loans stg.loans dw.fact_loan_exposure risk.exposure_at_default risk.large_exposures "
    "reporting.bcbs239_large_exposures",
    "src_crm.customer_profiles stg.customers dw.dim_customer risk.pd_lgd_inputs risk.credit_rwa reporting.regulatory_capital",
    "dw.fact_transaction dw.v_transaction_monthly reporting.v_transaction_summary",
    "dw.fact_transaction risk.customer_transaction_profile reporting.customer_360",
    "src_cards.card_transactions stg.card_transactions dw.fact_transaction",
    "stg.fx_rates dw.fact_transaction",
    "stg.fx_rates dw.fact_loan_exposure",
    "risk.eligible_capital risk.large_exposures",
    "risk.eligible_capital reporting.regulatory_capital",
    "dw.dim_product dw.dim_account",
    "dw.dim_customer dw.dim_account",
    "src_core_banking.branches stg.branches dw.dim_account",
    "src_crm.contacts stg.customer_contacts dw.dim_customer",
]


@pytest.mark.parametrize("chain", CHAINS)
def test_table_chain(chain, table_edges):
    hops = chain.split()
    for source, target in pairwise(hops):
        assert (source, target) in table_edges


@pytest.mark.parametrize(
    ("target", "sources"),
    [
        ("stg.accounts.account_number", {"src_core_banking.accounts.acct_no"}),
        ("dw.fact_transaction.amount_eur",
         {"stg.transactions.amount", "stg.fx_rates.rate", "stg.card_transactions.billing_amount"}),
        ("dw.fact_balance_daily.balance_eur", {"stg.account_balances.ledger_balance", "stg.fx_rates.rate"}),
        ("risk.exposure_at_default.ead_amount",
         {"dw.fact_loan_exposure.drawn_amount_eur", "dw.fact_loan_exposure.undrawn_amount_eur", "dw.fact_loan_exposure.ccf"}),
        ("reporting.regulatory_capital.total_rwa", {"risk.credit_rwa.rwa_amount"}),
        ("stg.transactions.amount", {"src_core_banking.transactions.txn_amt"}),
        ("stg.customer_contacts.email", {"src_crm.contacts.email_addr"}),
    ],
)
def test_column_facts(target, sources, column_edges):
    assert column_edges[target] == sources


def test_no_temp_table_is_a_node(parsed):
    for result in parsed.values():
        for statement in result.statements:
            names = statement.sources + statement.targets + [e.target for e in statement.columns]
            names += [s for e in statement.columns for s in e.sources] + [e.table for e in statement.effects]
            assert not [n for n in names if n.startswith("#")], (result.path, statement)


def test_select_star_view_expands_with_catalog(parsed):
    views = parsed["core/views_dw_customer.sql"]
    view = next(s for s in views.statements if s.targets == ["dw.v_product_catalog"])
    assert view.defined_columns == [
        "product_key", "product_code", "product_name", "product_family", "is_lending", "basel_asset_class", "updated_at"]
    assert {e.target: e.sources for e in view.columns}["dw.v_product_catalog.product_name"] == ["dw.dim_product.product_name"]


def test_dynamic_sql_and_procedure_call(parsed):
    fact = parsed["core/usp_load_fact_transaction.sql"]
    balance = parsed["core/usp_load_fact_balance_daily.sql"]
    assert [c.kind for s in fact.statements for c in s.calls] == ["dynamic_sql"]
    assert [(c.kind, c.target) for s in balance.statements for c in s.calls] == [
        ("procedure", "dw.usp_refresh_fact_loan_exposure")]


def test_dim_date_has_no_persistent_upstream(parsed):
    writers = [s for s in parsed["core/usp_load_dim_date.sql"].statements if s.targets]
    assert [(s.sources, s.targets, s.temp_tables) for s in writers] == [([], ["dw.dim_date"], ["#dates"])]


def test_bad_files(parsed):
    broken = parsed["staging/broken_load_branches.sql"]
    assert [(e.statement, e.line) for e in broken.errors] == [(2, 28)]
    assert [s.targets for s in broken.statements if s.targets] == [["stg.branches"], ["stg.branches"]]
    empty = parsed["core/empty_usp_load_fact_fees.sql"]
    assert (empty.statements, empty.errors) == ([], [])
    junk = parsed["risk/binary_junk_model_export.sql"]
    assert junk.statements == [] and junk.errors[0].message.startswith("binary content")
    latin = parsed["staging/latin1_load_crm_contacts.sql"]
    assert latin.errors == [] and latin.encoding == "cp1252"


def test_every_good_file_parses_without_errors(parsed):
    bad = {"staging/broken_load_branches.sql", "risk/binary_junk_model_export.sql"}
    assert {path: result.errors for path, result in parsed.items() if path not in bad and result.errors} == {}
