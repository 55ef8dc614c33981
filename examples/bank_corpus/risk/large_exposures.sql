-- =============================================================================
-- risk/large_exposures.sql
-- Dialect : Snowflake
-- Purpose : Large-exposure monitoring (CRR Part Four, BCBS 239 lineage scope).
--           Exposures are aggregated per group of connected clients; a group is
--           a large exposure when its net exposure >= 10 % of Tier 1 capital,
--           and breaches the limit above 25 %. The top-20 groups are always
--           reported, even below the threshold.
-- Sources : risk.exposure_at_default, risk.eligible_capital, dw.dim_customer
-- Target  : risk.large_exposures
-- =============================================================================

CREATE OR REPLACE TABLE risk.large_exposures AS
WITH tier1 AS (
    SELECT
        c.as_of_date,
        c.cet1_capital + c.at1_capital AS tier1_capital
    FROM risk.eligible_capital AS c
    QUALIFY ROW_NUMBER() OVER (ORDER BY c.as_of_date DESC) = 1
),
group_exposure AS (
    SELECT
        e.as_of_date,
        e.connected_group_id,
        COUNT(DISTINCT e.customer_id)    AS obligor_count,
        SUM(e.ead_amount)                AS gross_exposure_eur,
        SUM(e.ead_net_of_collateral)     AS net_exposure_eur
    FROM risk.exposure_at_default AS e
    GROUP BY e.as_of_date, e.connected_group_id
),
group_lead AS (
    -- the obligor with the largest exposure names the group
    SELECT
        e.connected_group_id,
        c.full_name AS lead_obligor_name,
        c.country_code
    FROM risk.exposure_at_default AS e
    JOIN dw.dim_customer AS c
        ON c.customer_id = e.customer_id
       AND c.is_current = 1
    QUALIFY ROW_NUMBER() OVER (PARTITION BY e.connected_group_id ORDER BY e.ead_amount DESC) = 1
)
SELECT
    g.as_of_date,
    g.connected_group_id,
    l.lead_obligor_name,
    l.country_code,
    g.obligor_count,
    g.gross_exposure_eur,
    g.net_exposure_eur,
    t.tier1_capital,
    g.net_exposure_eur / t.tier1_capital                            AS pct_of_tier1,
    RANK() OVER (PARTITION BY g.as_of_date ORDER BY g.net_exposure_eur DESC) AS exposure_rank,
    g.net_exposure_eur / t.tier1_capital >= 0.10                    AS is_large_exposure,
    g.net_exposure_eur / t.tier1_capital >  0.25                    AS is_limit_breach
FROM group_exposure AS g
CROSS JOIN tier1 AS t
LEFT JOIN group_lead AS l
    ON l.connected_group_id = g.connected_group_id
QUALIFY RANK() OVER (PARTITION BY g.as_of_date ORDER BY g.net_exposure_eur DESC) <= 20
     OR g.net_exposure_eur / t.tier1_capital >= 0.10;
