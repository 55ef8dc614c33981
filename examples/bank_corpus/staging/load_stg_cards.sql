-- =============================================================================
-- staging/load_stg_cards.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Card master and settled card transactions from the card processor.
--           Reversed authorisations are excluded. The card -> account link is
--           resolved here so that the core layer can treat card spend like any
--           other account movement.
-- Sources : src_cards.cards, src_cards.card_transactions
-- Targets : stg.cards, stg.card_transactions
-- =============================================================================

TRUNCATE TABLE stg.cards;

INSERT INTO stg.cards (card_id, account_id, card_type, card_status, expiry_date, load_ts)
SELECT
    c.card_id                                                        AS card_id,
    LTRIM(RTRIM(c.acct_id))                                          AS account_id,
    UPPER(c.card_type)                                               AS card_type,
    UPPER(c.card_status)                                             AS card_status,
    EOMONTH(DATEFROMPARTS(CAST(LEFT(c.expiry_yyyymm, 4) AS INT),
                          CAST(RIGHT(c.expiry_yyyymm, 2) AS INT), 1)) AS expiry_date,
    SYSDATETIME()                                                    AS load_ts
FROM src_cards.cards AS c;

TRUNCATE TABLE stg.card_transactions;

INSERT INTO stg.card_transactions (
    card_txn_id,
    card_id,
    account_id,
    txn_date,
    billing_amount,
    billing_currency,
    merchant_category,
    merchant_country,
    load_ts
)
SELECT
    ct.auth_id                          AS card_txn_id,
    ct.card_id                          AS card_id,
    LTRIM(RTRIM(cd.acct_id))            AS account_id,
    CAST(ct.txn_ts AS DATE)             AS txn_date,
    -- card spend is a debit on the account: store it negative like the ledger
    -ABS(ct.billing_amt)                AS billing_amount,
    UPPER(ct.billing_ccy)               AS billing_currency,
    ct.mcc                              AS merchant_category,
    ct.merchant_country                 AS merchant_country,
    SYSDATETIME()                       AS load_ts
FROM src_cards.card_transactions AS ct
INNER JOIN src_cards.cards AS cd
    ON cd.card_id = ct.card_id
WHERE ISNULL(ct.reversal_flag, 'N') <> 'Y';
