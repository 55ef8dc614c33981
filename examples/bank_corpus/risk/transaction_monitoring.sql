-- =============================================================================
-- risk/transaction_monitoring.sql
-- Dialect : Snowflake
-- Purpose : Behavioural features per customer for early-warning / AML models:
--           rolling 30-day outflows and the latest activity date.
-- Sources : dw.fact_transaction, dw.dim_date
-- Target  : risk.customer_transaction_profile
-- =============================================================================

CREATE OR REPLACE TABLE risk.customer_transaction_profile AS
WITH daily AS (
    SELECT
        f.customer_key,
        d.calendar_date,
        SUM(IFF(f.amount_eur < 0, -f.amount_eur, 0)) AS outflow_eur,
        SUM(IFF(f.amount_eur > 0,  f.amount_eur, 0)) AS inflow_eur,
        COUNT(*)                                      AS txn_count
    FROM dw.fact_transaction AS f
    JOIN dw.dim_date AS d
        ON d.date_key = f.date_key
    GROUP BY f.customer_key, d.calendar_date
),
rolling AS (
    SELECT
        customer_key,
        calendar_date,
        SUM(outflow_eur) OVER (PARTITION BY customer_key ORDER BY calendar_date
                               ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS outflow_30d_eur,
        SUM(inflow_eur)  OVER (PARTITION BY customer_key ORDER BY calendar_date
                               ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS inflow_30d_eur,
        SUM(txn_count)   OVER (PARTITION BY customer_key ORDER BY calendar_date
                               ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS txn_count_30d,
        AVG(outflow_eur) OVER (PARTITION BY customer_key)                 AS avg_daily_outflow_eur
    FROM daily
)
SELECT
    r.customer_key,
    r.calendar_date              AS last_activity_date,
    r.outflow_30d_eur,
    r.inflow_30d_eur,
    r.txn_count_30d,
    r.avg_daily_outflow_eur,
    r.outflow_30d_eur > 30 * 3 * r.avg_daily_outflow_eur AS is_outflow_spike
FROM rolling AS r
QUALIFY ROW_NUMBER() OVER (PARTITION BY r.customer_key ORDER BY r.calendar_date DESC) = 1;
