"""Deterministic synthetic bank-warehouse SQL corpora for benchmarks.

``generate_corpus(out_dir, files, seed)`` writes ``files`` SQL files (3-10 statements each) in five domain
folders whose dialects follow the project's ``folder_dialects`` (staging/core T-SQL, risk Snowflake,
reporting BigQuery) plus ``marts`` (Postgres, by ``-- dialect:`` header; every file carries one, so the
corpus parses the same wherever it lives). Tables follow business units: a staging load writes
``stg.<entity>_<unit>``, a core procedure merges it into ``dw.dim_*``/``dw.fact_*``, risk builds on the
facts, reporting on risk, marts on reporting, so lineage chains cross files and folders. About 15 % of
files carry one deliberately broken statement (a few percent of all statements). The same seed gives
byte-identical files. ``mutate_corpus`` rewrites a deterministic share of files for incremental passes.
"""

import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MARKER_FILE = ".lineage-bench-corpus"
"""Written into every generated corpus; only a folder holding it may be overwritten."""

BROKEN_FILE_RATE = 0.15
MUTATION_MARKER = "-- bench revision:"

DOMAIN_DIALECTS = {"staging": "tsql", "core": "tsql", "risk": "snowflake", "reporting": "bigquery", "marts": "postgres"}
# Share of files per kind; staging/core dominate as in a real warehouse.
_KIND_WEIGHTS = {
    "stg_ddl": 4,
    "stg_load": 24,
    "dim_proc": 14,
    "fact_proc": 12,
    "dw_views": 6,
    "risk": 16,
    "reporting": 14,
    "marts": 10,
}
_KIND_DOMAIN = {
    "stg_ddl": "staging",
    "stg_load": "staging",
    "dim_proc": "core",
    "fact_proc": "core",
    "dw_views": "core",
    "risk": "risk",
    "reporting": "reporting",
    "marts": "marts",
}
FILES_PER_UNIT = 60
"""Roughly how many files share one business unit's tables (and so one lineage web)."""


@dataclass(frozen=True)
class Entity:
    """A source-system table and how each of its columns lands in staging: (source, staging, cleaning)."""

    name: str
    source: str
    key: str
    columns: tuple[tuple[str, str, str], ...]
    date_col: str | None = None
    amount_col: str | None = None

    @property
    def stg_columns(self) -> list[str]:
        return [c[1] for c in self.columns]


