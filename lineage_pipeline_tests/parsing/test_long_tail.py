"""Spec for the long tail of statement kinds and dialect features (issue 20): utility statements carry no
lineage, statements that move data are lineage, dialect features parse, and nothing is lost silently.

Lineage cases use the spec-matrix format: the file's last statement of the expected kind is checked for
exact sources, targets, column edges and effects, and the file must parse without errors.
"""

import pytest

from lineage_pipeline.parsing import Catalog, Effect, parse_sql
from lineage_pipeline_tests.parsing.test_spec_matrix import Expected, _check

CASES: list[tuple[str, str, str, Expected]] = []


def case(construct: str, dialects, sql, expected) -> None:
    for dialect in (dialects,) if isinstance(dialects, str) else dialects:
        text = sql[dialect] if isinstance(sql, dict) else sql
        CASES.append((construct, dialect, text, expected[dialect] if isinstance(expected, dict) else expected))


# ------------------------------------------------------------------ utility statements: no sources, no targets

UTILITY: list[tuple[str, str, str]] = [
    ("use", "tsql", "USE WideWorldImporters"),
    ("use", "snowflake", "USE SCHEMA dw"),
    ("use", "databricks", "USE dw"),
    ("use", "mysql", "USE dw"),
    ("set_session", "tsql", "SET NOCOUNT ON"),
    ("set_session", "tsql", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
    ("set_session", "postgres", "SET search_path TO dw"),
    ("set_session", "snowflake", "ALTER SESSION SET TIMEZONE = 'UTC'"),
    ("set_session", "mysql", "SET SESSION sql_mode = 'ANSI'"),
    ("set_session", "spark", "SET spark.sql.shuffle.partitions = 10"),
    ("show", "snowflake", "SHOW TABLES IN SCHEMA dw"),
    ("show", "spark", "SHOW TABLES IN dw"),
    ("show", "mysql", "SHOW COLUMNS FROM dw.acct"),
    ("show", "databricks", "SHOW CREATE TABLE dw.acct"),
    ("show", "hive", "SHOW PARTITIONS dw.acct"),
    ("describe", "snowflake", "DESCRIBE TABLE dw.acct"),
    ("describe", "spark", "DESCRIBE FUNCTION dw.f"),
    ("describe", "mysql", "DESC dw.acct"),
    ("describe", "databricks", "DESCRIBE EXTENDED dw.acct"),
    ("describe", "hive", "DESCRIBE FORMATTED dw.acct"),
    ("describe", "duckdb", "DESCRIBE dw.acct"),
    ("explain", "postgres", "EXPLAIN SELECT * FROM dw.acct"),
    ("explain", "postgres", "EXPLAIN ANALYZE INSERT INTO dw.t SELECT * FROM dw.acct"),
    ("explain", "mysql", "EXPLAIN SELECT a FROM dw.acct"),
    ("explain", "snowflake", "EXPLAIN USING TEXT SELECT a FROM dw.acct"),
    ("explain", "spark", "EXPLAIN EXTENDED SELECT a FROM dw.acct"),
    ("explain", "duckdb", "EXPLAIN SELECT a FROM dw.acct"),
    ("analyze", "postgres", "ANALYZE dw.acct"),
    ("analyze", "redshift", "ANALYZE dw.acct"),
    ("analyze", "databricks", "ANALYZE TABLE dw.acct COMPUTE STATISTICS"),
    ("analyze", "tsql", "UPDATE STATISTICS dw.acct"),
    ("refresh", "spark", "REFRESH TABLE dw.acct"),
    ("refresh", "databricks", "REFRESH TABLE dw.acct"),
    ("cache", "spark", "CACHE TABLE dw.acct"),
    ("cache", "databricks", "CACHE LAZY TABLE dw.acct"),
    ("uncache", "spark", "UNCACHE TABLE dw.acct"),
    ("grant", "postgres", "GRANT SELECT ON dw.acct TO analyst"),
    ("grant", "snowflake", "GRANT SELECT ON TABLE dw.acct TO ROLE analyst"),
    ("grant", "tsql", "GRANT SELECT ON dw.acct TO analyst"),
    ("grant", "bigquery", "GRANT `roles/bigquery.dataViewer` ON TABLE d.t TO 'user:x@y.com'"),
    ("grant", "mysql", "GRANT SELECT ON dw.* TO 'u'@'%'"),
    ("revoke", "snowflake", "REVOKE SELECT ON TABLE dw.acct FROM ROLE analyst"),
    ("revoke", "tsql", "REVOKE SELECT ON dw.acct FROM analyst"),
    ("deny", "tsql", "DENY SELECT ON dw.acct TO analyst"),
    ("comment", "postgres", "COMMENT ON TABLE dw.acct IS 'accounts'"),
    ("comment", "snowflake", "COMMENT ON COLUMN dw.acct.iban IS 'IBAN'"),
    ("comment", "oracle", "COMMENT ON TABLE dw.acct IS 'accounts'"),
    ("comment", "redshift", "COMMENT ON COLUMN dw.acct.iban IS 'IBAN'"),
    ("maintenance", "postgres", "VACUUM dw.acct"),
    ("maintenance", "databricks", "OPTIMIZE dw.acct ZORDER BY (a)"),
    ("maintenance", "hive", "MSCK REPAIR TABLE dw.acct"),
    ("maintenance", "redshift", "VACUUM DELETE ONLY dw.acct"),
    ("maintenance", "teradata", "COLLECT STATISTICS ON dw.acct COLUMN (iban)"),
    ("extension", "postgres", "CREATE EXTENSION IF NOT EXISTS pgcrypto"),
    ("system", "clickhouse", "SYSTEM RELOAD DICTIONARY dw.fx"),
    ("maintenance", "clickhouse", "OPTIMIZE TABLE dw.acct FINAL"),
    ("governance", "snowflake", "ALTER TABLE dw.acct MODIFY COLUMN iban SET MASKING POLICY gov.mask_iban"),
    ("partitioning", "tsql", "CREATE PARTITION FUNCTION pf_date (date) AS RANGE RIGHT FOR VALUES ('2024-01-01', '2025-01-01')"),
    ("partitioning", "tsql", "CREATE PARTITION SCHEME ps_date AS PARTITION pf_date ALL TO ([PRIMARY])"),
    ("throw", "tsql", "THROW 50000, 'no fees', 1"),
    ("waitfor", "tsql", "WAITFOR DELAY '00:00:01'"),
    ("alter_constraints", "tsql", "ALTER TABLE dw.acct NOCHECK CONSTRAINT ALL"),
    ("table_type", "tsql", "CREATE TYPE dw.AccountList AS TABLE (account_id INT PRIMARY KEY)"),
    ("synonym", "tsql", "CREATE SYNONYM dw.accounts FOR bank.dw.acct"),
    ("external_data_source", "tsql", "CREATE EXTERNAL DATA SOURCE blob WITH (TYPE = HADOOP, LOCATION = 'wasbs://x')"),
    ("dbcc", "tsql", "DBCC CHECKIDENT ('dw.acct', RESEED, 0)"),
]


@pytest.mark.parametrize(("dialect", "sql"), [u[1:] for u in UTILITY], ids=[f"{u[0]}-{u[1]}" for u in UTILITY])
def test_utility_statements_carry_no_lineage(dialect, sql):
    result = parse_sql(sql, dialect)
    assert (result.errors, result.warnings) == ([], [])
    assert result.statements
    assert [(s.sources, s.targets, s.columns) for s in result.statements] == [([], [], [])] * len(result.statements)


def test_opaque_command_is_not_mined_for_names_and_says_so():
    result = parse_sql("CREATE RULE r AS ON INSERT TO dw.acct DO INSTEAD NOTHING", "postgres")
    [statement] = result.statements
    assert (statement.sources, statement.targets) == ([], [])
    assert [w.message for w in result.warnings] == ["CREATE kept as an opaque command (no sqlglot parser); no lineage read"]


# ------------------------------------------------------------------ statements that move data

case("insert_values_scalar_subquery", ("tsql", "postgres", "snowflake", "mysql", "oracle"),
     "INSERT INTO dw.fx_snapshot (max_rate, source) VALUES ((SELECT MAX(r.rate) FROM stg.fx_rates r), 'ECB')",
     Expected("INSERT", ["stg.fx_rates"], ["dw.fx_snapshot"], {
         "dw.fx_snapshot.max_rate": (["stg.fx_rates.rate"], "aggregation"),
         "dw.fx_snapshot.source": ([], "expression"),
     }))

case("select_into_over_set_operation", ("tsql", "postgres", "redshift"),
     {d: f"SELECT a.account_id INTO dw.flagged FROM stg.overdrawn a {op} SELECT b.account_id FROM stg.blocked b"
      for d, op in (("tsql", "UNION"), ("postgres", "INTERSECT"), ("redshift", "UNION"))},
     Expected("SELECT INTO", ["stg.blocked", "stg.overdrawn"], ["dw.flagged"], {
         "dw.flagged.account_id": (["stg.blocked.account_id", "stg.overdrawn.account_id"], "direct")}))

case("update_compound_assignment_alias_target", ("tsql", "fabric"),
     "UPDATE b SET b.balance += t.amount, b.txn_count += 1, b.fees -= t.fee, b.rate *= 1 "
     "FROM dw.fact_balance b JOIN stg.transactions t ON t.account_id = b.account_id",
     Expected("UPDATE", ["dw.fact_balance", "stg.transactions"], ["dw.fact_balance"], {
         "dw.fact_balance.balance": (["dw.fact_balance.balance", "stg.transactions.amount"], "expression"),
         "dw.fact_balance.txn_count": (["dw.fact_balance.txn_count"], "expression"),
         "dw.fact_balance.fees": (["dw.fact_balance.fees", "stg.transactions.fee"], "expression"),
         "dw.fact_balance.rate": (["dw.fact_balance.rate"], "expression"),
     }))

case("unload_query", "redshift",
     "UNLOAD ('SELECT a.account_id, a.iban FROM dw.dim_account a WHERE a.status = ''OPEN''') "
     "TO 's3://bank-exports/accounts_' IAM_ROLE 'arn:aws:iam::1:role/unload' PARQUET",
     Expected("UNLOAD", ["dw.dim_account"], []))

case("copy_query_to_file", ("postgres", "duckdb"),
     "COPY (SELECT a.account_id, a.iban FROM dw.dim_account a) TO '/exports/accounts.csv'",
     Expected("COPY", ["dw.dim_account"], []))

case("copy_into_stage_from_query", "snowflake",
     "COPY INTO @exports/accounts FROM (SELECT a.account_id, a.iban FROM dw.dim_account a)",
     Expected("COPY", ["dw.dim_account"], []))

case("copy_into_table_from_stage_query", "snowflake",
     "COPY INTO stg.accounts FROM (SELECT $1, $2 FROM @landing/accounts)",
     Expected("COPY", [], ["stg.accounts"]))

case("swap_with", "snowflake", "ALTER TABLE dw.dim_account SWAP WITH dw.dim_account_new",
     Expected("ALTER", ["dw.dim_account", "dw.dim_account_new"], ["dw.dim_account", "dw.dim_account_new"], {
         "dw.dim_account.*": (["dw.dim_account_new.*"], "direct"),
         "dw.dim_account_new.*": (["dw.dim_account.*"], "direct"),
     }, effects=[Effect(kind="alter", table="dw.dim_account", detail="swaptable")]))

case("swap_with_known_columns", "snowflake", "ALTER TABLE dw.dim_currency SWAP WITH stg.currency_next",
     Expected("ALTER", ["dw.dim_currency", "stg.currency_next"], ["dw.dim_currency", "stg.currency_next"], {
         **{f"dw.dim_currency.{c}": ([f"stg.currency_next.{c}"], "direct") for c in ("currency_code", "currency_name",
                                                                                     "minor_units")},
         **{f"stg.currency_next.{c}": ([f"dw.dim_currency.{c}"], "direct") for c in ("currency_code", "currency_name",
                                                                                     "minor_units")},
     }, effects=[Effect(kind="alter", table="dw.dim_currency", detail="swaptable")],
         catalog=Catalog({"dw.dim_currency": ["currency_code", "currency_name", "minor_units"]})))

case("exchange_partition", ("hive", "spark", "databricks", "oracle"),
     {"hive": "ALTER TABLE dw.fact_txn EXCHANGE PARTITION (ds='2024-06-30') WITH TABLE stg.fact_txn_day",
      "spark": "ALTER TABLE dw.fact_txn EXCHANGE PARTITION (ds='2024-06-30') WITH TABLE stg.fact_txn_day",
      "databricks": "ALTER TABLE dw.fact_txn EXCHANGE PARTITION (ds='2024-06-30') WITH TABLE stg.fact_txn_day",
      "oracle": "ALTER TABLE dw.fact_txn EXCHANGE PARTITION p202406 WITH TABLE stg.fact_txn_day"},
     Expected("ALTER", ["stg.fact_txn_day"], ["dw.fact_txn"], {"dw.fact_txn.*": (["stg.fact_txn_day.*"], "direct")},
              effects=[Effect(kind="alter", table="dw.fact_txn", detail="exchange_partition")]))

case("switch_partition", ("tsql", "fabric"),
     "ALTER TABLE stg.fact_txn_day SWITCH TO dw.fact_txn PARTITION 42",
     Expected("ALTER", ["stg.fact_txn_day"], ["dw.fact_txn"], {"dw.fact_txn.*": (["stg.fact_txn_day.*"], "direct")},
              effects=[Effect(kind="alter", table="stg.fact_txn_day", detail="switch_partition")]))

case("clickhouse_materialized_view_to", "clickhouse",
     "CREATE MATERIALIZED VIEW dw.mv_daily_turnover TO dw.daily_turnover (account_id UInt64, turnover Decimal(18, 2)) AS "
     "SELECT t.account_id, sum(t.amount) AS turnover FROM stg.transactions t GROUP BY t.account_id",
     Expected("CREATE MATERIALIZED VIEW", ["stg.transactions"], ["dw.daily_turnover"], {
         "dw.daily_turnover.account_id": (["stg.transactions.account_id"], "direct"),
         "dw.daily_turnover.turnover": (["stg.transactions.amount"], "aggregation"),
     }))

case("clickhouse_mutations", "clickhouse",
     "ALTER TABLE dw.dim_account DELETE WHERE status = 'PURGED';\n"
     "ALTER TABLE dw.dim_account UPDATE risk_rating = upper(risk_rating) WHERE risk_rating != '';",
     Expected("UPDATE", ["dw.dim_account"], ["dw.dim_account"], {
         "dw.dim_account.risk_rating": (["dw.dim_account.risk_rating"], "expression")}))

case("write_follows_rename", ("postgres", "snowflake", "redshift"),
     "CREATE TABLE dw.dim_branch_new AS SELECT b.branch_id, b.name FROM stg.branches b;\n"
     "ALTER TABLE dw.dim_branch RENAME TO dim_branch_old;\n"
     "ALTER TABLE dw.dim_branch_new RENAME TO dim_branch;",
     Expected("CREATE TABLE AS", ["stg.branches"], ["dw.dim_branch"], {
         "dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct"),
         "dw.dim_branch.name": (["stg.branches.name"], "direct"),
     }))

