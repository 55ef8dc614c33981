"""Specification matrix: every construct of the lineage contract in every required dialect, as bank-warehouse
SQL, with the exact kind, sources, targets, column edges and effects of the statement that matters.

Each case is (construct, dialect, sql, expected). The statement checked is the file's last one of the
expected kind; the file must parse without errors. ``columns`` maps every written column to
(sorted sources, transform) - a column missing from the map is an error, as is an extra one.
"""

from dataclasses import dataclass, field

import pytest

from lineage_pipeline.parsing import Catalog, Effect, parse_sql

DIALECTS = ("tsql", "snowflake", "bigquery", "postgres", "redshift", "spark", "databricks", "hive", "oracle", "mysql", "duckdb")

BANK_CATALOG = Catalog(
    {
        "dw.dim_account": ["account_id", "iban", "customer_id", "branch_id", "currency_code", "open_date"],
        "dw.dim_currency": ["currency_code", "currency_name", "minor_units"],
        "stg.currency": ["code", "name", "decimals", "load_ts"],
        "stg.accounts": ["account_id", "iban", "customer_id", "branch_id", "currency_code", "open_date"],
    }
)


@dataclass(frozen=True)
class Expected:
    kind: str
    sources: list[str]
    targets: list[str]
    columns: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    procedure: str | None = None
    temp_tables: list[str] | None = None
    catalog: Catalog | None = None


CASES: list[tuple[str, str, str, Expected]] = []


def case(construct: str, dialects, sql, expected) -> None:
    """Register ``construct`` for ``dialects``; ``sql`` and ``expected`` are one value for all dialects
    or a dialect -> value mapping."""
    for dialect in (dialects,) if isinstance(dialects, str) else dialects:
        text = sql[dialect] if isinstance(sql, dict) else sql
        CASES.append((construct, dialect, text, expected[dialect] if isinstance(expected, dict) else expected))


def others(*excluded: str) -> tuple[str, ...]:
    return tuple(d for d in DIALECTS if d not in excluded)


# ------------------------------------------------------------------ SELECT: reads only, never writes

case("select_join_filter", DIALECTS,
     "SELECT c.customer_id, c.segment, a.iban FROM dw.dim_customer c JOIN dw.dim_account a ON a.customer_id = c.customer_id "
     "WHERE a.account_id IN (SELECT l.account_id FROM dw.fact_loan l WHERE l.days_past_due > 90)",
     Expected("SELECT", ["dw.dim_account", "dw.dim_customer", "dw.fact_loan"], []))

# ------------------------------------------------------------------ INSERT ... SELECT with join and aggregation

case("insert_select_aggregate", DIALECTS,
     "INSERT INTO dw.fact_daily_turnover (account_id, booking_date, turnover, txn_count) "
     "SELECT a.account_id, t.booking_date, SUM(t.amount), COUNT(*) "
     "FROM stg.accounts a JOIN stg.transactions t ON t.account_id = a.account_id "
     "WHERE a.status = 'OPEN' GROUP BY a.account_id, t.booking_date",
     Expected("INSERT", ["stg.accounts", "stg.transactions"], ["dw.fact_daily_turnover"], {
         "dw.fact_daily_turnover.account_id": (["stg.accounts.account_id"], "direct"),
         "dw.fact_daily_turnover.booking_date": (["stg.transactions.booking_date"], "direct"),
         "dw.fact_daily_turnover.turnover": (["stg.transactions.amount"], "aggregation"),
         "dw.fact_daily_turnover.txn_count": ([], "aggregation"),
     }))

# ------------------------------------------------------------------ INSERT ... VALUES

case("insert_values", DIALECTS,
     "INSERT INTO ref.currency (currency_code, currency_name, minor_units) VALUES ('EUR', 'Euro', 2), ('JPY', 'Yen', 0)",
     Expected("INSERT", [], ["ref.currency"], {
         "ref.currency.currency_code": ([], "expression"),
         "ref.currency.currency_name": ([], "expression"),
         "ref.currency.minor_units": ([], "expression"),
     }))

# ------------------------------------------------------------------ positional INSERT: mapped by position, not by name

case("insert_positional_columns", DIALECTS,
     "INSERT INTO dw.dim_currency (currency_code, currency_name, minor_units) "
     "SELECT s.code, s.name AS minor_units, s.decimals AS currency_name FROM stg.currency s",
     Expected("INSERT", ["stg.currency"], ["dw.dim_currency"], {
         "dw.dim_currency.currency_code": (["stg.currency.code"], "direct"),
         "dw.dim_currency.currency_name": (["stg.currency.name"], "direct"),
         "dw.dim_currency.minor_units": (["stg.currency.decimals"], "direct"),
     }))

case("insert_positional_from_catalog", DIALECTS,
     "INSERT INTO dw.dim_currency SELECT UPPER(code), name, decimals FROM stg.currency",
     Expected("INSERT", ["stg.currency"], ["dw.dim_currency"], {
         "dw.dim_currency.currency_code": (["stg.currency.code"], "expression"),
         "dw.dim_currency.currency_name": (["stg.currency.name"], "direct"),
         "dw.dim_currency.minor_units": (["stg.currency.decimals"], "direct"),
     }, catalog=BANK_CATALOG))

# ------------------------------------------------------------------ SELECT * : explicit without a catalog, expanded with one

case("star_without_catalog", DIALECTS,
     "INSERT INTO dw.dim_account SELECT * FROM stg.accounts",
     Expected("INSERT", ["stg.accounts"], ["dw.dim_account"], {"dw.dim_account.*": (["stg.accounts.*"], "direct")}))

case("star_expanded_from_catalog", DIALECTS,
     "INSERT INTO dw.dim_account SELECT * FROM stg.accounts",
     Expected("INSERT", ["stg.accounts"], ["dw.dim_account"], {
         f"dw.dim_account.{c}": ([f"stg.accounts.{c}"], "direct")
         for c in ("account_id", "iban", "customer_id", "branch_id", "currency_code", "open_date")
     }, catalog=BANK_CATALOG))

# ------------------------------------------------------------------ CREATE TABLE AS SELECT

case("ctas", others("tsql"),
     {**{d: "CREATE TABLE mart.customer_balance AS SELECT c.customer_id, c.segment, SUM(b.balance) AS total_balance "
            "FROM dw.dim_customer c JOIN dw.fact_balance b ON b.customer_id = c.customer_id GROUP BY c.customer_id, c.segment"
         for d in DIALECTS}},
     Expected("CREATE TABLE AS", ["dw.dim_customer", "dw.fact_balance"], ["mart.customer_balance"], {
         "mart.customer_balance.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "mart.customer_balance.segment": (["dw.dim_customer.segment"], "direct"),
         "mart.customer_balance.total_balance": (["dw.fact_balance.balance"], "aggregation"),
     }))

# ------------------------------------------------------------------ SELECT ... INTO (creates the table)

case("select_into_new_table", ("tsql", "postgres", "redshift"),
     "SELECT c.customer_id, c.segment, SUM(b.balance) AS total_balance INTO mart.customer_balance "
     "FROM dw.dim_customer c JOIN dw.fact_balance b ON b.customer_id = c.customer_id GROUP BY c.customer_id, c.segment",
     Expected("SELECT INTO", ["dw.dim_customer", "dw.fact_balance"], ["mart.customer_balance"], {
         "mart.customer_balance.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "mart.customer_balance.segment": (["dw.dim_customer.segment"], "direct"),
         "mart.customer_balance.total_balance": (["dw.fact_balance.balance"], "aggregation"),
     }))

# ------------------------------------------------------------------ CREATE [OR REPLACE] VIEW

_VIEW_BODY = ("rpt.v_open_accounts AS SELECT a.account_id, a.iban, UPPER(a.currency_code) AS currency_code "
              "FROM dw.dim_account a WHERE a.closed_date IS NULL")
case("create_view", DIALECTS,
     {**{d: f"CREATE OR REPLACE VIEW {_VIEW_BODY}" for d in DIALECTS},
      "tsql": f"CREATE OR ALTER VIEW {_VIEW_BODY}", "hive": f"CREATE VIEW IF NOT EXISTS {_VIEW_BODY}"},
     Expected("CREATE VIEW", ["dw.dim_account"], ["rpt.v_open_accounts"], {
         "rpt.v_open_accounts.account_id": (["dw.dim_account.account_id"], "direct"),
         "rpt.v_open_accounts.iban": (["dw.dim_account.iban"], "direct"),
         "rpt.v_open_accounts.currency_code": (["dw.dim_account.currency_code"], "expression"),
     }))

case("view_star_expanded_from_catalog", DIALECTS,
     "CREATE VIEW rpt.v_account AS SELECT a.*, c.currency_name FROM dw.dim_account a "
     "JOIN dw.dim_currency c ON c.currency_code = a.currency_code",
     Expected("CREATE VIEW", ["dw.dim_account", "dw.dim_currency"], ["rpt.v_account"], {
         **{f"rpt.v_account.{c}": ([f"dw.dim_account.{c}"], "direct")
            for c in ("account_id", "iban", "customer_id", "branch_id", "currency_code", "open_date")},
         "rpt.v_account.currency_name": (["dw.dim_currency.currency_name"], "direct"),
     }, catalog=BANK_CATALOG))

