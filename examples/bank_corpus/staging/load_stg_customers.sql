-- =============================================================================
-- staging/load_stg_customers.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Nightly load of stg.customers from the core-banking customer master
--           enriched with CRM segment / internal rating / connected-client group.
-- Sources : src_core_banking.customers, src_crm.customer_profiles
-- Target  : stg.customers
-- =============================================================================

TRUNCATE TABLE stg.customers;

INSERT INTO stg.customers (
    customer_id,
    first_name,
    last_name,
    full_name,
    birth_date,
    country_code,
    segment,
    risk_rating,
    connected_group_id,
    kyc_status,
    load_ts
)
SELECT
    LTRIM(RTRIM(c.cust_id))                                     AS customer_id,
    LTRIM(RTRIM(c.first_nm))                                    AS first_name,
    LTRIM(RTRIM(c.last_nm))                                     AS last_name,
    CONCAT(LTRIM(RTRIM(c.first_nm)), ' ', LTRIM(RTRIM(c.last_nm))) AS full_name,
    TRY_CAST(c.dob AS DATE)                                     AS birth_date,
    UPPER(c.country_iso)                                        AS country_code,
    COALESCE(p.segment_cd, 'RETAIL')                            AS segment,
    COALESCE(p.internal_rating, 'NR')                           AS risk_rating,
    -- customers without a CRM group form a group of one
    COALESCE(NULLIF(LTRIM(RTRIM(p.group_id)), ''), c.cust_id)   AS connected_group_id,
    c.kyc_status_cd                                             AS kyc_status,
    SYSDATETIME()                                               AS load_ts
FROM src_core_banking.customers AS c
LEFT JOIN src_crm.customer_profiles AS p
    ON p.crm_customer_ref = c.cust_id
WHERE c.cust_id IS NOT NULL;

-- data-quality probe: customers without a valid birth date
SELECT COUNT(*) AS customers_without_birth_date
FROM stg.customers
WHERE birth_date IS NULL;