case("write_follows_sp_rename", "tsql",
     "SELECT b.branch_id, b.name INTO dw.dim_branch_new FROM stg.branches b\n"
     "EXEC sp_rename 'dw.dim_branch_new', 'dim_branch'",
     Expected("SELECT INTO", ["stg.branches"], ["dw.dim_branch"], {
         "dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct"),
         "dw.dim_branch.name": (["stg.branches.name"], "direct"),
     }))

case("load_data_into_table", ("hive", "spark", "bigquery", "mysql"),
     {"hive": "LOAD DATA INPATH '/landing/fees' OVERWRITE INTO TABLE stg.fee_events PARTITION (ds='2024-06-30')",
      "spark": "LOAD DATA INPATH '/landing/fees' INTO TABLE stg.fee_events",
      "bigquery": "LOAD DATA INTO stg.fee_events FROM FILES (format = 'CSV', uris = ['gs://landing/fees*.csv'])",
      "mysql": "LOAD DATA LOCAL INFILE '/landing/fees.csv' INTO TABLE stg.fee_events FIELDS TERMINATED BY ','"},
     Expected("LOAD DATA", [], ["stg.fee_events"]))

case("redshift_append_from", "redshift", "ALTER TABLE dw.fact_txn APPEND FROM stg.fact_txn_day",
     Expected("ALTER", ["stg.fact_txn_day"], ["dw.fact_txn"], {"dw.fact_txn.*": (["stg.fact_txn_day.*"], "direct")},
              effects=[Effect(kind="alter", table="dw.fact_txn", detail="append")]))