# ------------------------------------------------------------------ CREATE MATERIALIZED VIEW

case("materialized_view", ("snowflake", "bigquery", "postgres", "redshift", "oracle", "databricks"),
     "CREATE MATERIALIZED VIEW rpt.mv_branch_deposits AS SELECT br.branch_code, SUM(a.balance) AS total_deposits "
     "FROM dw.dim_account a JOIN dw.dim_branch br ON br.branch_id = a.branch_id GROUP BY br.branch_code",
     Expected("CREATE MATERIALIZED VIEW", ["dw.dim_account", "dw.dim_branch"], ["rpt.mv_branch_deposits"], {
         "rpt.mv_branch_deposits.branch_code": (["dw.dim_branch.branch_code"], "direct"),
         "rpt.mv_branch_deposits.total_deposits": (["dw.dim_account.balance"], "aggregation"),
     }))

# ------------------------------------------------------------------ INSERT OVERWRITE

case("insert_overwrite", ("spark", "databricks", "hive"),
     "INSERT OVERWRITE TABLE dw.fact_fx_position PARTITION (as_of_date = '2024-06-30') "
     "SELECT p.desk_id, p.currency_code, SUM(p.notional * r.rate) FROM stg.positions p "
     "JOIN stg.fx_rates r ON r.currency_code = p.currency_code GROUP BY p.desk_id, p.currency_code",
     Expected("INSERT OVERWRITE", ["stg.fx_rates", "stg.positions"], ["dw.fact_fx_position"], {
         "dw.fact_fx_position.desk_id": (["stg.positions.desk_id"], "direct"),
         "dw.fact_fx_position.currency_code": (["stg.positions.currency_code"], "direct"),
         "dw.fact_fx_position._col_2": (["stg.fx_rates.rate", "stg.positions.notional"], "aggregation"),
     }))

case("insert_overwrite_named_columns", ("spark", "databricks", "snowflake"),
     {"spark": "INSERT OVERWRITE TABLE dw.fact_fx_position (desk_id, exposure) SELECT p.desk_id, SUM(p.notional) FROM "
               "stg.positions p GROUP BY p.desk_id",
      "databricks": "INSERT OVERWRITE TABLE dw.fact_fx_position (desk_id, exposure) SELECT p.desk_id, SUM(p.notional) FROM "
                    "stg.positions p GROUP BY p.desk_id",
      "snowflake": "INSERT OVERWRITE INTO dw.fact_fx_position (desk_id, exposure) SELECT p.desk_id, SUM(p.notional) FROM "
                   "stg.positions p GROUP BY p.desk_id"},
     Expected("INSERT OVERWRITE", ["stg.positions"], ["dw.fact_fx_position"], {
         "dw.fact_fx_position.desk_id": (["stg.positions.desk_id"], "direct"),
         "dw.fact_fx_position.exposure": (["stg.positions.notional"], "aggregation"),
     }))

# ------------------------------------------------------------------ CTEs at depth, with a window on an aggregate

_CTES = ("WITH txn AS (SELECT t.account_id, t.amount FROM dw.fact_transaction t WHERE t.amount > 0), "
         "by_customer AS (SELECT a.customer_id, SUM(x.amount) AS total_amount FROM txn x "
         "JOIN dw.dim_account a ON a.account_id = x.account_id GROUP BY a.customer_id), "
         "ranked AS (SELECT b.customer_id, b.total_amount, RANK() OVER (ORDER BY b.total_amount DESC) AS customer_rank "
         "FROM by_customer b) ")
_CTE_SELECT = "SELECT r.customer_id, r.total_amount, r.customer_rank FROM ranked r WHERE r.customer_rank <= 100"
_CTE_INSERT = "INSERT INTO rpt.top_customers (customer_id, total_amount, customer_rank) "
case("cte_three_levels", DIALECTS,
     {**{d: _CTE_INSERT + _CTES + _CTE_SELECT for d in DIALECTS},
      **{d: _CTES + _CTE_INSERT + _CTE_SELECT for d in ("tsql", "spark", "databricks", "hive")}},
     Expected("INSERT", ["dw.dim_account", "dw.fact_transaction"], ["rpt.top_customers"], {
         "rpt.top_customers.customer_id": (["dw.dim_account.customer_id"], "direct"),
         "rpt.top_customers.total_amount": (["dw.fact_transaction.amount"], "aggregation"),
         "rpt.top_customers.customer_rank": (["dw.fact_transaction.amount"], "window"),
     }))

case("cte_nested_inside_cte", ("tsql", "snowflake", "postgres", "duckdb", "bigquery", "spark"),
     "CREATE VIEW rpt.v_exposure AS WITH outer_q AS (WITH inner_q AS (SELECT l.customer_id, l.outstanding FROM dw.fact_loan l) "
     "SELECT i.customer_id, SUM(i.outstanding) AS exposure FROM inner_q i GROUP BY i.customer_id) "
     "SELECT o.customer_id, o.exposure FROM outer_q o",
     Expected("CREATE VIEW", ["dw.fact_loan"], ["rpt.v_exposure"], {
         "rpt.v_exposure.customer_id": (["dw.fact_loan.customer_id"], "direct"),
         "rpt.v_exposure.exposure": (["dw.fact_loan.outstanding"], "aggregation"),
     }))

# ------------------------------------------------------------------ subqueries: derived table, scalar, IN

case("subqueries", DIALECTS,
     "INSERT INTO rpt.customer_exposure (customer_id, exposure, last_review) "
     "SELECT e.customer_id, e.exposure, (SELECT MAX(r.review_date) FROM risk.credit_review r WHERE r.customer_id = "
     "e.customer_id) FROM (SELECT l.customer_id, SUM(l.outstanding) AS exposure FROM dw.fact_loan l GROUP BY l.customer_id) e "
     "WHERE e.customer_id IN (SELECT c.customer_id FROM dw.dim_customer c WHERE c.is_active = 1)",
     Expected("INSERT", ["dw.dim_customer", "dw.fact_loan", "risk.credit_review"], ["rpt.customer_exposure"], {
         "rpt.customer_exposure.customer_id": (["dw.fact_loan.customer_id"], "direct"),
         "rpt.customer_exposure.exposure": (["dw.fact_loan.outstanding"], "aggregation"),
         "rpt.customer_exposure.last_review": (["risk.credit_review.review_date"], "aggregation"),
     }))

# ------------------------------------------------------------------ set operations

case("union_all", DIALECTS,
     "INSERT INTO dw.all_parties (party_id, party_name, party_type) "
     "SELECT c.customer_id, c.full_name, 'CUSTOMER' FROM dw.dim_customer c "
     "UNION ALL SELECT g.guarantor_id, g.guarantor_name, 'GUARANTOR' FROM dw.dim_guarantor g",
     Expected("INSERT", ["dw.dim_customer", "dw.dim_guarantor"], ["dw.all_parties"], {
         "dw.all_parties.party_id": (["dw.dim_customer.customer_id", "dw.dim_guarantor.guarantor_id"], "direct"),
         "dw.all_parties.party_name": (["dw.dim_customer.full_name", "dw.dim_guarantor.guarantor_name"], "direct"),
         "dw.all_parties.party_type": ([], "expression"),
     }))

case("except_intersect", others("mysql", "hive"),
     {**{d: "INSERT INTO risk.dormant_accounts (account_id) SELECT a.account_id FROM dw.dim_account a "
            "EXCEPT SELECT t.account_id FROM dw.fact_transaction t "
            "INTERSECT SELECT b.account_id FROM dw.fact_balance b" for d in DIALECTS},
      "oracle": "INSERT INTO risk.dormant_accounts (account_id) SELECT a.account_id FROM dw.dim_account a "
                "MINUS SELECT t.account_id FROM dw.fact_transaction t "
                "INTERSECT SELECT b.account_id FROM dw.fact_balance b",
      "bigquery": "INSERT INTO risk.dormant_accounts (account_id) SELECT a.account_id FROM dw.dim_account a "
                  "EXCEPT DISTINCT SELECT t.account_id FROM dw.fact_transaction t "
                  "INTERSECT DISTINCT SELECT b.account_id FROM dw.fact_balance b"},
     Expected("INSERT", ["dw.dim_account", "dw.fact_balance", "dw.fact_transaction"], ["risk.dormant_accounts"], {
         "risk.dormant_accounts.account_id": (
             ["dw.dim_account.account_id", "dw.fact_balance.account_id", "dw.fact_transaction.account_id"], "direct"),
     }))

# ------------------------------------------------------------------ window functions

