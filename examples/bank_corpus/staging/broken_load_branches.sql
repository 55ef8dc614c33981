-- =============================================================================
-- staging/broken_load_branches.sql
-- Dialect : T-SQL (SQL Server 2019)
--
-- !!! INTENTIONALLY BROKEN FILE (demo corpus) !!!
-- The third statement below is a truncated INSERT (bad merge of a hotfix).
-- The statements before and after it are valid and carry real lineage:
--   src_core_banking.branches -> stg.branches
-- A lineage tool should report the bad statement and still keep the others.
--
-- Purpose : Branch reference data, split by region.
-- Sources : src_core_banking.branches
-- Target  : stg.branches
-- =============================================================================

TRUNCATE TABLE stg.branches;

INSERT INTO stg.branches (branch_code, branch_name, region, country_code, load_ts)
SELECT
    UPPER(LTRIM(RTRIM(b.branch_cd))) AS branch_code,
    LTRIM(RTRIM(b.branch_nm))        AS branch_name,
    b.region_cd                      AS region,
    b.country_iso                    AS country_code,
    SYSDATETIME()                    AS load_ts
FROM src_core_banking.branches AS b
WHERE b.region_cd = 'EU';

INSERT INTO stg.branches (branch_code, branch_name SELECT FROM ;

INSERT INTO stg.branches (branch_code, branch_name, region, country_code, load_ts)
SELECT
    UPPER(LTRIM(RTRIM(b.branch_cd))) AS branch_code,
    LTRIM(RTRIM(b.branch_nm))        AS branch_name,
    'NON_EU'                         AS region,
    b.country_iso                    AS country_code,
    SYSDATETIME()                    AS load_ts
FROM src_core_banking.branches AS b
WHERE b.region_cd <> 'EU'
   OR b.region_cd IS NULL;
