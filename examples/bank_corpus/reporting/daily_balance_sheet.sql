-- =============================================================================
-- reporting/daily_balance_sheet.sql
-- Dialect : BigQuery
-- Purpose : Simplified daily balance sheet in EUR. Lending products are assets;
--           deposit products are liabilities (sign flipped); overdrawn current
--           accounts are reclassified to assets.
-- Sources : dw.fact_balance_daily, dw.dim_date, dw.dim_account, dw.dim_product
-- Target  : reporting.daily_balance_sheet (view)
-- =============================================================================

CREATE OR REPLACE VIEW `reporting.daily_balance_sheet` AS
SELECT
  d.calendar_date                                        AS balance_date,
  CASE
    WHEN p.is_lending THEN 'ASSET'
    WHEN b.balance_eur < 0 THEN 'ASSET'
    ELSE 'LIABILITY'
  END                                                    AS balance_sheet_side,
  CASE
    WHEN p.is_lending THEN 'Loans and advances to customers'
    WHEN b.balance_eur < 0 THEN 'Overdrafts'
    WHEN p.product_family = 'SAVINGS' THEN 'Savings deposits'
    WHEN p.product_family = 'TERM_DEPOSIT' THEN 'Term deposits'
    ELSE 'Current accounts'
  END                                                    AS balance_sheet_line,
  a.currency_code,
  COUNT(DISTINCT b.account_key)                          AS account_count,
  SUM(ABS(b.balance_eur))                                AS balance_eur,
  SUM(b.accrued_interest_eur)                            AS accrued_interest_eur
FROM `dw.fact_balance_daily` AS b
JOIN `dw.dim_date` AS d
  ON d.date_key = b.date_key
JOIN `dw.dim_account` AS a
  ON a.account_key = b.account_key
JOIN `dw.dim_product` AS p
  ON p.product_key = a.product_key
GROUP BY balance_date, balance_sheet_side, balance_sheet_line, a.currency_code;