case("window_functions", DIALECTS,
     "INSERT INTO rpt.balance_trend (account_id, balance_date, balance, prev_balance, balance_rank) "
     "SELECT b.account_id, b.balance_date, b.balance, "
     "LAG(b.balance) OVER (PARTITION BY b.account_id ORDER BY b.balance_date), "
     "DENSE_RANK() OVER (PARTITION BY b.branch_id ORDER BY b.balance DESC) "
     "FROM dw.fact_balance b",
     Expected("INSERT", ["dw.fact_balance"], ["rpt.balance_trend"], {
         "rpt.balance_trend.account_id": (["dw.fact_balance.account_id"], "direct"),
         "rpt.balance_trend.balance_date": (["dw.fact_balance.balance_date"], "direct"),
         "rpt.balance_trend.balance": (["dw.fact_balance.balance"], "direct"),
         "rpt.balance_trend.prev_balance": (
             ["dw.fact_balance.account_id", "dw.fact_balance.balance", "dw.fact_balance.balance_date"], "window"),
         "rpt.balance_trend.balance_rank": (["dw.fact_balance.balance", "dw.fact_balance.branch_id"], "window"),
     }))

case("window_aggregate_over_frame", others("hive"),
     "INSERT INTO rpt.rolling_turnover (account_id, avg_7d) "
     "SELECT t.account_id, AVG(t.amount) OVER (PARTITION BY t.account_id ORDER BY t.booking_date "
     "ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) FROM dw.fact_transaction t",
     Expected("INSERT", ["dw.fact_transaction"], ["rpt.rolling_turnover"], {
         "rpt.rolling_turnover.account_id": (["dw.fact_transaction.account_id"], "direct"),
         "rpt.rolling_turnover.avg_7d": (
             ["dw.fact_transaction.account_id", "dw.fact_transaction.amount", "dw.fact_transaction.booking_date"], "window"),
     }))

# ------------------------------------------------------------------ UPDATE: FROM / joins / correlated subqueries

_UPDATE_EXPECTED = Expected("UPDATE", ["risk.rating"], ["dw.dim_account"], {
    "dw.dim_account.risk_rating": (["risk.rating.rating"], "direct"),
    "dw.dim_account.rating_date": (["risk.rating.rated_on"], "direct"),
})
case("update_from_join", ("tsql", "snowflake", "postgres", "redshift", "duckdb", "bigquery", "mysql"),
     {"tsql": "UPDATE a SET a.risk_rating = r.rating, a.rating_date = r.rated_on "
              "FROM dw.dim_account a JOIN risk.rating r ON r.account_id = a.account_id",
      "snowflake": "UPDATE dw.dim_account a SET risk_rating = r.rating, rating_date = r.rated_on "
                   "FROM risk.rating r WHERE r.account_id = a.account_id",
      "postgres": "UPDATE dw.dim_account AS a SET risk_rating = r.rating, rating_date = r.rated_on "
                  "FROM risk.rating AS r WHERE r.account_id = a.account_id",
      "redshift": "UPDATE dw.dim_account SET risk_rating = r.rating, rating_date = r.rated_on "
                  "FROM risk.rating r WHERE r.account_id = dim_account.account_id",
      "duckdb": "UPDATE dw.dim_account SET risk_rating = r.rating, rating_date = r.rated_on "
                "FROM risk.rating AS r WHERE r.account_id = dim_account.account_id",
      "bigquery": "UPDATE dw.dim_account a SET risk_rating = r.rating, rating_date = r.rated_on "
                  "FROM risk.rating r WHERE r.account_id = a.account_id",
      "mysql": "UPDATE dw.dim_account a JOIN risk.rating r ON r.account_id = a.account_id "
               "SET a.risk_rating = r.rating, a.rating_date = r.rated_on"},
     _UPDATE_EXPECTED)

case("update_correlated_subquery", ("oracle", "tsql", "postgres", "snowflake", "mysql"),
     "UPDATE dw.dim_account SET risk_rating = (SELECT r.rating FROM risk.rating r WHERE r.account_id = dim_account.account_id), "
     "rating_date = (SELECT MAX(r2.rated_on) FROM risk.rating r2 WHERE r2.account_id = dim_account.account_id) "
     "WHERE EXISTS (SELECT 1 FROM risk.rating r3 WHERE r3.account_id = dim_account.account_id)",
     Expected("UPDATE", ["risk.rating"], ["dw.dim_account"], {
         "dw.dim_account.risk_rating": (["risk.rating.rating"], "direct"),
         "dw.dim_account.rating_date": (["risk.rating.rated_on"], "aggregation"),
     }))

case("update_where_in_subquery", ("spark", "databricks", "hive", "oracle", "bigquery"),
     "UPDATE dw.dim_account SET risk_flag = 'WATCHLIST', balance = balance * 1 "
     "WHERE account_id IN (SELECT w.account_id FROM risk.watchlist w)",
     Expected("UPDATE", ["dw.dim_account", "risk.watchlist"], ["dw.dim_account"], {
         "dw.dim_account.risk_flag": ([], "expression"),
         "dw.dim_account.balance": (["dw.dim_account.balance"], "expression"),
     }))

# ------------------------------------------------------------------ DELETE: USING / FROM joins (an effect, not lineage)

_DELETE_EXPECTED = Expected("DELETE", ["stg.rejected_batches"], [], effects=[Effect(kind="delete", table="stg.transactions")])
case("delete_join", DIALECTS,
     {**{d: "DELETE FROM stg.transactions WHERE batch_id IN (SELECT rb.batch_id FROM stg.rejected_batches rb)"
         for d in ("bigquery", "oracle", "spark", "databricks", "hive")},
      "tsql": "DELETE t FROM stg.transactions t JOIN stg.rejected_batches rb ON rb.batch_id = t.batch_id",
      "mysql": "DELETE t FROM stg.transactions t JOIN stg.rejected_batches rb ON rb.batch_id = t.batch_id",
      "postgres": "DELETE FROM stg.transactions t USING stg.rejected_batches rb WHERE rb.batch_id = t.batch_id",
      "redshift": "DELETE FROM stg.transactions USING stg.rejected_batches rb WHERE rb.batch_id = transactions.batch_id",
      "duckdb": "DELETE FROM stg.transactions USING stg.rejected_batches AS rb WHERE rb.batch_id = transactions.batch_id",
      "snowflake": "DELETE FROM stg.transactions t USING stg.rejected_batches rb WHERE rb.batch_id = t.batch_id"},
     _DELETE_EXPECTED)

# ------------------------------------------------------------------ MERGE at column level

_MERGE_EXPECTED = Expected("MERGE", ["stg.customers"], ["dw.dim_customer"], {
    "dw.dim_customer.customer_id": (["stg.customers.customer_id"], "direct"),
    "dw.dim_customer.full_name": (["stg.customers.first_name", "stg.customers.last_name"], "expression"),
    "dw.dim_customer.segment": (["stg.customers.segment"], "direct"),
})
_MERGE_QUALIFIED = ("MERGE INTO dw.dim_customer AS tgt USING stg.customers AS src ON tgt.customer_id = src.customer_id "
                    "WHEN MATCHED THEN UPDATE SET tgt.full_name = CONCAT(src.first_name, src.last_name), tgt.segment = "
                    "src.segment WHEN NOT MATCHED THEN INSERT (customer_id, full_name, segment) "
                    "VALUES (src.customer_id, src.first_name, src.segment)")
_MERGE_BARE_SET = _MERGE_QUALIFIED.replace("SET tgt.full_name", "SET full_name").replace(", tgt.segment", ", segment")
case("merge_update_insert",
     ("tsql", "snowflake", "bigquery", "postgres", "redshift", "databricks", "spark", "oracle", "duckdb", "hive"),
     {"tsql": _MERGE_QUALIFIED + ";",
      "snowflake": _MERGE_QUALIFIED,
      "databricks": _MERGE_QUALIFIED,
      "spark": _MERGE_QUALIFIED,
      "hive": _MERGE_BARE_SET.replace("AS tgt", "tgt").replace("AS src", "src"),
      "bigquery": _MERGE_BARE_SET,
      "postgres": _MERGE_BARE_SET,
      "redshift": _MERGE_BARE_SET,
      "duckdb": _MERGE_BARE_SET,
      "oracle": _MERGE_QUALIFIED.replace("AS tgt", "tgt").replace("AS src", "src")
                .replace("ON tgt.customer_id = src.customer_id", "ON (tgt.customer_id = src.customer_id)")},
     _MERGE_EXPECTED)

case("merge_using_aggregate_subquery", ("tsql", "snowflake", "bigquery", "oracle", "databricks", "postgres"),
     {**{d: "MERGE INTO dw.fact_customer_balance t USING (SELECT a.customer_id, SUM(b.balance) AS total_balance "
            "FROM dw.fact_balance b JOIN dw.dim_account a ON a.account_id = b.account_id GROUP BY a.customer_id) s "
            "ON (t.customer_id = s.customer_id) WHEN MATCHED THEN UPDATE SET total_balance = s.total_balance "
            "WHEN NOT MATCHED THEN INSERT (customer_id, total_balance) VALUES (s.customer_id, s.total_balance)"
         for d in DIALECTS}},
     Expected("MERGE", ["dw.dim_account", "dw.fact_balance"], ["dw.fact_customer_balance"], {
         "dw.fact_customer_balance.customer_id": (["dw.dim_account.customer_id"], "direct"),
         "dw.fact_customer_balance.total_balance": (["dw.fact_balance.balance"], "aggregation"),
     }))

