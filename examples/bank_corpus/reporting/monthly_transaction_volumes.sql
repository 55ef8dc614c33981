-- =============================================================================
-- reporting/monthly_transaction_volumes.sql
-- Dialect : BigQuery
-- Purpose : Monthly transaction volumes in EUR by product family and channel,
--           ledger and card business side by side (UNION ALL), plus a
--           management-summary view on top of the dw monthly view.
-- Sources : dw.fact_transaction, dw.dim_date, dw.dim_account, dw.dim_product,
--           dw.v_transaction_monthly
-- Targets : reporting.monthly_transaction_volumes,
--           reporting.v_transaction_summary
-- =============================================================================

CREATE OR REPLACE TABLE `reporting.monthly_transaction_volumes` AS
SELECT
  DATE_TRUNC(d.calendar_date, MONTH)    AS month_start,
  p.product_family,
  'LEDGER'                              AS business_line,
  f.channel,
  COUNT(*)                              AS transaction_count,
  SUM(f.amount_eur)                     AS net_amount_eur,
  SUM(ABS(f.amount_eur))                AS gross_amount_eur
FROM `dw.fact_transaction` AS f
JOIN `dw.dim_date` AS d
  ON d.date_key = f.date_key
JOIN `dw.dim_account` AS a
  ON a.account_key = f.account_key
JOIN `dw.dim_product` AS p
  ON p.product_key = a.product_key
WHERE f.source_system = 'LEDGER'
GROUP BY month_start, p.product_family, business_line, f.channel

UNION ALL

SELECT
  DATE_TRUNC(d.calendar_date, MONTH)    AS month_start,
  p.product_family,
  'CARDS'                               AS business_line,
  f.channel,
  COUNT(*)                              AS transaction_count,
  SUM(f.amount_eur)                     AS net_amount_eur,
  SUM(ABS(f.amount_eur))                AS gross_amount_eur
FROM `dw.fact_transaction` AS f
JOIN `dw.dim_date` AS d
  ON d.date_key = f.date_key
JOIN `dw.dim_account` AS a
  ON a.account_key = f.account_key
JOIN `dw.dim_product` AS p
  ON p.product_key = a.product_key
WHERE f.source_system = 'CARDS'
GROUP BY month_start, p.product_family, business_line, f.channel;

CREATE OR REPLACE VIEW `reporting.v_transaction_summary` AS
SELECT
  m.calendar_year,
  m.calendar_month,
  m.source_system,
  SUM(m.transaction_count)   AS transaction_count,
  SUM(m.debit_amount_eur)    AS debit_amount_eur,
  SUM(m.credit_amount_eur)   AS credit_amount_eur
FROM `dw.v_transaction_monthly` AS m
GROUP BY m.calendar_year, m.calendar_month, m.source_system;
