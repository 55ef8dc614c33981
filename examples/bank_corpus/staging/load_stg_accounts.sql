-- =============================================================================
-- staging/load_stg_accounts.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Nightly load of stg.accounts from the core-banking account master.
--           IBANs arrive blank-padded; dates arrive as text.
-- Sources : src_core_banking.accounts
-- Target  : stg.accounts
-- =============================================================================

TRUNCATE TABLE [stg].[accounts];

INSERT INTO [stg].[accounts] (
    account_id,
    account_number,
    customer_id,
    product_code,
    branch_code,
    currency_code,
    open_date,
    close_date,
    status,
    load_ts
)
SELECT
    LTRIM(RTRIM(a.acct_id))                      AS account_id,
    UPPER(REPLACE(LTRIM(RTRIM(a.acct_no)), ' ', '')) AS account_number,
    LTRIM(RTRIM(a.cust_id))                      AS customer_id,
    UPPER(LTRIM(RTRIM(a.prod_cd)))               AS product_code,
    a.branch_cd                                  AS branch_code,
    UPPER(a.ccy)                                 AS currency_code,
    CAST(a.open_dt AS DATE)                      AS open_date,
    TRY_CAST(NULLIF(a.close_dt, '') AS DATE)     AS close_date,
    CASE a.status_cd
        WHEN 'A' THEN 'ACTIVE'
        WHEN 'C' THEN 'CLOSED'
        WHEN 'D' THEN 'DORMANT'
        ELSE 'UNKNOWN'
    END                                          AS status,
    SYSDATETIME()                                AS load_ts
FROM src_core_banking.accounts AS a
WHERE a.acct_id IS NOT NULL
  AND a.cust_id IS NOT NULL;

UPDATE STATISTICS stg.accounts;