case("merge_delete_branch", ("tsql", "snowflake", "databricks", "bigquery"),
     "MERGE INTO dw.dim_account AS tgt USING stg.account_closures AS src ON tgt.account_id = src.account_id "
     "WHEN MATCHED AND src.is_purged = 1 THEN DELETE "
     "WHEN MATCHED THEN UPDATE SET closed_date = src.closure_date",
     Expected("MERGE", ["stg.account_closures"], ["dw.dim_account"], {
         "dw.dim_account.closed_date": (["stg.account_closures.closure_date"], "direct"),
     }, effects=[Effect(kind="delete", table="dw.dim_account")]))

case("upsert_on_duplicate_key", "mysql",
     "INSERT INTO dw.dim_customer (customer_id, full_name, segment) "
     "SELECT s.customer_id, CONCAT(s.first_name, ' ', s.last_name), s.segment FROM stg.customers s "
     "ON DUPLICATE KEY UPDATE full_name = VALUES(full_name), segment = VALUES(segment)",
     Expected("INSERT", ["stg.customers"], ["dw.dim_customer"], {
         "dw.dim_customer.customer_id": (["stg.customers.customer_id"], "direct"),
         "dw.dim_customer.full_name": (["stg.customers.first_name", "stg.customers.last_name"], "expression"),
         "dw.dim_customer.segment": (["stg.customers.segment"], "direct"),
     }))

case("upsert_on_conflict", ("postgres", "duckdb"),
     "INSERT INTO dw.dim_customer (customer_id, full_name, segment) "
     "SELECT s.customer_id, s.first_name || ' ' || s.last_name, s.segment FROM stg.customers s "
     "ON CONFLICT (customer_id) DO UPDATE SET full_name = EXCLUDED.full_name, segment = EXCLUDED.segment",
     Expected("INSERT", ["stg.customers"], ["dw.dim_customer"], {
         "dw.dim_customer.customer_id": (["stg.customers.customer_id"], "direct"),
         "dw.dim_customer.full_name": (["stg.customers.first_name", "stg.customers.last_name"], "expression"),
         "dw.dim_customer.segment": (["stg.customers.segment"], "direct"),
     }))

# ------------------------------------------------------------------ CROSS/OUTER APPLY and LATERAL

_LATEST = Expected("INSERT", ["dw.dim_account", "dw.fact_balance"], ["rpt.account_latest"], {
    "rpt.account_latest.account_id": (["dw.dim_account.account_id"], "direct"),
    "rpt.account_latest.balance": (["dw.fact_balance.balance"], "direct"),
})
case("cross_apply", ("tsql", "oracle"),
     {"tsql": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
              "CROSS APPLY (SELECT TOP 1 b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
              "ORDER BY b.balance_date DESC) lb",
      "oracle": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
                "CROSS APPLY (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
                "ORDER BY b.balance_date DESC FETCH FIRST 1 ROWS ONLY) lb"},
     _LATEST)
case("outer_apply", ("tsql", "oracle"),
     {"tsql": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
              "OUTER APPLY (SELECT TOP 1 b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
              "ORDER BY b.balance_date DESC) lb",
      "oracle": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
                "OUTER APPLY (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
                "ORDER BY b.balance_date DESC FETCH FIRST 1 ROWS ONLY) lb"},
     _LATEST)
case("lateral_subquery", ("postgres", "snowflake", "mysql", "duckdb", "oracle"),
     {**{d: "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
            "CROSS JOIN LATERAL (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
            "ORDER BY b.balance_date DESC LIMIT 1) lb" for d in DIALECTS},
      "snowflake": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a, "
                   "LATERAL (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
                   "ORDER BY b.balance_date DESC LIMIT 1) lb",
      "mysql": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
               "JOIN LATERAL (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
               "ORDER BY b.balance_date DESC LIMIT 1) lb ON TRUE",
      "oracle": "INSERT INTO rpt.account_latest (account_id, balance) SELECT a.account_id, lb.balance FROM dw.dim_account a "
                "CROSS JOIN LATERAL (SELECT b.balance FROM dw.fact_balance b WHERE b.account_id = a.account_id "
                "ORDER BY b.balance_date DESC FETCH FIRST 1 ROWS ONLY) lb"},
     _LATEST)
case("lateral_view_explode", ("spark", "databricks", "hive"),
     "INSERT INTO dw.customer_phone (customer_id, phone) SELECT c.customer_id, p FROM dw.dim_customer c "
     "LATERAL VIEW explode(c.phone_numbers) ph AS p",
     Expected("INSERT", ["dw.dim_customer"], ["dw.customer_phone"], {
         "dw.customer_phone.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "dw.customer_phone.phone": (["dw.dim_customer.phone_numbers"], "expression"),
     }))
case("unnest_array", ("bigquery", "postgres", "duckdb"),
     {"bigquery": "INSERT INTO dw.customer_phone (customer_id, phone) SELECT c.customer_id, p FROM dw.dim_customer c, "
                  "UNNEST(c.phone_numbers) AS p",
      "postgres": "INSERT INTO dw.customer_phone (customer_id, phone) SELECT c.customer_id, p.phone FROM dw.dim_customer c "
                  "CROSS JOIN LATERAL UNNEST(c.phone_numbers) AS p(phone)",
      "duckdb": "INSERT INTO dw.customer_phone (customer_id, phone) SELECT c.customer_id, p.phone FROM dw.dim_customer c "
                "CROSS JOIN UNNEST(c.phone_numbers) AS p(phone)"},
     Expected("INSERT", ["dw.dim_customer"], ["dw.customer_phone"], {
         "dw.customer_phone.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "dw.customer_phone.phone": (["dw.dim_customer.phone_numbers"], "expression"),
     }))
case("lateral_flatten", "snowflake",
     "INSERT INTO dw.customer_phone (customer_id, phone) SELECT c.customer_id, f.value::STRING FROM dw.dim_customer c, "
     "LATERAL FLATTEN(input => c.phone_numbers) f",
     Expected("INSERT", ["dw.dim_customer"], ["dw.customer_phone"], {
         "dw.customer_phone.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "dw.customer_phone.phone": (["dw.dim_customer.phone_numbers"], "expression"),
     }))

# ------------------------------------------------------------------ temp tables: persistent source -> persistent target

_TEMP_EXPECTED = Expected("INSERT", ["dw.fact_transaction"], ["rpt.recent_activity"], {
    "rpt.recent_activity.account_id": (["dw.fact_transaction.account_id"], "direct"),
    "rpt.recent_activity.turnover": (["dw.fact_transaction.amount"], "aggregation"),
})
_TEMP_SELECT = "SELECT t.account_id, t.amount FROM dw.fact_transaction t WHERE t.booking_date >= DATE '2024-01-01'"
_TEMP_INSERT = (
    "INSERT INTO rpt.recent_activity (account_id, turnover) SELECT r.account_id, SUM(r.amount) FROM {} r GROUP BY r.account_id"
)
case("temp_table_hop", others("oracle"),
     {"tsql": "SELECT t.account_id, t.amount INTO #recent FROM dw.fact_transaction t WHERE t.booking_date >= '2024-01-01'\n"
              + _TEMP_INSERT.format("#recent"),
      **{d: f"CREATE TEMPORARY TABLE recent AS {_TEMP_SELECT};\n" + _TEMP_INSERT.format("recent")
         for d in ("postgres", "redshift", "mysql", "duckdb", "hive")},
      "snowflake": f"CREATE TEMPORARY TABLE recent AS {_TEMP_SELECT};\n" + _TEMP_INSERT.format("recent"),
      "bigquery": f"CREATE TEMP TABLE recent AS {_TEMP_SELECT};\n" + _TEMP_INSERT.format("recent"),
      **{d: f"CREATE TEMPORARY VIEW recent AS {_TEMP_SELECT};\n" + _TEMP_INSERT.format("recent")
         for d in ("spark", "databricks")}},
     _TEMP_EXPECTED)

case("table_variable_hop", "tsql",
     "DECLARE @recent TABLE (account_id INT, amount DECIMAL(19,4));\n"
     "INSERT INTO @recent (account_id, amount) SELECT t.account_id, t.amount FROM dw.fact_transaction t;\n"
     "INSERT INTO rpt.recent_activity (account_id, turnover) SELECT r.account_id, SUM(r.amount) FROM @recent r GROUP BY "
     "r.account_id;",
     Expected("INSERT", ["dw.fact_transaction"], ["rpt.recent_activity"], _TEMP_EXPECTED.columns, temp_tables=["@recent"]))

