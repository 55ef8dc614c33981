-- =============================================================================
-- core/views_dw_finance.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Finance-oriented views over the facts (monthly transaction totals,
--           loan book). Used by the reporting layer.
-- =============================================================================

CREATE VIEW dw.v_transaction_monthly
AS
SELECT
    d.calendar_year,
    d.calendar_month,
    f.account_key,
    f.source_system,
    f.transaction_type,
    COUNT(*)                                               AS transaction_count,
    SUM(f.amount_eur)                                      AS total_amount_eur,
    SUM(CASE WHEN f.amount_eur < 0 THEN -f.amount_eur ELSE 0 END) AS debit_amount_eur,
    SUM(CASE WHEN f.amount_eur > 0 THEN f.amount_eur ELSE 0 END)  AS credit_amount_eur
FROM dw.fact_transaction AS f
INNER JOIN dw.dim_date AS d
    ON d.date_key = f.date_key
GROUP BY
    d.calendar_year,
    d.calendar_month,
    f.account_key,
    f.source_system,
    f.transaction_type;
GO

CREATE VIEW dw.v_loan_book
AS
SELECT
    d.calendar_date                                 AS as_of_date,
    f.loan_id,
    a.account_id,
    c.customer_id,
    c.connected_group_id,
    f.drawn_amount_eur,
    f.undrawn_amount_eur,
    f.drawn_amount_eur + f.undrawn_amount_eur       AS committed_amount_eur,
    f.collateral_value_eur,
    f.days_past_due,
    f.ifrs9_stage
FROM dw.fact_loan_exposure AS f
INNER JOIN dw.dim_date AS d
    ON d.date_key = f.date_key
INNER JOIN dw.dim_account AS a
    ON a.account_key = f.account_key
INNER JOIN dw.dim_customer AS c
    ON c.customer_key = f.customer_key;
GO
