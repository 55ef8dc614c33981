-- =============================================================================
-- staging/load_stg_transactions.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Nightly load of ledger transactions. The extract delivers amounts
--           as text; rows that do not convert are skipped here and reported
--           separately by the data-quality job.
-- Sources : src_core_banking.transactions
-- Target  : stg.transactions
-- =============================================================================

TRUNCATE TABLE stg.transactions;

INSERT INTO stg.transactions (
    transaction_id,
    account_id,
    booking_date,
    value_date,
    amount,
    currency_code,
    transaction_type,
    channel,
    counterparty_iban,
    load_ts
)
SELECT
    LTRIM(RTRIM(t.txn_id))                          AS transaction_id,
    LTRIM(RTRIM(t.acct_id))                         AS account_id,
    CAST(t.booking_dt AS DATE)                      AS booking_date,
    TRY_CAST(t.value_dt AS DATE)                    AS value_date,
    CAST(REPLACE(t.txn_amt, ',', '') AS DECIMAL(19,4)) AS amount,
    UPPER(t.txn_ccy)                                AS currency_code,
    UPPER(LTRIM(RTRIM(t.txn_type_cd)))              AS transaction_type,
    COALESCE(NULLIF(LTRIM(RTRIM(t.channel_cd)), ''), 'BRANCH') AS channel,
    NULLIF(REPLACE(t.cpty_iban, ' ', ''), '')       AS counterparty_iban,
    SYSDATETIME()                                   AS load_ts
FROM src_core_banking.transactions AS t
WHERE TRY_CAST(REPLACE(t.txn_amt, ',', '') AS DECIMAL(19,4)) IS NOT NULL
  AND t.booking_dt IS NOT NULL;

-- remove exact duplicates delivered twice by the extract (keep one row)
WITH dups AS (
    SELECT
        transaction_id,
        ROW_NUMBER() OVER (PARTITION BY transaction_id ORDER BY load_ts) AS rn
    FROM stg.transactions
)
DELETE FROM dups
WHERE rn > 1;