case("global_temp_hop", "tsql",
     "CREATE TABLE ##recent (account_id INT, amount DECIMAL(19,4))\n"
     "INSERT INTO ##recent SELECT t.account_id, t.amount FROM dw.fact_transaction t\n"
     "INSERT INTO rpt.recent_activity (account_id, turnover) SELECT r.account_id, SUM(r.amount) FROM ##recent r GROUP BY "
     "r.account_id",
     Expected("INSERT", ["dw.fact_transaction"], ["rpt.recent_activity"], _TEMP_EXPECTED.columns, temp_tables=["##recent"]))

# ------------------------------------------------------------------ effects: TRUNCATE / DROP / ALTER / RENAME

case("truncate", DIALECTS, "TRUNCATE TABLE stg.transactions",
     Expected("TRUNCATE", [], [], effects=[Effect(kind="truncate", table="stg.transactions")]))
case("drop_table", DIALECTS, "DROP TABLE IF EXISTS stg.transactions_old",
     Expected("DROP TABLE", [], [], effects=[Effect(kind="drop", table="stg.transactions_old", detail="table")]))
case("drop_view", DIALECTS, "DROP VIEW rpt.v_open_accounts",
     Expected("DROP VIEW", [], [], effects=[Effect(kind="drop", table="rpt.v_open_accounts", detail="view")]))
case("alter_rename", others("tsql"),
     {**{d: "ALTER TABLE dw.dim_branch RENAME TO dim_branch_old" for d in DIALECTS},
      "mysql": "ALTER TABLE dw.dim_branch RENAME TO dw.dim_branch_old",
      "hive": "ALTER TABLE dw.dim_branch RENAME TO dw.dim_branch_old",
      "spark": "ALTER TABLE dw.dim_branch RENAME TO dw.dim_branch_old",
      "databricks": "ALTER TABLE dw.dim_branch RENAME TO dw.dim_branch_old"},
     Expected("ALTER", [], [], effects=[Effect(kind="rename", table="dw.dim_branch", detail="dw.dim_branch_old")]))
case("sp_rename", "tsql", "EXEC sp_rename 'dw.dim_branch', 'dim_branch_old'",
     Expected("EXECUTE", [], [], effects=[Effect(kind="rename", table="dw.dim_branch", detail="dim_branch_old")]))
case("alter_add_column", DIALECTS,
     {**{d: "ALTER TABLE dw.dim_customer ADD COLUMN kyc_status VARCHAR(20)" for d in DIALECTS},
      "tsql": "ALTER TABLE dw.dim_customer ADD kyc_status VARCHAR(20)",
      "oracle": "ALTER TABLE dw.dim_customer ADD (kyc_status VARCHAR2(20))",
      "hive": "ALTER TABLE dw.dim_customer ADD COLUMNS (kyc_status STRING)",
      "spark": "ALTER TABLE dw.dim_customer ADD COLUMNS (kyc_status STRING)",
      "databricks": "ALTER TABLE dw.dim_customer ADD COLUMNS (kyc_status STRING)",
      "bigquery": "ALTER TABLE dw.dim_customer ADD COLUMN kyc_status STRING"},
     Expected("ALTER", [], [], effects=[Effect(kind="alter", table="dw.dim_customer", detail="columndef")]))

# ------------------------------------------------------------------ procedures: the body's statements, tagged with the routine

_PROC_INSERT = ("INSERT INTO dw.fact_fees (account_id, fee_month, fee_amount) "
                "SELECT t.account_id, t.booking_month, SUM(t.fee) FROM stg.fee_events t GROUP BY t.account_id, t.booking_month")
_PROC_EXPECTED = Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
    "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct"),
    "dw.fact_fees.fee_month": (["stg.fee_events.booking_month"], "direct"),
    "dw.fact_fees.fee_amount": (["stg.fee_events.fee"], "aggregation"),
}, procedure="etl.load_fees")
case("procedure_body", ("tsql", "snowflake", "postgres", "redshift", "oracle", "mysql", "bigquery"),
     {"tsql": "CREATE PROCEDURE etl.load_fees @month DATE AS\nBEGIN\n  SET NOCOUNT ON\n"
              "  BEGIN TRY\n    BEGIN TRANSACTION\n    TRUNCATE TABLE dw.fact_fees\n"
              f"    IF @month IS NOT NULL\n      {_PROC_INSERT}\n    COMMIT\n"
              "  END TRY\n  BEGIN CATCH\n    ROLLBACK\n    THROW\n  END CATCH\nEND\nGO",
      "snowflake": "CREATE OR REPLACE PROCEDURE etl.load_fees() RETURNS VARCHAR LANGUAGE SQL AS $$\nBEGIN\n"
                   f"  TRUNCATE TABLE dw.fact_fees;\n  {_PROC_INSERT};\n  RETURN 'ok';\nEND;\n$$;",
      "postgres": "CREATE OR REPLACE PROCEDURE etl.load_fees() LANGUAGE plpgsql AS $$\nBEGIN\n"
                  f"  TRUNCATE TABLE dw.fact_fees;\n  {_PROC_INSERT};\nEND;\n$$;",
      "redshift": "CREATE OR REPLACE PROCEDURE etl.load_fees() AS $$\nBEGIN\n"
                  f"  TRUNCATE TABLE dw.fact_fees;\n  {_PROC_INSERT};\nEND;\n$$ LANGUAGE plpgsql;",
      "oracle": "CREATE OR REPLACE PROCEDURE etl.load_fees AS\nBEGIN\n"
                f"  DELETE FROM dw.fact_fees;\n  {_PROC_INSERT};\n  COMMIT;\nEND;\n/",
      "mysql": "DELIMITER //\nCREATE PROCEDURE etl.load_fees()\nBEGIN\n"
               f"  DELETE FROM dw.fact_fees;\n  {_PROC_INSERT};\nEND //\nDELIMITER ;",
      "bigquery": "CREATE OR REPLACE PROCEDURE etl.load_fees()\nBEGIN\n"
                  f"  TRUNCATE TABLE dw.fact_fees;\n  {_PROC_INSERT};\nEND;"},
     _PROC_EXPECTED)

case("procedure_missing_semicolons_and_print", "tsql",
     "CREATE PROCEDURE etl.load_fees AS\nPRINT 'loading fees'\n"
     f"{_PROC_INSERT}\nPRINT 'done'\nGO",
     _PROC_EXPECTED)

case("function_body", ("tsql", "postgres", "snowflake", "bigquery", "oracle", "mysql"),
     {"tsql": "CREATE FUNCTION rpt.fn_open_accounts (@branch INT)\nRETURNS TABLE\nAS\n"
              "RETURN (SELECT a.account_id, a.iban FROM dw.dim_account a WHERE a.branch_id = @branch)\nGO",
      "postgres": "CREATE OR REPLACE FUNCTION rpt.fn_open_accounts(branch int) RETURNS TABLE (account_id int) "
                  "LANGUAGE sql AS $$ SELECT a.account_id FROM dw.dim_account a WHERE a.branch_id = branch $$;",
      "snowflake": "CREATE OR REPLACE FUNCTION rpt.fn_open_accounts(branch NUMBER) RETURNS TABLE (account_id NUMBER) "
                   "AS $$ SELECT a.account_id FROM dw.dim_account a WHERE a.branch_id = branch $$",
      "bigquery": "CREATE OR REPLACE TABLE FUNCTION rpt.fn_open_accounts(branch INT64) AS "
                  "SELECT a.account_id FROM dw.dim_account a WHERE a.branch_id = branch",
      "oracle": "CREATE OR REPLACE FUNCTION rpt.fn_open_accounts(p_branch NUMBER) RETURN NUMBER IS\n  n NUMBER;\nBEGIN\n"
                "  SELECT COUNT(*) INTO n FROM dw.dim_account a WHERE a.branch_id = p_branch;\n  RETURN n;\nEND;\n/",
      "mysql": "CREATE FUNCTION rpt.fn_open_accounts(p_branch INT) RETURNS INT READS SQL DATA\nBEGIN\n"
               "  DECLARE n INT DEFAULT 0;\n  SELECT COUNT(*) INTO n FROM dw.dim_account a WHERE a.branch_id = p_branch;\n"
               "  RETURN n;\nEND"},
     {**{d: Expected("SELECT", ["dw.dim_account"], [], procedure="rpt.fn_open_accounts") for d in DIALECTS},
      **{d: Expected("SELECT INTO VARIABLE", ["dw.dim_account"], [], procedure="rpt.fn_open_accounts")
         for d in ("oracle", "mysql")}})