ENTITIES = (
    Entity("customers", "src_core_banking.customers", "customer_id", (
        ("cust_id", "customer_id", "trim"), ("first_nm", "first_name", "trim"), ("last_nm", "last_name", "trim"),
        ("dob", "birth_date", "date"), ("country_iso", "country_code", "upper"), ("kyc_status_cd", "kyc_status", "code"),
        ("seg_cd", "segment", "upper"),
    )),
    Entity("accounts", "src_core_banking.accounts", "account_id", (
        ("acct_id", "account_id", "trim"), ("acct_no", "account_number", "upper"), ("cust_id", "customer_id", "trim"),
        ("prod_cd", "product_code", "upper"), ("branch_cd", "branch_code", "plain"), ("ccy", "currency_code", "upper"),
        ("open_dt", "open_date", "date"), ("status_cd", "status", "code"),
    )),
    Entity("products", "src_core_banking.products", "product_code", (
        ("prod_cd", "product_code", "upper"), ("prod_nm", "product_name", "trim"), ("prod_family", "product_family", "upper"),
        ("lending_flag", "is_lending", "code"), ("basel_class_cd", "basel_asset_class", "upper"),
    )),
    Entity("branches", "src_core_banking.branches", "branch_code", (
        ("branch_cd", "branch_code", "upper"), ("branch_nm", "branch_name", "trim"), ("region_cd", "region", "plain"),
        ("country_iso", "country_code", "upper"),
    )),
    Entity("collateral", "src_core_banking.collateral", "collateral_id", (
        ("coll_id", "collateral_id", "trim"), ("loan_id", "loan_id", "trim"), ("coll_type_cd", "collateral_type", "code"),
        ("mkt_value", "market_value", "amount"), ("ccy", "currency_code", "upper"), ("haircut_pct", "haircut_pct", "plain"),
    )),
    Entity("transactions", "src_core_banking.transactions", "transaction_id", (
        ("txn_id", "transaction_id", "trim"), ("acct_id", "account_id", "trim"), ("booking_dt", "booking_date", "date"),
        ("txn_amt", "amount", "amount"), ("txn_ccy", "currency_code", "upper"), ("txn_type_cd", "transaction_type", "code"),
        ("channel_cd", "channel", "upper"),
    ), "booking_date", "amount"),
    Entity("payments", "src_payments.payment_orders", "payment_id", (
        ("pmt_id", "payment_id", "trim"), ("acct_id", "account_id", "trim"), ("exec_dt", "execution_date", "date"),
        ("pmt_amt", "amount", "amount"), ("ccy", "currency_code", "upper"), ("scheme_cd", "payment_scheme", "code"),
        ("cpty_iban", "counterparty_iban", "upper"),
    ), "execution_date", "amount"),
    Entity("balances", "src_core_banking.account_balances", "account_id", (
        ("acct_id", "account_id", "trim"), ("bal_dt", "balance_date", "date"), ("ledger_bal", "ledger_balance", "amount"),
        ("avail_bal", "available_balance", "amount"), ("ccy", "currency_code", "upper"),
        ("accr_int", "accrued_interest", "amount"),
    ), "balance_date", "ledger_balance"),
    Entity("loans", "src_core_banking.loans", "loan_id", (
        ("loan_id", "loan_id", "trim"), ("acct_id", "account_id", "trim"), ("snapshot_dt", "snapshot_date", "date"),
        ("principal_os", "drawn_amount", "amount"), ("commitment_amt", "commitment_amount", "amount"),
        ("ccy", "currency_code", "upper"), ("dpd", "days_past_due", "plain"), ("ifrs9_stage", "ifrs9_stage", "plain"),
    ), "snapshot_date", "drawn_amount"),
    Entity("card_transactions", "src_cards.card_transactions", "card_txn_id", (
        ("auth_id", "card_txn_id", "trim"), ("acct_id", "account_id", "trim"), ("txn_ts", "txn_date", "date"),
        ("billing_amt", "amount", "amount"), ("billing_ccy", "currency_code", "upper"), ("mcc", "merchant_category", "plain"),
    ), "txn_date", "amount"),
    Entity("fx_rates", "src_market.fx_rates", "rate_date", (
        ("quote_date", "rate_date", "date"), ("quote_ccy", "currency_code", "upper"), ("mid_rate", "rate", "plain"),
        ("source_cd", "rate_source", "upper"),
    )),
)
_BY_NAME = {e.name: e for e in ENTITIES}
DIMENSIONS = ("customers", "accounts", "products", "branches", "collateral")
FACTS = ("transactions", "payments", "balances", "loans", "card_transactions")
# Columns of risk.<fact>_profile_<unit>, read by reporting; uniform so templates compose.
PROFILE_COLUMNS = ("as_of_date", "customer_id", "country_code", "segment", "account_count", "total_amount_eur",
                   "max_amount_eur", "amount_30d_eur", "event_count_30d", "is_outlier")
SUMMARY_COLUMNS = ("report_month", "country_code", "segment", "customer_count", "total_amount_eur",
                   "avg_amount_eur", "outlier_count", "share_of_total")


@dataclass(frozen=True)
class GeneratedCorpus:
    """What ``generate_corpus`` wrote: relative paths, statement counts as the parser splits them
    (procedure bodies statement by statement), how many of those are deliberately broken."""

    root: Path
    seed: int
    paths: tuple[str, ...]
    statements: int
    broken_statements: int
    domains: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    @property
    def files(self) -> int:
        return len(self.paths)


class CorpusExistsError(FileExistsError):
    """The output folder holds files that are not a generated corpus (or overwriting was not asked)."""


@dataclass
class _File:
    domain: str
    name: str
    header: list[str]
    statements: list[str]
    broken: int = 0


def _expr(kind: str, column: str, dialect: str, alias: str = "s") -> str:
    ref = f"{alias}.{column}"
    if kind == "trim":
        return f"LTRIM(RTRIM({ref}))" if dialect == "tsql" else f"TRIM({ref})"
    if kind == "upper":
        return f"UPPER(LTRIM(RTRIM({ref})))" if dialect == "tsql" else f"UPPER(TRIM({ref}))"
    if kind == "date":
        return {"tsql": f"TRY_CAST({ref} AS DATE)", "snowflake": f"TRY_TO_DATE({ref})",
                "bigquery": f"SAFE_CAST({ref} AS DATE)"}.get(dialect, f"CAST({ref} AS DATE)")
    if kind == "amount":
        return {"tsql": f"CAST({ref} AS DECIMAL(19,4))", "snowflake": f"TO_NUMBER({ref}, 19, 4)",
                "bigquery": f"CAST({ref} AS NUMERIC)"}.get(dialect, f"CAST({ref} AS NUMERIC(19,4))")
    if kind == "code":
        return f"CASE {ref} WHEN 'A' THEN 'ACTIVE' WHEN 'C' THEN 'CLOSED' WHEN 'Y' THEN 'Y' ELSE 'UNKNOWN' END"
    return ref


