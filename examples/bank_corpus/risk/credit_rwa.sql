-- =============================================================================
-- risk/credit_rwa.sql
-- Dialect : Snowflake
-- Purpose : Risk-weighted assets per exposure (simplified IRB-style weight,
--           capped at 150 %; defaulted exposures at 100 % of net EAD).
--           rwa_amount = ead_amount * risk_weight
-- Sources : risk.exposure_at_default, risk.pd_lgd_inputs
-- Target  : risk.credit_rwa
-- =============================================================================

CREATE OR REPLACE TABLE risk.credit_rwa AS
WITH weights AS (
    SELECT
        e.as_of_date,
        e.loan_id,
        e.customer_id,
        e.exposure_class,
        e.ead_amount,
        e.ead_net_of_collateral,
        e.is_defaulted,
        i.pd,
        i.lgd,
        CASE
            WHEN e.is_defaulted THEN 1.00
            WHEN e.exposure_class = 'RETAIL' THEN LEAST(12.5 * i.pd * i.lgd * 0.75 + 0.35, 1.50)
            ELSE LEAST(12.5 * i.pd * i.lgd * 1.06 + 0.50, 1.50)
        END AS risk_weight
    FROM risk.exposure_at_default AS e
    LEFT JOIN risk.pd_lgd_inputs AS i
        ON  i.as_of_date  = e.as_of_date
        AND i.customer_id = e.customer_id
)
SELECT
    w.as_of_date,
    w.loan_id,
    w.customer_id,
    w.exposure_class,
    w.ead_amount,
    w.pd,
    w.lgd,
    w.risk_weight,
    IFF(w.is_defaulted, w.ead_net_of_collateral, w.ead_amount) * w.risk_weight AS rwa_amount,
    IFF(w.is_defaulted, 0, w.ead_amount * w.pd * w.lgd)                      AS expected_loss,
    SUM(IFF(w.is_defaulted, w.ead_net_of_collateral, w.ead_amount) * w.risk_weight)
        OVER (PARTITION BY w.as_of_date, w.exposure_class)                    AS class_rwa_total
FROM weights AS w;