case("select_into_variable_is_a_read", ("oracle", "mysql", "postgres", "snowflake"),
     {"oracle": "CREATE OR REPLACE PROCEDURE etl.check_fx AS\n  v_count NUMBER;\nBEGIN\n"
                "  SELECT COUNT(*) INTO v_count FROM stg.fx_rates;\n  v_count := v_count + 1;\n"
                "  DBMS_OUTPUT.PUT_LINE(v_count);\nEND;\n/",
      "mysql": "CREATE PROCEDURE etl.check_fx()\nBEGIN\n  DECLARE v_count INT DEFAULT 0;\n"
               "  SELECT COUNT(*) INTO v_count FROM stg.fx_rates;\n  SET v_count = v_count + 1;\nEND",
      "postgres": "DO $$\nDECLARE\n  v_count integer;\nBEGIN\n  SELECT count(*) INTO v_count FROM stg.fx_rates;\n"
                  "  GET DIAGNOSTICS v_count = ROW_COUNT;\n  RAISE NOTICE 'rows: %', v_count;\nEND\n$$;",
      "snowflake": "DECLARE\n  v_count INTEGER DEFAULT 0;\nBEGIN\n"
                   "  SELECT COUNT(*) INTO :v_count FROM stg.fx_rates;\n  LET v_double INTEGER := v_count * 2;\n"
                   "  RETURN v_double;\nEND;"},
     {"oracle": Expected("SELECT INTO VARIABLE", ["stg.fx_rates"], [], procedure="etl.check_fx"),
      "mysql": Expected("SELECT INTO VARIABLE", ["stg.fx_rates"], [], procedure="etl.check_fx"),
      "postgres": Expected("SELECT INTO VARIABLE", ["stg.fx_rates"], []),
      "snowflake": Expected("SELECT INTO VARIABLE", ["stg.fx_rates"], [])},
     )

case("cursor_query_is_a_read", ("mysql", "snowflake", "tsql", "postgres"),
     {"mysql": "CREATE PROCEDURE etl.walk_fx()\nBEGIN\n  DECLARE c CURSOR FOR SELECT r.currency_code FROM stg.fx_rates r;\n"
               "  OPEN c;\n  CLOSE c;\nEND",
      "snowflake": "CREATE OR REPLACE PROCEDURE etl.walk_fx() RETURNS VARCHAR LANGUAGE SQL AS $$\nBEGIN\n"
                   "  LET c CURSOR FOR SELECT r.currency_code FROM stg.fx_rates r;\n  OPEN c;\n  CLOSE c;\n"
                   "  RETURN 'ok';\nEND;\n$$",
      "tsql": "CREATE PROCEDURE etl.walk_fx AS\nBEGIN\n"
              "  DECLARE c CURSOR FAST_FORWARD FOR SELECT r.currency_code FROM stg.fx_rates r\n"
              "  OPEN c\n  CLOSE c\n  DEALLOCATE c\nEND",
      "postgres": "CREATE FUNCTION etl.walk_fx() RETURNS void LANGUAGE plpgsql AS $$\nDECLARE\n  r record;\nBEGIN\n"
                  "  FOR r IN SELECT f.currency_code FROM stg.fx_rates f LOOP\n    PERFORM etl.log(r.currency_code);\n"
                  "  END LOOP;\nEND;\n$$"},
     {"mysql": Expected("DECLARE", ["stg.fx_rates"], [], procedure="etl.walk_fx"),
      "snowflake": Expected("LET", ["stg.fx_rates"], [], procedure="etl.walk_fx"),
      "tsql": Expected("DECLARE", ["stg.fx_rates"], [], procedure="etl.walk_fx"),
      "postgres": Expected("SELECT", ["stg.fx_rates"], [], procedure="etl.walk_fx")})

case("tsql_trigger_inserted_rows", "tsql",
     "CREATE TRIGGER dw.trg_account_audit ON dw.dim_account AFTER UPDATE AS\nBEGIN\n  SET NOCOUNT ON\n"
     "  INSERT INTO audit.account_changes (account_id, old_iban, new_iban)\n"
     "  SELECT i.account_id, d.iban, i.iban FROM inserted i JOIN deleted d ON d.account_id = i.account_id\nEND\nGO",
     Expected("INSERT", ["dw.dim_account"], ["audit.account_changes"], {
         "audit.account_changes.account_id": (["dw.dim_account.account_id"], "direct"),
         "audit.account_changes.old_iban": (["dw.dim_account.iban"], "direct"),
         "audit.account_changes.new_iban": (["dw.dim_account.iban"], "direct"),
     }, procedure="dw.trg_account_audit"))

case("plsql_package_call", "oracle",
     "BEGIN\n  etl_pkg.load_fx(p_date => SYSDATE);\nEND;",
     Expected("CALL", [], []))

# ------------------------------------------------------------------ dynamic SQL and procedure calls are recorded, not dropped

case("dynamic_sql_opaque", ("tsql", "oracle", "snowflake", "bigquery"),
     {"tsql": "DECLARE @sql NVARCHAR(MAX) = N'INSERT INTO ' + @target + N' SELECT * FROM stg.fee_events'\n"
              "EXEC sp_executesql @sql",
      "oracle": "BEGIN\n  EXECUTE IMMEDIATE 'INSERT INTO ' || v_target || ' SELECT * FROM stg.fee_events';\nEND;",
      "snowflake": "EXECUTE IMMEDIATE 'INSERT INTO ' || :target || ' SELECT * FROM stg.fee_events'",
      "bigquery": "EXECUTE IMMEDIATE CONCAT('INSERT INTO ', target, ' SELECT * FROM stg.fee_events')"},
     Expected("DYNAMIC SQL", [], []))

case("dynamic_sql_literal_is_read", ("tsql", "oracle", "snowflake", "bigquery"),
     {"tsql": "EXEC ('INSERT INTO dw.fact_fees (account_id) SELECT account_id FROM stg.fee_events')",
      "oracle": "BEGIN\n  EXECUTE IMMEDIATE 'INSERT INTO dw.fact_fees (account_id) SELECT account_id FROM stg.fee_events';\nEND;",
      "snowflake": "EXECUTE IMMEDIATE 'INSERT INTO dw.fact_fees (account_id) SELECT account_id FROM stg.fee_events'",
      "bigquery": "EXECUTE IMMEDIATE 'INSERT INTO dw.fact_fees (account_id) SELECT account_id FROM stg.fee_events'"},
     Expected("DYNAMIC SQL", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct"),
     }))

# ------------------------------------------------------------------ names: quoting and case rules per dialect

_NAMED = Expected("INSERT", ["stg.accounts"], ["dw.dim_account"], {"dw.dim_account.iban": (["stg.accounts.iban"], "direct")})
case("quoted_names", DIALECTS,
     {"tsql": "INSERT INTO [DW].[Dim_Account] ([IBAN]) SELECT [s].[Iban] FROM [Stg].[Accounts] AS [s]",
      "snowflake": 'INSERT INTO "DW"."DIM_ACCOUNT" ("IBAN") SELECT s.IBAN FROM STG.ACCOUNTS s',
      "oracle": 'INSERT INTO "DW"."DIM_ACCOUNT" ("IBAN") SELECT s.IBAN FROM STG.ACCOUNTS s',
      "postgres": 'INSERT INTO "dw"."dim_account" ("iban") SELECT s.IBAN FROM Stg.Accounts s',
      "redshift": 'INSERT INTO "dw"."dim_account" ("iban") SELECT s.IBAN FROM Stg.Accounts s',
      "duckdb": 'INSERT INTO "dw"."dim_account" ("iban") SELECT s.IBAN FROM Stg.Accounts s',
      **{d: "INSERT INTO `DW`.`Dim_Account` (`IBAN`) SELECT s.`Iban` FROM `Stg`.`Accounts` s"
         for d in ("mysql", "spark", "databricks", "hive")},
      "bigquery": "INSERT INTO `dw.dim_account` (iban) SELECT s.iban FROM `stg`.`accounts` s"},
     _NAMED)

case("three_part_names", ("tsql", "snowflake", "bigquery", "databricks", "duckdb", "redshift", "postgres"),
     {**{d: "INSERT INTO bank.dw.dim_account (iban) SELECT s.iban FROM bank.stg.accounts s" for d in DIALECTS},
      "bigquery": "INSERT INTO `bank-prod.dw.dim_account` (iban) SELECT s.iban FROM `bank-prod.stg.accounts` s"},
     {d: Expected("INSERT", [f"{c}.stg.accounts"], [f"{c}.dw.dim_account"],
                  {f"{c}.dw.dim_account.iban": ([f"{c}.stg.accounts.iban"], "direct")})
      for d, c in ((d, "bank-prod" if d == "bigquery" else "bank") for d in DIALECTS)})


# ------------------------------------------------------------------ PIVOT / UNPIVOT

case("pivot", ("tsql", "snowflake", "oracle", "bigquery", "databricks", "spark", "duckdb"),
     "INSERT INTO rpt.turnover_by_channel (account_id, atm, pos) SELECT p.account_id, p.atm, p.pos "
     "FROM (SELECT t.account_id, t.channel, t.amount FROM dw.fact_transaction t) s "
     "PIVOT (SUM(amount) FOR channel IN ('ATM' AS atm, 'POS' AS pos)) p",
     Expected("INSERT", ["dw.fact_transaction"], ["rpt.turnover_by_channel"], {
         "rpt.turnover_by_channel.account_id": (["dw.fact_transaction.account_id"], "direct"),
         "rpt.turnover_by_channel.atm": (["dw.fact_transaction.amount", "dw.fact_transaction.channel"], "aggregation"),
         "rpt.turnover_by_channel.pos": (["dw.fact_transaction.amount", "dw.fact_transaction.channel"], "aggregation"),
     }))