def _now(dialect: str) -> str:
    return "SYSDATETIME()" if dialect == "tsql" else "CURRENT_TIMESTAMP()" if dialect != "postgres" else "CURRENT_TIMESTAMP"


def _q(name: str, dialect: str) -> str:
    """Table reference as each dialect's engineers tend to write it."""
    if dialect == "bigquery":
        return f"`{name}`"
    return name


def _cols(names: list[str] | tuple[str, ...], indent: int = 4, alias: str | None = None) -> str:
    pad = " " * indent
    return f",\n{pad}".join(f"{alias}.{n}" if alias else n for n in names)


def _banner(path: str, dialect: str, purpose: str, sources: list[str], targets: list[str]) -> list[str]:
    rule = "-- " + "=" * 77
    return [
        f"-- dialect: {dialect}",
        rule,
        f"-- {path}",
        f"-- Purpose : {purpose}",
        f"-- Sources : {', '.join(sources)}",
        f"-- Targets : {', '.join(targets)}",
        rule,
    ]


# ----------------------------------------------------------------------------------- staging (T-SQL)

def _stg_ddl(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    chosen = rng.sample(ENTITIES, rng.randint(3, 7))
    types = {"date": "DATE", "amount": "DECIMAL(19,4)", "code": "VARCHAR(10)", "plain": "VARCHAR(40)",
             "trim": "VARCHAR(100)", "upper": "VARCHAR(34)"}
    statements = []
    for entity in chosen:
        body = ",\n    ".join(f"{stg:<22} {types[kind]}" for _, stg, kind in entity.columns)
        statements.append(f"CREATE TABLE stg.{entity.name}_{unit} (\n    {body},\n    load_ts                DATETIME2 NOT NULL\n"
                          ");")
    if rng.random() < 0.5:
        statements.append(f"CREATE TABLE stg.load_audit_{unit} (\n    table_name VARCHAR(128),\n    row_count  INT,\n"
                          "    loaded_at  DATETIME2\n);")
    return "Staging tables of the business unit", [], [f"stg.{e.name}_{unit}" for e in chosen], statements


def _stg_load(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    entity = rng.choice(ENTITIES)
    target = f"stg.{entity.name}_{unit}"
    bracketed = f"[stg].[{entity.name}_{unit}]" if rng.random() < 0.4 else target
    exprs = ",\n    ".join(f"{_expr(kind, src, 'tsql', 's'):<48} AS {stg}" for src, stg, kind in entity.columns)
    filt = rng.choice([f"s.{entity.columns[0][0]} IS NOT NULL", f"s.{entity.columns[0][0]} <> ''",
                       f"s.{entity.columns[0][0]} IS NOT NULL\n  AND s.{entity.columns[1][0]} IS NOT NULL"])
    statements = [
        f"TRUNCATE TABLE {bracketed};",
        f"INSERT INTO {bracketed} (\n    {_cols(entity.stg_columns + ['load_ts'])}\n)\nSELECT\n    {exprs},\n"
        f"    SYSDATETIME() AS load_ts\nFROM {entity.source} AS s\nWHERE {filt};",
    ]
    extras = [
        f"DELETE FROM {target}\nWHERE {entity.key} IS NULL;",
        f"UPDATE {target}\nSET {entity.stg_columns[-1]} = UPPER({entity.stg_columns[-1]})\n"
        f"WHERE {entity.stg_columns[-1]} IS NOT NULL;",
        f"INSERT INTO stg.load_audit_{unit} (table_name, row_count, loaded_at)\nSELECT '{target}', COUNT(*), SYSDATETIME()\n"
        f"FROM {target};",
        f"UPDATE STATISTICS {target};",
        f"INSERT INTO stg.rejects_{unit} (table_name, record_key, reason, rejected_at)\n"
        f"SELECT '{target}', s.{entity.columns[0][0]}, "
        f"'missing key', SYSDATETIME()\nFROM {entity.source} AS s\nWHERE s.{entity.columns[0][0]} IS NULL;",
    ]
    statements += rng.sample(extras, rng.randint(1, len(extras)))
    sources = [entity.source]
    return f"Nightly load of {target} from {entity.source}", sources, [target], statements


# ------------------------------------------------------------------------------------- core (T-SQL)

def _dim_proc(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    entity = _BY_NAME[rng.choice(DIMENSIONS)]
    stg, dim, tmp = f"stg.{entity.name}_{unit}", f"dw.dim_{entity.name}_{unit}", f"#src_{entity.name}"
    cols = entity.stg_columns
    others = [c for c in cols if c != entity.key]
    body = [
        f"SELECT\n        {_cols(cols, 8, 's')}\n    INTO {tmp}\n    FROM {stg} AS s\n    WHERE s.{entity.key} IS NOT NULL;",
    ]
    if rng.random() < 0.6:
        body.append(f"UPDATE {tmp}\n    SET {others[0]} = LTRIM(RTRIM({others[0]}));")
    updates = ",\n                ".join(f"tgt.{c} = src.{c}" for c in others)
    body.append(
        f"MERGE {dim} AS tgt\n    USING (\n        SELECT\n            {_cols(cols, 12, 't')}\n        FROM {tmp} AS t\n"
        "    ) AS src\n"
        f"        ON tgt.{entity.key} = src.{entity.key}\n    WHEN MATCHED THEN\n        UPDATE SET\n                {updates},\n"
        f"                tgt.updated_at = SYSDATETIME()\n    WHEN NOT MATCHED BY TARGET THEN\n"
        f"        INSERT ({', '.join(cols)}, is_current, updated_at)\n"
        f"        VALUES ({', '.join('src.' + c for c in cols)}, 1, SYSDATETIME());"
    )
    if rng.random() < 0.5:
        body.append(f"UPDATE {dim}\n    SET is_current = 0\n    WHERE {entity.key} NOT IN (SELECT {entity.key} FROM {tmp});")
    if rng.random() < 0.7:
        body.append(f"INSERT INTO dw.etl_log_{unit} (procedure_name, table_name, finished_at)\n"
                    f"    VALUES ('dw.usp_merge_dim_{entity.name}_{unit}', '{dim}', SYSDATETIME());")
    body.append(f"DROP TABLE {tmp};")
    proc = (f"CREATE OR ALTER PROCEDURE dw.usp_merge_dim_{entity.name}_{unit}\nAS\nBEGIN\n    SET NOCOUNT ON;\n\n    "
            + "\n\n    ".join(body) + "\nEND\nGO")
    statements = [proc]
    if rng.random() < 0.5:
        statements.append(f"EXEC dw.usp_merge_dim_{entity.name}_{unit};\nGO")
    return f"Upsert of {dim} from staging via a temp table", [stg], [dim], statements


def _fact_proc(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    entity = _BY_NAME[rng.choice(FACTS)]
    stg, fact = f"stg.{entity.name}_{unit}", f"dw.fact_{entity.name}_{unit}"
    accounts, fx = f"dw.dim_accounts_{unit}", f"stg.fx_rates_{unit}"
    date_col, amount = entity.date_col, entity.amount_col
    body = [
        f"CREATE TABLE #batch (\n        {entity.key:<18} VARCHAR(40) NOT NULL,\n        {date_col:<18} DATE NOT NULL,\n"
        f"        account_id         VARCHAR(20) NOT NULL,\n        {amount:<18} DECIMAL(19,4),\n"
        "        currency_code      CHAR(3)\n    );",
        f"INSERT INTO #batch ({entity.key}, {date_col}, account_id, {amount}, currency_code)\n"
        f"    SELECT t.{entity.key}, t.{date_col}, "
        f"t.account_id, t.{amount}, t.currency_code\n    FROM {stg} AS t\n"
        f"    WHERE t.{date_col} >= DATEADD(DAY, -{rng.randint(1, 7)}, CAST(GETDATE() AS DATE));",
        f"DELETE FROM {fact}\n    WHERE load_date IN (SELECT DISTINCT b.{date_col} FROM #batch AS b);",
        f"INSERT INTO {fact} (\n"
        f"        {entity.key}, date_key, load_date, account_key, customer_id, amount, currency_code, fx_rate, amount_eur, "
        "loaded_at\n    )\n"
        f"    SELECT\n        b.{entity.key},\n        d.date_key,\n        b.{date_col},\n        a.account_key,\n"
        "        a.customer_id,\n"
        f"        b.{amount},\n        b.currency_code,\n        fx.rate AS fx_rate,\n"
        f"        CAST(b.{amount} * fx.rate AS DECIMAL(19,4)) AS amount_eur,\n"
        f"        SYSDATETIME() AS loaded_at\n    FROM #batch AS b\n    INNER JOIN {accounts} AS a\n"
        "        ON a.account_id = b.account_id\n"
        f"    INNER JOIN dw.dim_date AS d\n        ON d.calendar_date = b.{date_col}\n    INNER JOIN {fx} AS fx\n"
        f"        ON fx.rate_date = b.{date_col}\n       AND fx.currency_code = b.currency_code;",
    ]
    if rng.random() < 0.5:
        body.append(f"SELECT b.{entity.key}, b.account_id\n    INTO #unmatched\n    FROM #batch AS b\n"
                    f"    LEFT JOIN {accounts} AS a\n"
                    f"        ON a.account_id = b.account_id\n    WHERE a.account_key IS NULL;")
        body.append(f"INSERT INTO dw.dq_unmatched_{unit} (record_key, account_id, detected_at)\n"
                    f"    SELECT u.{entity.key}, u.account_id, SYSDATETIME()\n    FROM #unmatched AS u;")
    proc = (f"CREATE OR ALTER PROCEDURE dw.usp_load_fact_{entity.name}_{unit}\nAS\nBEGIN\n    SET NOCOUNT ON;\n\n    "
            + "\n\n    ".join(body) + "\nEND\nGO")
    return (f"Load of {fact} in EUR with the daily reference rate", [stg, accounts, "dw.dim_date", fx], [fact], [proc])


def _dw_views(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    statements, sources, targets = [], [], []
    for fact_name in rng.sample(FACTS, rng.randint(3, 5)):
        fact, customers = f"dw.fact_{fact_name}_{unit}", f"dw.dim_customers_{unit}"
        view = f"dw.v_{fact_name}_monthly_{unit}"
        statements.append(
            f"CREATE OR ALTER VIEW {view}\nAS\nSELECT\n    YEAR(f.load_date)      AS calendar_year,\n"
            "    MONTH(f.load_date)     AS calendar_month,\n"
            "    c.country_code,\n    c.segment,\n    COUNT(*)               AS event_count,\n"
            "    SUM(f.amount_eur)      AS amount_eur,\n"
            f"    MAX(f.amount_eur)      AS max_amount_eur\nFROM {fact} AS f\nJOIN {customers} AS c\n"
            "    ON c.customer_id = f.customer_id\n"
            f"   AND c.is_current = 1\nGROUP BY YEAR(f.load_date), MONTH(f.load_date), c.country_code, c.segment;\nGO"
        )
        sources += [fact, customers]
        targets.append(view)
    return "Monthly aggregate views over the unit's facts", sorted(set(sources)), targets, statements


# ---------------------------------------------------------------------------------- risk (Snowflake)

def _risk(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    fact_name = rng.choice(FACTS)
    fact, customers, accounts = f"dw.fact_{fact_name}_{unit}", f"dw.dim_customers_{unit}", f"dw.dim_accounts_{unit}"
    profile, limits = f"risk.{fact_name}_profile_{unit}", f"risk.{fact_name}_limits_{unit}"
    window = rng.choice([7, 30, 90])
    factor = rng.choice([3, 4, 5])
    statements = [
        f"CREATE OR REPLACE TABLE {profile} AS\nWITH daily AS (\n    SELECT\n        f.load_date,\n        f.customer_id,\n"
        f"        COUNT(DISTINCT f.account_key) AS account_count,\n        SUM(f.amount_eur)             AS amount_eur,\n"
        f"        MAX(f.amount_eur)             AS max_amount_eur,\n        COUNT(*)                      AS event_count\n"
        f"    FROM {fact} AS f\n    JOIN {accounts} AS a\n        ON a.account_key = f.account_key\n"
        "    WHERE a.status <> 'CLOSED'\n"
        f"    GROUP BY f.load_date, f.customer_id\n),\nrolling AS (\n    SELECT\n        d.load_date,\n        d.customer_id,\n"
        f"        d.account_count,\n        d.amount_eur,\n        d.max_amount_eur,\n"
        f"        SUM(d.amount_eur)  OVER (PARTITION BY d.customer_id ORDER BY d.load_date ROWS BETWEEN {window - 1} PRECEDING "
        "AND CURRENT ROW) AS amount_30d_eur,\n"
        f"        SUM(d.event_count) OVER (PARTITION BY d.customer_id ORDER BY d.load_date ROWS BETWEEN {window - 1} PRECEDING "
        "AND CURRENT ROW) AS event_count_30d,\n"
        f"        AVG(d.amount_eur)  OVER (PARTITION BY d.customer_id) AS avg_amount_eur\n    FROM daily AS d\n)\n"
        f"SELECT\n    r.load_date                AS as_of_date,\n    r.customer_id,\n    c.country_code,\n    c.segment,\n"
        "    r.account_count,\n    r.amount_eur               AS total_amount_eur,\n    r.max_amount_eur,\n"
        "    r.amount_30d_eur,\n"
        f"    r.event_count_30d,\n    IFF(r.amount_30d_eur > {factor} * {window} * r.avg_amount_eur, TRUE, FALSE) AS is_outlier\n"
        f"FROM rolling AS r\nJOIN {customers} AS c\n    ON c.customer_id = r.customer_id\n   AND c.is_current = 1\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.load_date DESC) = 1;",
        f"CREATE TABLE IF NOT EXISTS {limits} (\n    customer_id     VARCHAR(20)  NOT NULL,\n"
        "    limit_eur       NUMBER(19,4) NOT NULL,\n"
        f"    utilisation     NUMBER(9,6),\n    is_breach       BOOLEAN,\n    updated_at      TIMESTAMP_NTZ\n);",
        f"MERGE INTO {limits} AS tgt\nUSING (\n    SELECT\n        p.customer_id,\n"
        "        p.amount_30d_eur / NULLIF(l.limit_eur, 0) AS utilisation\n"
        f"    FROM {profile} AS p\n    JOIN risk.customer_limits AS l\n        ON l.customer_id = p.customer_id\n) AS src\n"
        f"    ON tgt.customer_id = src.customer_id\nWHEN MATCHED THEN UPDATE SET\n    tgt.utilisation = src.utilisation,\n"
        f"    tgt.is_breach   = src.utilisation > 1,\n    tgt.updated_at  = CURRENT_TIMESTAMP()\n"
        f"WHEN NOT MATCHED THEN INSERT (customer_id, limit_eur, utilisation, is_breach, updated_at)\n"
        f"VALUES (src.customer_id, 0, src.utilisation, src.utilisation > 1, CURRENT_TIMESTAMP());",
    ]
    extras = [
        f"ALTER TABLE {profile} CLUSTER BY (as_of_date, country_code);",
        f"UPDATE {limits}\nSET is_breach = FALSE\nWHERE utilisation IS NULL;",
        f"CREATE OR REPLACE VIEW risk.v_{fact_name}_outliers_{unit} AS\nSELECT\n    p.as_of_date,\n    p.customer_id,\n"
        "    p.country_code,\n"
        f"    p.amount_30d_eur\nFROM {profile} AS p\nWHERE p.is_outlier;",
    ]
    statements += rng.sample(extras, rng.randint(0, len(extras)))
    return (f"{window}-day behavioural profile and limit utilisation on {fact}",
            [fact, accounts, customers, "risk.customer_limits"], [profile, limits], statements)


# ------------------------------------------------------------------------------ reporting (BigQuery)

def _reporting(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    first, second = rng.sample(FACTS, 2)
    p1, p2 = _q(f"risk.{first}_profile_{unit}", "bigquery"), _q(f"risk.{second}_profile_{unit}", "bigquery")
    summary = f"reporting.{first}_summary_{unit}"
    threshold = rng.choice([1000, 5000, 25000])
    statements = [
        f"CREATE OR REPLACE TABLE {_q(summary, 'bigquery')}\nPARTITION BY report_month\nAS\nWITH base AS (\n  SELECT\n"
        f"    DATE_TRUNC(p.as_of_date, MONTH) AS report_month,\n    p.customer_id,\n    p.country_code,\n    p.segment,\n"
        f"    p.total_amount_eur,\n    p.is_outlier\n  FROM {p1} AS p\n  WHERE p.total_amount_eur >= {threshold}\n),\n"
        f"other AS (\n  SELECT\n    DATE_TRUNC(q.as_of_date, MONTH) AS report_month,\n    q.customer_id,\n"
        f"    SUM(q.total_amount_eur) AS other_amount_eur\n  FROM {p2} AS q\n  GROUP BY report_month, q.customer_id\n),\n"
        f"joined AS (\n  SELECT\n    b.report_month,\n    b.country_code,\n    b.segment,\n    b.customer_id,\n"
        f"    b.total_amount_eur + IFNULL(o.other_amount_eur, 0) AS amount_eur,\n    b.is_outlier\n  FROM base AS b\n"
        f"  LEFT JOIN other AS o\n    ON o.customer_id = b.customer_id\n   AND o.report_month = b.report_month\n),\n"
        "totals AS (\n  SELECT j.report_month, SUM(j.amount_eur) AS month_total_eur\n  FROM joined AS j\n"
        "  GROUP BY j.report_month\n)\n"
        "SELECT\n  j.report_month,\n  j.country_code,\n  j.segment,\n"
        "  COUNT(DISTINCT j.customer_id)            AS customer_count,\n"
        "  SUM(j.amount_eur)                        AS total_amount_eur,\n"
        "  AVG(j.amount_eur)                        AS avg_amount_eur,\n"
        f"  COUNTIF(j.is_outlier)                    AS outlier_count,\n"
        f"  SAFE_DIVIDE(SUM(j.amount_eur), MAX(t.month_total_eur)) AS share_of_total\nFROM joined AS j\nJOIN totals AS t\n"
        f"  ON t.report_month = j.report_month\nGROUP BY j.report_month, j.country_code, j.segment;",
        f"CREATE OR REPLACE VIEW {_q(f'reporting.v_{first}_kpis_{unit}', 'bigquery')} AS\nSELECT\n  s.report_month,\n"
        f"  s.country_code,\n  s.total_amount_eur,\n  s.outlier_count,\n"
        "  s.total_amount_eur - LAG(s.total_amount_eur) OVER (PARTITION BY s.country_code ORDER BY s.report_month) AS "
        "change_eur\n"
        f"FROM {_q(summary, 'bigquery')} AS s;",
        f"DELETE FROM {_q(summary, 'bigquery')}\n"
        f"WHERE report_month < DATE_SUB(CURRENT_DATE(), INTERVAL {rng.choice([24, 36, 60])} MONTH);",
    ]
    if rng.random() < 0.6:
        statements.append(
            f"INSERT INTO {_q(f'reporting.report_log_{unit}', 'bigquery')} (report_name, row_count, refreshed_at)\n"
            f"SELECT '{summary}', COUNT(*), CURRENT_TIMESTAMP()\nFROM {_q(summary, 'bigquery')};"
        )
    return (f"Monthly {first} report by country and segment", [f"risk.{first}_profile_{unit}", f"risk.{second}_profile_{unit}"],
            [summary, f"reporting.v_{first}_kpis_{unit}"], statements)


# ---------------------------------------------------------------------------------- marts (Postgres)

def _marts(rng: random.Random, unit: str) -> tuple[str, list[str], list[str], list[str]]:
    fact_name = rng.choice(FACTS)
    summary = f"reporting.{fact_name}_summary_{unit}"
    dashboard = f"marts.{fact_name}_dashboard_{unit}"
    statements = [
        f"CREATE TABLE IF NOT EXISTS {dashboard} (\n    report_month     DATE,\n    country_code     CHAR(2),\n"
        f"    total_amount_eur NUMERIC(19,4),\n    rank_in_month    INTEGER,\n    refreshed_at     TIMESTAMP\n);",
        f"DELETE FROM {dashboard}\n"
        f"WHERE report_month >= date_trunc('month', CURRENT_DATE) - INTERVAL '{rng.randint(1, 3)} months';",
        f"INSERT INTO {dashboard} (report_month, country_code, total_amount_eur, rank_in_month, refreshed_at)\n"
        f"WITH by_country AS (\n    SELECT s.report_month, s.country_code, SUM(s.total_amount_eur) AS total_amount_eur\n"
        f"    FROM {summary} AS s\n    GROUP BY s.report_month, s.country_code\n),\nranked AS (\n"
        f"    SELECT b.*, RANK() OVER (PARTITION BY b.report_month ORDER BY b.total_amount_eur DESC) AS rank_in_month\n"
        "    FROM by_country AS b\n)\n"
        "SELECT r.report_month, r.country_code, r.total_amount_eur, r.rank_in_month, CURRENT_TIMESTAMP\n"
        f"FROM ranked AS r\nWHERE r.rank_in_month <= {rng.choice([10, 20, 50])};",
        f"CREATE OR REPLACE VIEW marts.v_{fact_name}_top_countries_{unit} AS\n"
        "SELECT d.report_month, d.country_code, d.total_amount_eur\n"
        f"FROM {dashboard} AS d\nWHERE d.rank_in_month <= 5;",
    ]
    if rng.random() < 0.5:
        statements.append(f"ANALYZE {dashboard};")
    return f"Dashboard extract of {summary}", [summary], [dashboard], statements


_TEMPLATES = {
    "stg_ddl": _stg_ddl, "stg_load": _stg_load, "dim_proc": _dim_proc, "fact_proc": _fact_proc,
    "dw_views": _dw_views, "risk": _risk, "reporting": _reporting, "marts": _marts,
}
_FILE_PREFIX = {
    "stg_ddl": "create_stg", "stg_load": "load_stg", "dim_proc": "usp_merge_dim", "fact_proc": "usp_load_fact",
    "dw_views": "views_dw", "risk": "risk_profile", "reporting": "report", "marts": "mart",
}


def _broken_statement(rng: random.Random, table: str) -> str:
    """A statement no dialect accepts, shaped like real mistakes (bad merges, truncated edits)."""
    return rng.choice([
        f"INSERT INTO {table} (record_key, amount SELECT FROM ;",
        f"SELECT record_key, FROM {table} WHERE AND ;",
        f"UPDATE {table} SET amount = WHERE record_key = ;",
        f"CREATE VIEW {table}_tmp AS SELECT ((( FROM {table};",
    ])


def _build_file(rng: random.Random, index: int, kind: str, unit: str) -> _File:
    domain = _KIND_DOMAIN[kind]
    dialect = DOMAIN_DIALECTS[domain]
    purpose, sources, targets, statements = _TEMPLATES[kind](rng, unit)
    name = f"{unit}/{_FILE_PREFIX[kind]}_{index:05d}.sql"
    broken = 0
    if rng.random() < BROKEN_FILE_RATE:
        table = targets[0].replace("`", "")
        statements.insert(rng.randint(1, len(statements)), _broken_statement(rng, table))
        broken = 1
    header = _banner(f"{domain}/{name}", dialect, purpose, sources or ["(DDL only)"], targets)
    return _File(domain, name, header, statements, broken)


def _kinds(rng: random.Random, files: int) -> list[str]:
    """File kinds in proportion to the weights (exact counts), shuffled deterministically."""
    total = sum(_KIND_WEIGHTS.values())
    counts = {kind: files * weight // total for kind, weight in _KIND_WEIGHTS.items()}
    order = sorted(_KIND_WEIGHTS, key=lambda k: -_KIND_WEIGHTS[k])
    for i in range(files - sum(counts.values())):
        counts[order[i % len(order)]] += 1
    kinds = [kind for kind in _KIND_WEIGHTS for _ in range(counts[kind])]
    rng.shuffle(kinds)
    return kinds


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER_FILE).exists():
            raise CorpusExistsError(f"{out_dir} is not empty and is not a generated corpus (no {MARKER_FILE}); choose another "
                                    "--out")
        if not overwrite:
            raise CorpusExistsError(f"{out_dir} already holds a generated corpus; pass overwrite=True (--overwrite) to replace "
                                    "it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate_corpus(out_dir: Path, files: int, seed: int, overwrite: bool = False) -> GeneratedCorpus:
    """Write a corpus of ``files`` SQL files under ``out_dir``; the same ``seed`` gives byte-identical files.

    Raises ``CorpusExistsError`` if ``out_dir`` is non-empty, unless it is a generated corpus and
    ``overwrite`` is set; ``ValueError`` if ``files`` < 1.
    """
    if files < 1:
        raise ValueError(f"files must be at least 1, got {files}")
    _prepare_out_dir(out_dir, overwrite)
    rng = random.Random(seed)
    unit_count = max(1, round(files / FILES_PER_UNIT))
    units = [f"bu{u:03d}" for u in range(unit_count)]
    paths: list[str] = []
    domains: Counter[str] = Counter()
    statements = broken = written = 0
    for index, kind in enumerate(_kinds(rng, files)):
        built = _build_file(rng, index, kind, units[index % unit_count])
        text = "\n".join(built.header) + "\n\n" + "\n\n".join(built.statements) + "\n"
        relative = f"{built.domain}/{built.name}"
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        target.write_bytes(data)
        paths.append(relative)
        domains[built.domain] += 1
        # every generated statement, procedure bodies included, ends with exactly one ';'
        statements += sum(sql.count(";") for sql in built.statements)
        broken += built.broken
        written += len(data)
    (out_dir / MARKER_FILE).write_text(f"seed={seed} files={files}\n")
    return GeneratedCorpus(out_dir, seed, tuple(sorted(paths)), statements, broken, dict(sorted(domains.items())), written)


def mutate_corpus(root: Path, fraction: float, seed: int, revision: int = 1) -> list[str]:
    """Change ``round(fraction * files)`` files chosen by ``seed``: each gets a new revision block.

    The block is a real statement in the file's dialect family (an audit insert naming the revision),
    replacing any block an earlier mutation added, so sizes stay stable over many passes. Returns the
    changed corpus-relative paths, sorted.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be within [0, 1], got {fraction}")
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.sql"))
    chosen = random.Random(f"{seed}:{revision}").sample(paths, round(fraction * len(paths)))
    for relative in chosen:
        path = root / relative
        text = path.read_text()
        head, _, _ = text.partition(MUTATION_MARKER)
        unit = relative.split("/")[1] if relative.count("/") >= 2 else "root"
        block = (f"{MUTATION_MARKER} {revision}\nINSERT INTO audit.change_log_{unit} (file_name, revision, changed_at)\n"
                 f"SELECT '{relative}', {revision}, CURRENT_TIMESTAMP\nFROM audit.pending_changes AS p\n"
                 f"WHERE p.batch_id = {revision};\n")
        path.write_text(head.rstrip("\n") + "\n\n" + block)
    return sorted(chosen)
