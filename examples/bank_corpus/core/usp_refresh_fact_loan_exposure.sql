-- =============================================================================
-- core/usp_refresh_fact_loan_exposure.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Loan-level exposure snapshot in EUR for the credit-risk marts.
--           drawn   = principal outstanding
--           undrawn = commitment - principal outstanding
--           CCF (credit conversion factor, CRR art. 111 simplified) by product.
--           Collateral value is after haircut, converted to EUR.
--           Called by dw.usp_load_fact_balance_daily.
-- Sources : stg.loans, stg.collateral, stg.fx_rates, dw.dim_account,
--           dw.dim_product, dw.dim_date
-- Target  : dw.fact_loan_exposure
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_refresh_fact_loan_exposure
    @business_date DATE
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @date_key INT = CAST(CONVERT(CHAR(8), @business_date, 112) AS INT);

    -- collateral per loan, EUR, after haircut
    SELECT
        c.loan_id,
        SUM(c.market_value * (1 - c.haircut_pct / 100.0) * fx.rate) AS collateral_value_eur
    INTO #tmp_collateral
    FROM stg.collateral AS c
    INNER JOIN stg.fx_rates AS fx
        ON fx.currency_code = c.currency_code
       AND fx.rate_date = @business_date
    GROUP BY c.loan_id;

    BEGIN TRY
        BEGIN TRANSACTION;

        DELETE FROM dw.fact_loan_exposure WHERE date_key = @date_key;

        INSERT INTO dw.fact_loan_exposure (
            date_key,
            loan_id,
            account_key,
            customer_key,
            drawn_amount_eur,
            undrawn_amount_eur,
            collateral_value_eur,
            ccf,
            days_past_due,
            ifrs9_stage,
            loaded_at
        )
        SELECT
            d.date_key,
            l.loan_id,
            a.account_key,
            a.customer_key,
            l.principal_outstanding * fx.rate                            AS drawn_amount_eur,
            (l.committed_amount - l.principal_outstanding) * fx.rate     AS undrawn_amount_eur,
            ISNULL(col.collateral_value_eur, 0)                          AS collateral_value_eur,
            CASE
                WHEN p.product_family = 'CREDIT_CARD' THEN 0.10
                WHEN p.product_family = 'OVERDRAFT'   THEN 0.20
                WHEN DATEDIFF(MONTH, @business_date, l.maturity_date) > 12 THEN 0.50
                ELSE 0.20
            END                                                          AS ccf,
            l.days_past_due,
            l.ifrs9_stage,
            SYSDATETIME()                                                AS loaded_at
        FROM stg.loans AS l
        INNER JOIN dw.dim_account AS a
            ON a.account_id = l.account_id
        INNER JOIN dw.dim_product AS p
            ON p.product_key = a.product_key
        INNER JOIN dw.dim_date AS d
            ON d.calendar_date = @business_date
        INNER JOIN stg.fx_rates AS fx
            ON fx.currency_code = l.currency_code
           AND fx.rate_date = @business_date
        LEFT JOIN #tmp_collateral AS col
            ON col.loan_id = l.loan_id;

        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH
END
GO