case("unpivot", ("tsql", "snowflake", "oracle", "bigquery", "databricks", "spark", "duckdb"),
     "INSERT INTO rpt.balance_long (account_id, balance_type, amount) SELECT u.account_id, u.balance_type, u.amount "
     "FROM dw.fact_balance b UNPIVOT (amount FOR balance_type IN (ledger_balance, available_balance)) u",
     Expected("INSERT", ["dw.fact_balance"], ["rpt.balance_long"], {
         "rpt.balance_long.account_id": (["dw.fact_balance.account_id"], "direct"),
         "rpt.balance_long.balance_type": ([], "expression"),
         "rpt.balance_long.amount": (["dw.fact_balance.available_balance", "dw.fact_balance.ledger_balance"], "direct"),
     }))

# ------------------------------------------------------------------ lateral column aliases (where the dialect allows them)

case("lateral_column_alias", ("snowflake", "databricks", "spark", "duckdb", "redshift"),
     "INSERT INTO rpt.fx_turnover (account_id, amount_eur, amount_eur_k) "
     "SELECT t.account_id, t.amount * r.rate AS amount_eur, amount_eur / 1000 AS amount_eur_k "
     "FROM dw.fact_transaction t JOIN dw.fx_rate r ON r.currency_code = t.currency_code",
     Expected("INSERT", ["dw.fact_transaction", "dw.fx_rate"], ["rpt.fx_turnover"], {
         "rpt.fx_turnover.account_id": (["dw.fact_transaction.account_id"], "direct"),
         "rpt.fx_turnover.amount_eur": (["dw.fact_transaction.amount", "dw.fx_rate.rate"], "expression"),
         "rpt.fx_turnover.amount_eur_k": (["dw.fact_transaction.amount", "dw.fx_rate.rate"], "expression"),
     }))

# ------------------------------------------------------------------ the file's own DDL maps later positional INSERTs

case("ddl_then_positional_insert", DIALECTS,
     {**{d: "CREATE TABLE dw.fact_fee (account_id INT, fee_month DATE, fee_amount DECIMAL(19,4));\n"
            "INSERT INTO dw.fact_fee SELECT e.acct_no, e.booking_month, SUM(e.fee) FROM stg.fee_events e "
            "GROUP BY e.acct_no, e.booking_month;" for d in DIALECTS},
      "bigquery": "CREATE TABLE dw.fact_fee (account_id INT64, fee_month DATE, fee_amount NUMERIC);\n"
                  "INSERT INTO dw.fact_fee SELECT e.acct_no, e.booking_month, SUM(e.fee) FROM stg.fee_events e "
                  "GROUP BY e.acct_no, e.booking_month;"},
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fee"], {
         "dw.fact_fee.account_id": (["stg.fee_events.acct_no"], "direct"),
         "dw.fact_fee.fee_month": (["stg.fee_events.booking_month"], "direct"),
         "dw.fact_fee.fee_amount": (["stg.fee_events.fee"], "aggregation"),
     }))

# ------------------------------------------------------------------ grouping extensions, QUALIFY, recursive CTEs, semi joins

case("rollup", others("hive", "spark", "databricks"),
     {**{d: "INSERT INTO rpt.deposits_by_region (region, product_code, total_deposits) "
            "SELECT br.region, a.product_code, SUM(a.balance) FROM dw.dim_account a "
            "JOIN dw.dim_branch br ON br.branch_id = a.branch_id GROUP BY ROLLUP (br.region, a.product_code)"
         for d in DIALECTS},
      "mysql": "INSERT INTO rpt.deposits_by_region (region, product_code, total_deposits) "
               "SELECT br.region, a.product_code, SUM(a.balance) FROM dw.dim_account a "
               "JOIN dw.dim_branch br ON br.branch_id = a.branch_id GROUP BY br.region, a.product_code WITH ROLLUP"},
     Expected("INSERT", ["dw.dim_account", "dw.dim_branch"], ["rpt.deposits_by_region"], {
         "rpt.deposits_by_region.region": (["dw.dim_branch.region"], "direct"),
         "rpt.deposits_by_region.product_code": (["dw.dim_account.product_code"], "direct"),
         "rpt.deposits_by_region.total_deposits": (["dw.dim_account.balance"], "aggregation"),
     }))

case("qualify_latest_row", ("snowflake", "bigquery", "databricks", "duckdb"),
     "CREATE OR REPLACE TABLE dw.customer_latest AS SELECT c.customer_id, c.segment, c.valid_from "
     "FROM stg.customer_history c QUALIFY ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY c.valid_from DESC) = 1",
     Expected("CREATE TABLE AS", ["stg.customer_history"], ["dw.customer_latest"], {
         "dw.customer_latest.customer_id": (["stg.customer_history.customer_id"], "direct"),
         "dw.customer_latest.segment": (["stg.customer_history.segment"], "direct"),
         "dw.customer_latest.valid_from": (["stg.customer_history.valid_from"], "direct"),
     }))

case("recursive_cte", ("postgres", "snowflake", "duckdb", "mysql", "redshift", "tsql", "oracle", "bigquery", "databricks"),
     {**{d: "INSERT INTO dw.org_hierarchy (branch_id, parent_id, depth) WITH RECURSIVE h (branch_id, parent_id, depth) AS "
            "(SELECT b.branch_id, b.parent_id, 1 FROM dw.dim_branch b WHERE b.parent_id IS NULL UNION ALL "
            "SELECT c.branch_id, c.parent_id, h.depth + 1 FROM dw.dim_branch c JOIN h ON c.parent_id = h.branch_id) "
            "SELECT h.branch_id, h.parent_id, h.depth FROM h" for d in DIALECTS},
      **{d: "WITH h (branch_id, parent_id, depth) AS "
            "(SELECT b.branch_id, b.parent_id, 1 FROM dw.dim_branch b WHERE b.parent_id IS NULL UNION ALL "
            "SELECT c.branch_id, c.parent_id, h.depth + 1 FROM dw.dim_branch c JOIN h ON c.parent_id = h.branch_id) "
            "INSERT INTO dw.org_hierarchy (branch_id, parent_id, depth) SELECT h.branch_id, h.parent_id, h.depth FROM h"
         for d in ("tsql", "databricks")},
      "oracle": "INSERT INTO dw.org_hierarchy (branch_id, parent_id, depth) WITH h (branch_id, parent_id, depth) AS "
                "(SELECT b.branch_id, b.parent_id, 1 FROM dw.dim_branch b WHERE b.parent_id IS NULL UNION ALL "
                "SELECT c.branch_id, c.parent_id, h.depth + 1 FROM dw.dim_branch c JOIN h ON c.parent_id = h.branch_id) "
                "SELECT h.branch_id, h.parent_id, h.depth FROM h"},
     Expected("INSERT", ["dw.dim_branch"], ["dw.org_hierarchy"], {
         "dw.org_hierarchy.branch_id": (["dw.dim_branch.branch_id"], "direct"),
         "dw.org_hierarchy.parent_id": (["dw.dim_branch.parent_id"], "direct"),
         "dw.org_hierarchy.depth": ([], "expression"),
     }))

case("left_semi_join", ("hive", "spark", "databricks"),
     "INSERT INTO TABLE rpt.active_customers SELECT c.customer_id, c.segment FROM dw.dim_customer c "
     "LEFT SEMI JOIN dw.fact_transaction t ON t.customer_id = c.customer_id",
     Expected("INSERT", ["dw.dim_customer", "dw.fact_transaction"], ["rpt.active_customers"], {
         "rpt.active_customers.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "rpt.active_customers.segment": (["dw.dim_customer.segment"], "direct"),
     }))

case("scalar_subquery_is_direct", DIALECTS,
     "INSERT INTO rpt.customer_branch (customer_id, home_branch) SELECT c.customer_id, "
     "(SELECT b.branch_code FROM dw.dim_branch b WHERE b.branch_id = c.home_branch_id) FROM dw.dim_customer c",
     Expected("INSERT", ["dw.dim_branch", "dw.dim_customer"], ["rpt.customer_branch"], {
         "rpt.customer_branch.customer_id": (["dw.dim_customer.customer_id"], "direct"),
         "rpt.customer_branch.home_branch": (["dw.dim_branch.branch_code"], "direct"),
     }))

