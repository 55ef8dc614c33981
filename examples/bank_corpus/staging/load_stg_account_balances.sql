-- =============================================================================
-- staging/load_stg_account_balances.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : End-of-day balances for the last business date only.
-- Sources : src_core_banking.account_balances
-- Target  : stg.account_balances
-- =============================================================================

DECLARE @business_date DATE;

SELECT @business_date = MAX(CAST(b.bal_dt AS DATE))
FROM src_core_banking.account_balances AS b;

TRUNCATE TABLE stg.account_balances;

INSERT INTO stg.account_balances (
    account_id,
    balance_date,
    ledger_balance,
    available_balance,
    currency_code,
    accrued_interest,
    load_ts
)
SELECT
    LTRIM(RTRIM(b.acct_id))                 AS account_id,
    CAST(b.bal_dt AS DATE)                  AS balance_date,
    CAST(b.ledger_bal AS DECIMAL(19,4))     AS ledger_balance,
    CAST(b.avail_bal AS DECIMAL(19,4))      AS available_balance,
    UPPER(b.ccy)                            AS currency_code,
    ISNULL(b.accr_int, 0)                   AS accrued_interest,
    SYSDATETIME()                           AS load_ts
FROM src_core_banking.account_balances AS b
WHERE CAST(b.bal_dt AS DATE) = @business_date;
