-- =============================================================================
-- reporting/customer_360.sql
-- Dialect : BigQuery
-- Purpose : One row per current customer for relationship managers: holdings,
--           latest balances, 30-day activity and credit-risk parameters.
-- Sources : dw.dim_customer, dw.dim_account, dw.fact_balance_daily,
--           risk.customer_transaction_profile, risk.pd_lgd_inputs
-- Target  : reporting.customer_360 (view)
-- =============================================================================

CREATE OR REPLACE VIEW `reporting.customer_360` AS
WITH latest_balance AS (
  SELECT
    a.customer_key,
    COUNT(DISTINCT a.account_key)  AS account_count,
    SUM(b.balance_eur)             AS total_balance_eur
  FROM `dw.fact_balance_daily` AS b
  JOIN `dw.dim_account` AS a
    ON a.account_key = b.account_key
  WHERE b.date_key = (SELECT MAX(x.date_key) FROM `dw.fact_balance_daily` AS x)
  GROUP BY a.customer_key
),
latest_risk AS (
  SELECT
    r.customer_id,
    r.rating_grade,
    r.pd,
    r.lgd,
    r.total_ead
  FROM `risk.pd_lgd_inputs` AS r
  QUALIFY ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.as_of_date DESC) = 1
)
SELECT
  c.customer_id,
  c.full_name,
  c.segment,
  c.country_code,
  c.email,
  IFNULL(lb.account_count, 0)          AS account_count,
  IFNULL(lb.total_balance_eur, 0)      AS total_balance_eur,
  tp.outflow_30d_eur,
  tp.inflow_30d_eur,
  tp.is_outflow_spike,
  lr.rating_grade,
  lr.pd,
  lr.lgd,
  lr.total_ead                         AS credit_exposure_eur
FROM `dw.dim_customer` AS c
LEFT JOIN latest_balance AS lb
  ON lb.customer_key = c.customer_key
LEFT JOIN `risk.customer_transaction_profile` AS tp
  ON tp.customer_key = c.customer_key
LEFT JOIN latest_risk AS lr
  ON lr.customer_id = c.customer_id
WHERE c.is_current = TRUE;
