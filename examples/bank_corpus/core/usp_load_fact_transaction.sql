-- =============================================================================
-- core/usp_load_fact_transaction.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Load ledger and card transactions into dw.fact_transaction,
--           converted to EUR with the daily reference rate:
--               amount_eur = amount * stg.fx_rates.rate
--           stg.fx_rates holds a rate for every calendar day (the market-data
--           feed is gap-filled by the vendor), so an inner join is safe.
--           Re-runnable: the batch dates are deleted first (dynamic SQL so the
--           target table can be switched to an archive table by ops).
-- Sources : stg.transactions, stg.card_transactions, stg.fx_rates,
--           dw.dim_account, dw.dim_date
-- Target  : dw.fact_transaction
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_load_fact_transaction
    @target_table SYSNAME = N'dw.fact_transaction'
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @sql      NVARCHAR(MAX);
    DECLARE @ledger   INT = 0;
    DECLARE @cards    INT = 0;

    -- 1. dates contained in this batch (ledger + cards)
    SELECT DISTINCT t.booking_date AS batch_date
    INTO #tmp_batch_dates
    FROM stg.transactions AS t
    UNION
    SELECT DISTINCT c.txn_date
    FROM stg.card_transactions AS c;

    -- 2. make the load idempotent
    SET @sql = N'DELETE f FROM ' + @target_table + N' AS f
                 INNER JOIN dw.dim_date AS d ON d.date_key = f.date_key
                 WHERE d.calendar_date IN (SELECT batch_date FROM #tmp_batch_dates);';
    EXEC sp_executesql @sql;

    -- 3. card transactions enriched with account keys
    CREATE TABLE #card_txn (
        card_txn_id      VARCHAR(30)   NOT NULL,
        txn_date         DATE          NOT NULL,
        account_key      INT           NOT NULL,
        customer_key     INT           NOT NULL,
        billing_amount   DECIMAL(19,4) NOT NULL,
        billing_currency CHAR(3)       NOT NULL
    );

    INSERT INTO #card_txn (card_txn_id, txn_date, account_key, customer_key, billing_amount, billing_currency)
    SELECT
        ct.card_txn_id,
        ct.txn_date,
        a.account_key,
        a.customer_key,
        ct.billing_amount,
        ct.billing_currency
    FROM stg.card_transactions AS ct
    INNER JOIN dw.dim_account AS a
        ON a.account_id = ct.account_id

    BEGIN TRY
        BEGIN TRANSACTION

        -- 4a. ledger transactions
        INSERT INTO dw.fact_transaction (
            transaction_id, date_key, account_key, customer_key, source_system,
            transaction_type, channel, amount, currency_code, fx_rate, amount_eur, loaded_at
        )
        SELECT
            t.transaction_id,
            d.date_key,
            a.account_key,
            a.customer_key,
            'LEDGER'                              AS source_system,
            t.transaction_type,
            t.channel,
            t.amount,
            t.currency_code,
            fx.rate                               AS fx_rate,
            CAST(t.amount * fx.rate AS DECIMAL(19,4)) AS amount_eur,
            SYSDATETIME()                         AS loaded_at
        FROM stg.transactions AS t
        INNER JOIN dw.dim_account AS a
            ON a.account_id = t.account_id
        INNER JOIN dw.dim_date AS d
            ON d.calendar_date = t.booking_date
        INNER JOIN stg.fx_rates AS fx
            ON fx.rate_date = t.booking_date
           AND fx.currency_code = t.currency_code;

        SET @ledger = @@ROWCOUNT;

        -- 4b. card transactions
        INSERT INTO dw.fact_transaction (
            transaction_id, date_key, account_key, customer_key, source_system,
            transaction_type, channel, amount, currency_code, fx_rate, amount_eur, loaded_at
        )
        SELECT
            c.card_txn_id,
            d.date_key,
            c.account_key,
            c.customer_key,
            'CARDS'                                       AS source_system,
            'CARD'                                        AS transaction_type,
            'POS'                                         AS channel,
            c.billing_amount,
            c.billing_currency,
            fx.rate                                       AS fx_rate,
            CAST(c.billing_amount * fx.rate AS DECIMAL(19,4)) AS amount_eur,
            SYSDATETIME()                                 AS loaded_at
        FROM #card_txn AS c
        INNER JOIN dw.dim_date AS d
            ON d.calendar_date = c.txn_date
        INNER JOIN stg.fx_rates AS fx
            ON fx.rate_date = c.txn_date
           AND fx.currency_code = c.billing_currency;

        SET @cards = @@ROWCOUNT;

        COMMIT TRANSACTION
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0
            ROLLBACK TRANSACTION;
        THROW;
    END CATCH

    PRINT CONCAT('dw.fact_transaction: ', @ledger, ' ledger rows, ', @cards, ' card rows');
END
GO