case("mysql_replace_into", "mysql",
     "REPLACE INTO dw.dim_branch (branch_id, name) SELECT b.branch_id, b.name FROM stg.branches b",
     Expected("REPLACE", ["stg.branches"], ["dw.dim_branch"], {
         "dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct"),
         "dw.dim_branch.name": (["stg.branches.name"], "direct"),
     }))

case("databricks_streaming_table", "databricks",
     "CREATE OR REFRESH STREAMING TABLE dw.fee_events AS SELECT r.account_id, r.fee FROM STREAM(stg.raw_fees) AS r",
     Expected("CREATE TABLE AS", ["stg.raw_fees"], ["dw.fee_events"], {
         "dw.fee_events.account_id": (["stg.raw_fees.account_id"], "direct"),
         "dw.fee_events.fee": (["stg.raw_fees.fee"], "direct"),
     }))

case("snowflake_pipe_and_task_bodies", "snowflake",
     "CREATE PIPE stg.fees_pipe AUTO_INGEST = TRUE AS COPY INTO stg.fee_events FROM @landing/fees;\n"
     "CREATE TASK stg.load_fees WAREHOUSE = etl SCHEDULE = '5 MINUTE' AS "
     "INSERT INTO dw.fact_fees (account_id) SELECT e.account_id FROM stg.fee_events e;",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"],
              {"dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}))

case("postgres_data_modifying_cte", "postgres",
     "WITH moved AS (DELETE FROM stg.fee_queue q WHERE q.booked RETURNING q.account_id, q.fee) "
     "INSERT INTO dw.fact_fees (account_id, fee_amount) SELECT m.account_id, m.fee FROM moved m",
     Expected("INSERT", ["stg.fee_queue"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_queue.account_id"], "direct"),
         "dw.fact_fees.fee_amount": (["stg.fee_queue.fee"], "direct"),
     }, effects=[Effect(kind="delete", table="stg.fee_queue")]))

case("mysql_rename_table_after_write", "mysql",
     "CREATE TABLE dw.dim_branch_new AS SELECT b.branch_id FROM stg.branches b;\n"
     "RENAME TABLE dw.dim_branch_new TO dw.dim_branch;",
     Expected("CREATE TABLE AS", ["stg.branches"], ["dw.dim_branch"], {
         "dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct")}))

case("oracle_truncate_options", "oracle",
     "TRUNCATE TABLE dw.fact_txn DROP STORAGE;\nALTER TABLE dw.fact_txn TRUNCATE PARTITION p202406;",
     Expected("TRUNCATE", [], [], effects=[Effect(kind="truncate", table="dw.fact_txn")]))

case("postgres_materialized_view_with_data", ("postgres", "redshift"),
     "CREATE MATERIALIZED VIEW mart.mv_balance AS SELECT b.account_id, SUM(b.balance) AS total "
     "FROM dw.fact_balance b GROUP BY b.account_id WITH NO DATA",
     Expected("CREATE MATERIALIZED VIEW", ["dw.fact_balance"], ["mart.mv_balance"], {
         "mart.mv_balance.account_id": (["dw.fact_balance.account_id"], "direct"),
         "mart.mv_balance.total": (["dw.fact_balance.balance"], "aggregation"),
     }))

case("snowflake_copy_grants", "snowflake",
     "CREATE OR REPLACE SECURE VIEW mart.v_account COPY GRANTS AS SELECT a.account_id FROM dw.dim_account a",
     Expected("CREATE VIEW", ["dw.dim_account"], ["mart.v_account"], {
         "mart.v_account.account_id": (["dw.dim_account.account_id"], "direct")}))

# ------------------------------------------------------------------ dialect features that must parse

case("snowflake_tags_and_masking_policies", "snowflake",
     "CREATE TABLE dw.dim_customer (customer_id INT, iban VARCHAR WITH MASKING POLICY gov.mask_iban USING (iban, customer_id), "
     "email VARCHAR MASKING POLICY gov.mask_email WITH TAG (gov.pii = 'email')) "
     "WITH ROW ACCESS POLICY gov.by_branch ON (customer_id) WITH TAG (gov.cost_center = 'retail')",
     Expected("CREATE TABLE", [], ["dw.dim_customer"], effects=[Effect(kind="create", table="dw.dim_customer")]))

case("snowflake_view_with_tag", "snowflake",
     "CREATE OR REPLACE VIEW mart.v_customer WITH TAG (gov.tier = 'gold') AS SELECT c.customer_id FROM dw.dim_customer c",
     Expected("CREATE VIEW", ["dw.dim_customer"], ["mart.v_customer"], {
         "mart.v_customer.customer_id": (["dw.dim_customer.customer_id"], "direct")}))

case("redshift_auto_refresh", "redshift",
     "CREATE MATERIALIZED VIEW mart.mv_balance AUTO REFRESH YES AS SELECT b.account_id, SUM(b.balance) AS total "
     "FROM dw.fact_balance b GROUP BY b.account_id",
     Expected("CREATE MATERIALIZED VIEW", ["dw.fact_balance"], ["mart.mv_balance"], {
         "mart.mv_balance.account_id": (["dw.fact_balance.account_id"], "direct"),
         "mart.mv_balance.total": (["dw.fact_balance.balance"], "aggregation"),
     }))

# A struct sub-field is read from its top-level column (lineage is per column, not per field).
case("bigquery_struct_subfields", "bigquery",
     "INSERT INTO `bank.dw.customer_city` (customer_id, city, zip) "
     "SELECT c.customer_id, c.address.city, c.address.geo.zip FROM `bank.stg.customers` AS c",
     Expected("INSERT", ["bank.stg.customers"], ["bank.dw.customer_city"], {
         "bank.dw.customer_city.customer_id": (["bank.stg.customers.customer_id"], "direct"),
         "bank.dw.customer_city.city": (["bank.stg.customers.address"], "expression"),
         "bank.dw.customer_city.zip": (["bank.stg.customers.address"], "expression"),
     }))

# The field of an array element reads the array column.
case("struct_fields_of_unnested_arrays", ("bigquery", "spark", "snowflake", "duckdb"),
     {"bigquery": "CREATE TABLE mart.order_items AS SELECT o.order_id, i.sku, (SELECT MAX(x.qty) FROM UNNEST(o.items) x) AS "
                  "max_qty FROM stg.orders o, UNNEST(o.items) AS i",
      "spark": "CREATE TABLE mart.order_items AS SELECT o.order_id, i.sku, aggregate(o.items, 0, (a, e) -> greatest(a, e.qty)) "
               "AS max_qty FROM stg.orders o LATERAL VIEW explode(o.items) x AS i",
      "snowflake": "CREATE TABLE mart.order_items AS SELECT o.order_id, i.value:sku::STRING AS sku, "
                   "ARRAY_MAX(TRANSFORM(o.items, e -> e:qty)) AS max_qty FROM stg.orders o, LATERAL FLATTEN(input => o.items) i",
      "duckdb": "CREATE TABLE mart.order_items AS SELECT o.order_id, i.sku, list_max(list_transform(o.items, e -> e.qty)) AS "
                "max_qty FROM stg.orders o, UNNEST(o.items) AS t(i)"},
     {d: Expected("CREATE TABLE AS", ["stg.orders"], ["mart.order_items"], {
         "mart.order_items.order_id": (["stg.orders.order_id"], "direct"),
         "mart.order_items.sku": (["stg.orders.items"], "expression"),
         "mart.order_items.max_qty": (["stg.orders.items"], "aggregation" if d == "bigquery" else "expression"),
     }) for d in ("bigquery", "spark", "snowflake", "duckdb")})

case("athena_backticks", "athena",
     "INSERT INTO `dw`.`daily_fees` (account_id, fee) SELECT `f`.`account_id`, `f`.`fee amount` FROM `stg`.`fees` `f`",
     Expected("INSERT", ["stg.fees"], ["dw.daily_fees"], {
         "dw.daily_fees.account_id": (["stg.fees.account_id"], "direct"),
         "dw.daily_fees.fee": (["stg.fees.fee amount"], "direct"),
     }))

case("athena_backticks_ctas", "athena",
     "CREATE TABLE `mart`.`fees` AS SELECT `account_id` FROM `stg`.`fees`",
     Expected("CREATE TABLE AS", ["stg.fees"], ["mart.fees"], {"mart.fees.account_id": (["stg.fees.account_id"], "direct")}))

case("tsql_throw_in_catch", "tsql",
     "BEGIN TRY\n  INSERT INTO dw.fact_fees (account_id) SELECT e.account_id FROM stg.fee_events e\nEND TRY\n"
     "BEGIN CATCH\n  THROW 50001, 'fee load failed', 1;\nEND CATCH",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"],
              {"dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}))

case("tsql_compound_variable_assignment", "tsql",
     "DECLARE @n INT = 0\nSET @n += 1\nSELECT @n *= 2\n"
     "INSERT INTO dw.load_log (run_no, loaded) SELECT @n, COUNT(*) FROM stg.fee_events",
     Expected("INSERT", ["stg.fee_events"], ["dw.load_log"], {
         "dw.load_log.run_no": ([], "expression"), "dw.load_log.loaded": ([], "aggregation")}))

case("tsql_partition_scheme_and_masked_columns", "tsql",
     "CREATE PARTITION FUNCTION pf_date (date) AS RANGE RIGHT FOR VALUES ('2024-01-01')\nGO\n"
     "CREATE PARTITION SCHEME ps_date AS PARTITION pf_date ALL TO ([PRIMARY])\nGO\n"
     "CREATE TABLE [Fact].[Sale] (\n  [Sale Key] BIGINT IDENTITY (1, 1) NOT NULL,\n  [Invoice Date Key] DATE NOT NULL,\n"
     "  [Email] NVARCHAR (256) MASKED WITH (FUNCTION = 'email()') NULL,\n"
     "  CONSTRAINT [PK_Fact_Sale] PRIMARY KEY NONCLUSTERED ([Sale Key] ASC, [Invoice Date Key] ASC) "
     "ON [ps_date] ([Invoice Date Key]),\n"
     "  CONSTRAINT [FK_Sale_Date] FOREIGN KEY ([Invoice Date Key]) REFERENCES [Dimension].[Date] ([Date]) ON DELETE CASCADE\n"
     ") ON [ps_date] ([Invoice Date Key])\nGO\n"
     "CREATE NONCLUSTERED INDEX [IX_Sale_Date] ON [Fact].[Sale]([Invoice Date Key] ASC) ON [ps_date] ([Invoice Date Key])",
     Expected("CREATE TABLE", [], ["fact.sale"], effects=[Effect(kind="create", table="fact.sale")]))

case("tsql_output_parameters", "tsql",
     "CREATE PROCEDURE etl.load_fees @since DATE, @rows INT OUTPUT AS\nBEGIN\n"
     "  INSERT INTO dw.fact_fees (account_id) SELECT e.account_id FROM stg.fee_events e WITH (NOLOCK) WHERE e.booked >= @since\n"
     "  SET @rows = @@ROWCOUNT\nEND\nGO\nDECLARE @n INT\nEXEC etl.load_fees @since = '2024-01-01', @rows = @n OUTPUT",
     Expected("INSERT", ["stg.fee_events"], ["dw.fact_fees"], {
         "dw.fact_fees.account_id": (["stg.fee_events.account_id"], "direct")}, procedure="etl.load_fees"))

case("tsql_output_clause_and_hints", "tsql",
     "UPDATE TOP (100) a SET a.status = 'CLOSED' OUTPUT deleted.account_id, inserted.status INTO dw.account_audit (account_id, "
     "status) FROM dw.dim_account a WITH (ROWLOCK) JOIN stg.closures c (NOLOCK) ON c.account_id = a.account_id",
     Expected("UPDATE", ["dw.dim_account", "stg.closures"], ["dw.dim_account", "dw.account_audit"], {
         "dw.dim_account.status": ([], "expression"),
         "dw.account_audit.account_id": (["dw.dim_account.account_id"], "direct"),
         "dw.account_audit.status": (["dw.dim_account.status"], "direct"),
     }))

case("tsql_bulk_insert", "tsql",
     "BULK INSERT stg.fee_events FROM 'D:\\landing\\fees.csv' WITH (FIELDTERMINATOR = ';', FIRSTROW = 2)",
     Expected("BULK INSERT", [], ["stg.fee_events"]))

case("synapse_rename_object_after_ctas", ("tsql", "fabric"),
     "CREATE TABLE dw.dim_branch_new WITH (DISTRIBUTION = ROUND_ROBIN) AS SELECT b.branch_id FROM stg.branches b;\n"
     "RENAME OBJECT dw.dim_branch_new TO dim_branch;",
     Expected("CREATE TABLE AS", ["stg.branches"], ["dw.dim_branch"], {
         "dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct")}))

case("tsql_memory_optimized_and_clustered_keys", "tsql",
     "CREATE TABLE dw.fx_cache (pair CHAR(6) NOT NULL PRIMARY KEY NONCLUSTERED HASH WITH (BUCKET_COUNT = 1024), "
     "rate DECIMAL(18, 6) SPARSE NULL, booked DATETIME2 NOT NULL INDEX ix_booked NONCLUSTERED, "
     "INDEX ix_rate NONCLUSTERED (rate)) WITH (MEMORY_OPTIMIZED = ON, DURABILITY = SCHEMA_AND_DATA)\nGO\n"
     "INSERT INTO dw.fx_cache SELECT r.pair, r.rate, r.booked FROM stg.fx_rates r",
     Expected("INSERT", ["stg.fx_rates"], ["dw.fx_cache"], {
         "dw.fx_cache.pair": (["stg.fx_rates.pair"], "direct"),
         "dw.fx_cache.rate": (["stg.fx_rates.rate"], "direct"),
         "dw.fx_cache.booked": (["stg.fx_rates.booked"], "direct"),
     }))

case("synapse_ctas_with_index_and_partition_options", ("tsql", "fabric"),
     "CREATE TABLE dw.fact_txn WITH (DISTRIBUTION = HASH(account_id), CLUSTERED COLUMNSTORE INDEX ORDER (booked), "
     "PARTITION (booked RANGE RIGHT FOR VALUES ('2024-01-01'))) AS SELECT t.account_id, t.booked FROM stg.txn t",
     Expected("CREATE TABLE AS", ["stg.txn"], ["dw.fact_txn"], {
         "dw.fact_txn.account_id": (["stg.txn.account_id"], "direct"),
         "dw.fact_txn.booked": (["stg.txn.booked"], "direct"),
     }))

case("tsql_labels_goto_and_session_options", "tsql",
     "SET IDENTITY_INSERT dw.dim_branch ON\nIF @@ROWCOUNT = 0 GOTO skip\n"
     "INSERT INTO dw.dim_branch (branch_id) SELECT b.branch_id FROM stg.branches b\nskip:\nSET IDENTITY_INSERT dw.dim_branch OFF",
     Expected("INSERT", ["stg.branches"], ["dw.dim_branch"], {"dw.dim_branch.branch_id": (["stg.branches.branch_id"], "direct")}))

case("tsql_xmlnamespaces", "tsql",
     "WITH XMLNAMESPACES ('urn:bank' AS b) INSERT INTO dw.msgs (id) SELECT m.id FROM stg.messages m",
     Expected("INSERT", ["stg.messages"], ["dw.msgs"], {"dw.msgs.id": (["stg.messages.id"], "direct")}))

case("sqlcmd_variables", "tsql",
     ':setvar Stage "stg"\nGO\nINSERT INTO dw.fees (account_id) SELECT f.account_id FROM [$(Stage)].fees f',
     Expected("INSERT", ["stg.fees"], ["dw.fees"], {"dw.fees.account_id": (["stg.fees.account_id"], "direct")}))

# ------------------------------------------------------------------ unaliased expressions in INSERT without a column list

case("insert_unnamed_expression_known_target", ("tsql", "postgres", "snowflake"),
     "INSERT INTO dw.dim_currency SELECT UPPER(s.code), s.name, s.decimals + 0 FROM stg.currency s",
     Expected("INSERT", ["stg.currency"], ["dw.dim_currency"], {
         "dw.dim_currency.currency_code": (["stg.currency.code"], "expression"),
         "dw.dim_currency.currency_name": (["stg.currency.name"], "direct"),
         "dw.dim_currency.minor_units": (["stg.currency.decimals"], "expression"),
     }, catalog=Catalog({"dw.dim_currency": ["currency_code", "currency_name", "minor_units"]})))


@pytest.mark.parametrize(("dialect", "sql", "expected"), [c[1:] for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_long_tail_spec(dialect, sql, expected):
    _check(dialect, sql, expected)


@pytest.mark.parametrize("dialect", ["tsql", "postgres", "snowflake", "bigquery"])
def test_unnamed_expression_without_known_target_is_positional_name_and_warned(dialect):
    # Convention: with no column list and no catalog, a written column is named after the query's output;
    # an unaliased expression has no name and is written as ``_col_<position>`` (0-based). A warning says so.
    result = parse_sql("INSERT INTO dw.t SELECT s.a + 1, s.b FROM stg.s AS s", dialect)
    [statement] = result.statements
    assert [(c.target, c.sources) for c in statement.columns] == [("dw.t._col_0", ["stg.s.a"]), ("dw.t.b", ["stg.s.b"])]
    assert statement.column_mapping == "assumed"
    assert [w.statement for w in result.warnings] == [0]
    assert "_col_<position>" in result.warnings[0].message