case("case_coalesce_across_join", DIALECTS,
     "INSERT INTO dw.dim_party (party_id, display_name) SELECT COALESCE(c.customer_id, p.prospect_id), "
     "CASE WHEN c.customer_id IS NOT NULL THEN c.full_name ELSE p.prospect_name END "
     "FROM stg.customers c FULL OUTER JOIN stg.prospects p ON p.email = c.email",
     Expected("INSERT", ["stg.customers", "stg.prospects"], ["dw.dim_party"], {
         "dw.dim_party.party_id": (["stg.customers.customer_id", "stg.prospects.prospect_id"], "expression"),
         "dw.dim_party.display_name": (
             ["stg.customers.customer_id", "stg.customers.full_name", "stg.prospects.prospect_name"], "expression"),
     }))

case("hive_multi_insert", ("hive", "spark", "databricks"),
     "FROM stg.transactions t JOIN stg.accounts a ON a.account_id = t.account_id\n"
     "INSERT OVERWRITE TABLE dw.fact_debits SELECT t.account_id, t.amount WHERE t.amount < 0\n"
     "INSERT INTO TABLE dw.fact_credits SELECT a.iban, SUM(t.amount) AS credits WHERE t.amount > 0 GROUP BY a.iban",
     Expected("INSERT OVERWRITE", ["stg.accounts", "stg.transactions"], ["dw.fact_debits", "dw.fact_credits"], {
         "dw.fact_debits.account_id": (["stg.transactions.account_id"], "direct"),
         "dw.fact_debits.amount": (["stg.transactions.amount"], "direct"),
         "dw.fact_credits.iban": (["stg.accounts.iban"], "direct"),
         "dw.fact_credits.credits": (["stg.transactions.amount"], "aggregation"),
     }))

case("oracle_insert_all", ("oracle", "snowflake"),
     "INSERT ALL INTO dw.fact_debits (account_id, amount) VALUES (account_id, amount) "
     "INTO dw.fact_audit (account_id, seen_at) VALUES (account_id, booked_at) "
     "SELECT t.account_id, t.amount, t.booked_at FROM stg.transactions t",
     Expected("INSERT ALL", ["stg.transactions"], ["dw.fact_debits", "dw.fact_audit"], {
         "dw.fact_debits.account_id": (["stg.transactions.account_id"], "direct"),
         "dw.fact_debits.amount": (["stg.transactions.amount"], "direct"),
         "dw.fact_audit.account_id": (["stg.transactions.account_id"], "direct"),
         "dw.fact_audit.seen_at": (["stg.transactions.booked_at"], "direct"),
     }))

case("oracle_connect_by", "oracle",
     "INSERT /*+ APPEND */ INTO dw.branch_tree (branch_id, parent_id, depth) SELECT b.branch_id, b.parent_id, LEVEL "
     "FROM dw.dim_branch b START WITH b.parent_id IS NULL CONNECT BY PRIOR b.branch_id = b.parent_id",
     Expected("INSERT", ["dw.dim_branch"], ["dw.branch_tree"], {
         "dw.branch_tree.branch_id": (["dw.dim_branch.branch_id"], "direct"),
         "dw.branch_tree.parent_id": (["dw.dim_branch.parent_id"], "direct"),
         "dw.branch_tree.depth": ([], "expression"),
     }))

case("oracle_merge_delete_where", "oracle",
     "MERGE INTO dw.dim_account tgt USING stg.accounts src ON (tgt.account_id = src.account_id) "
     "WHEN MATCHED THEN UPDATE SET tgt.iban = src.iban DELETE WHERE src.status = 'CLOSED' "
     "WHEN NOT MATCHED THEN INSERT (account_id, iban) VALUES (src.account_id, src.iban)",
     Expected("MERGE", ["stg.accounts"], ["dw.dim_account"], {
         "dw.dim_account.iban": (["stg.accounts.iban"], "direct"),
         "dw.dim_account.account_id": (["stg.accounts.account_id"], "direct"),
     }, effects=[Effect(kind="delete", table="dw.dim_account")]))

case("databricks_replace_where", "databricks",
     "INSERT INTO bank.dw.fact_balance REPLACE WHERE balance_date >= '2024-06-01' "
     "SELECT b.account_id, b.balance_date, b.balance FROM bank.stg.balances b",
     Expected("INSERT", ["bank.stg.balances"], ["bank.dw.fact_balance"], {
         "bank.dw.fact_balance.account_id": (["bank.stg.balances.account_id"], "direct"),
         "bank.dw.fact_balance.balance_date": (["bank.stg.balances.balance_date"], "direct"),
         "bank.dw.fact_balance.balance": (["bank.stg.balances.balance"], "direct"),
     }))

case("struct_field_access", ("bigquery", "databricks", "spark"),
     "INSERT INTO dw.customer_address (customer_id, city) SELECT c.customer_id, c.address.city FROM stg.customers c",
     Expected("INSERT", ["stg.customers"], ["dw.customer_address"], {
         "dw.customer_address.customer_id": (["stg.customers.customer_id"], "direct"),
         "dw.customer_address.city": (["stg.customers.address"], "expression"),
     }))

# ------------------------------------------------------------- T-SQL scripts: GO batches, no semicolons, temps across batches

case("tsql_print_does_not_swallow_insert", "tsql",
     "PRINT 'start'\nINSERT INTO dw.fact_fees (account_id) SELECT e.account_id FROM stg.fee_events e\nPRINT 'end'",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}))

case("tsql_go_batches_temp_survives", "tsql",
     "IF OBJECT_ID('tempdb..#fees') IS NOT NULL DROP TABLE #fees\nGO\n"
     "SELECT e.account_id, e.fee INTO #fees FROM stg.fee_events e\nGO\n"
     "INSERT INTO dw.fact_fees (account_id, fee_amount) SELECT f.account_id, f.fee FROM #fees f\nGO",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct"),
         "dw.fact_fees.fee_amount": (["stg.fee_events.fee"], "direct"),
     }, temp_tables=["#fees"]))

case("tsql_set_options_without_semicolons", "tsql",
     "SET NOCOUNT ON\nSET XACT_ABORT ON\nUPDATE dw.dim_account SET risk_rating = 'LOW' WHERE risk_rating IS NULL\n"
     "SET ANSI_WARNINGS OFF\nINSERT INTO dw.fact_fees (account_id) SELECT e.account_id FROM stg.fee_events e",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}))

case("tsql_update_after_set_option", "tsql",
     "SET NOCOUNT ON\nUPDATE dw.dim_account SET risk_rating = 'LOW' WHERE risk_rating IS NULL",
     Expected("UPDATE", [], ["dw.dim_account"], {"dw.dim_account.risk_rating": ([], "expression")}))

case("tsql_while_loop_body", "tsql",
     "DECLARE @d DATE = '2024-01-01'\nWHILE @d < '2024-02-01'\nBEGIN\n"
     "  INSERT INTO dw.fact_balance_daily (account_id, balance_date, balance) "
     "SELECT b.account_id, @d, b.balance FROM stg.balances b WHERE b.as_of = @d\n"
     "  SET @d = DATEADD(DAY, 1, @d)\nEND",
     Expected("INSERT", ["stg.balances"], ["dw.fact_balance_daily"], {
         "dw.fact_balance_daily.account_id": (["stg.balances.account_id"], "direct"),
         "dw.fact_balance_daily.balance_date": ([], "expression"),
         "dw.fact_balance_daily.balance": (["stg.balances.balance"], "direct"),
     }))

case("tsql_if_else_branches", "tsql",
     "IF EXISTS (SELECT 1 FROM stg.fee_events)\nBEGIN\n  DELETE FROM dw.fact_fees WHERE fee_month = '2024-06-01'\n"
     "  INSERT INTO dw.fact_fees (account_id) SELECT account_id FROM stg.fee_events\nEND\nELSE\n"
     "  RAISERROR('no fees', 16, 1)",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}))


def _check(dialect: str, sql: str, expected: Expected) -> None:
    result = parse_sql(sql, dialect, "<spec>", expected.catalog)
    assert result.errors == [], result.errors
    of_kind = [s for s in result.statements if s.kind == expected.kind]
    assert of_kind, [s.kind for s in result.statements]
    statement = of_kind[-1]
    assert (statement.sources, statement.targets) == (expected.sources, expected.targets)
    assert {e.target: (e.sources, e.transform) for e in statement.columns} == {
        target: (sorted(sources), transform) for target, (sources, transform) in expected.columns.items()
    }
    assert statement.effects == expected.effects
    assert statement.procedure == expected.procedure
    if expected.temp_tables is not None:
        assert statement.temp_tables == expected.temp_tables


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_spec(dialect, sql, expected):
    _check(dialect, sql, expected)


def test_every_dialect_covers_the_core_constructs():
    core = {"select_join_filter", "insert_select_aggregate", "insert_values", "insert_positional_columns",
            "star_without_catalog", "star_expanded_from_catalog", "create_view", "cte_three_levels", "subqueries",
            "union_all", "window_functions", "delete_join", "truncate", "drop_table", "quoted_names"}
    for dialect in DIALECTS:
        assert core <= {c[0] for c in CASES if c[1] == dialect}, dialect
    assert len(CASES) >= 200
