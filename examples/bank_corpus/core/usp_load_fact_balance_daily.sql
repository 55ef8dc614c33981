-- =============================================================================
-- core/usp_load_fact_balance_daily.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Daily balance snapshot in original currency and EUR, then refresh
--           the loan-exposure fact for the same business date.
-- Sources : stg.account_balances, stg.fx_rates, dw.dim_account, dw.dim_date
-- Target  : dw.fact_balance_daily  (+ calls dw.usp_refresh_fact_loan_exposure)
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_load_fact_balance_daily
    @business_date DATE = NULL
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @date_key INT;

    IF @business_date IS NULL
        SELECT @business_date = MAX(b.balance_date) FROM stg.account_balances AS b;

    SELECT @date_key = d.date_key
    FROM dw.dim_date AS d
    WHERE d.calendar_date = @business_date;

    -- account key lookup, restricted to accounts that have a balance today
    SELECT a.account_id, a.account_key
    INTO #acct_map
    FROM dw.dim_account AS a
    WHERE EXISTS (SELECT 1 FROM stg.account_balances AS b WHERE b.account_id = a.account_id);

    BEGIN TRY
        BEGIN TRAN;

        DELETE FROM dw.fact_balance_daily
        WHERE date_key = @date_key;

        INSERT INTO dw.fact_balance_daily (
            date_key,
            account_key,
            ledger_balance,
            currency_code,
            balance_eur,
            accrued_interest_eur,
            loaded_at
        )
        SELECT
            @date_key                                          AS date_key,
            m.account_key,
            b.ledger_balance,
            b.currency_code,
            CAST(b.ledger_balance * fx.rate AS DECIMAL(19,4))  AS balance_eur,
            CAST(b.accrued_interest * fx.rate AS DECIMAL(19,4)) AS accrued_interest_eur,
            SYSDATETIME()                                      AS loaded_at
        FROM stg.account_balances AS b
        INNER JOIN #acct_map AS m
            ON m.account_id = b.account_id
        INNER JOIN stg.fx_rates AS fx
            ON fx.rate_date = b.balance_date
           AND fx.currency_code = b.currency_code
        WHERE b.balance_date = @business_date;

        COMMIT;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK;
        THROW;
    END CATCH;

    EXEC dw.usp_refresh_fact_loan_exposure @business_date = @business_date;
END
GO
