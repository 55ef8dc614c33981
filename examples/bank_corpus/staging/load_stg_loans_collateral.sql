-- =============================================================================
-- staging/load_stg_loans_collateral.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Loan book and collateral register (feeds dw.fact_loan_exposure).
-- Sources : src_core_banking.loans, src_core_banking.collateral
-- Targets : stg.loans, stg.collateral
-- =============================================================================

TRUNCATE TABLE stg.loans;

INSERT INTO stg.loans (
    loan_id,
    account_id,
    customer_id,
    principal_outstanding,
    committed_amount,
    currency_code,
    interest_rate,
    maturity_date,
    days_past_due,
    ifrs9_stage,
    load_ts
)
SELECT
    LTRIM(RTRIM(l.loan_id))                       AS loan_id,
    LTRIM(RTRIM(l.acct_id))                       AS account_id,
    LTRIM(RTRIM(l.cust_id))                       AS customer_id,
    ISNULL(l.principal_os, 0)                     AS principal_outstanding,
    -- the commitment can never be below the drawn amount
    CASE WHEN l.commitment_amt < l.principal_os THEN l.principal_os
         ELSE l.commitment_amt END                AS committed_amount,
    UPPER(l.ccy)                                  AS currency_code,
    l.int_rate_pct / 100.0                        AS interest_rate,
    TRY_CAST(l.maturity_dt AS DATE)               AS maturity_date,
    ISNULL(l.dpd, 0)                              AS days_past_due,
    CAST(COALESCE(l.ifrs9_stage, 1) AS TINYINT)   AS ifrs9_stage,
    SYSDATETIME()                                 AS load_ts
FROM src_core_banking.loans AS l;

TRUNCATE TABLE stg.collateral;

INSERT INTO stg.collateral (
    collateral_id,
    loan_id,
    collateral_type,
    market_value,
    currency_code,
    haircut_pct,
    load_ts
)
SELECT
    LTRIM(RTRIM(c.coll_id))         AS collateral_id,
    LTRIM(RTRIM(c.loan_id))         AS loan_id,
    UPPER(c.coll_type_cd)           AS collateral_type,
    c.mkt_value                     AS market_value,
    UPPER(c.ccy)                    AS currency_code,
    COALESCE(c.haircut_pct, 0.0)    AS haircut_pct,
    SYSDATETIME()                   AS load_ts
FROM src_core_banking.collateral AS c
INNER JOIN src_core_banking.loans AS l
    ON l.loan_id = c.loan_id
WHERE c.mkt_value > 0;
