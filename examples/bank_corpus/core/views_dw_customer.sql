-- =============================================================================
-- core/views_dw_customer.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Convenience views over the customer / account / product dimensions
--           for analysts and downstream marts.
-- =============================================================================

CREATE OR ALTER VIEW dw.v_customer_accounts
AS
SELECT
    c.customer_key,
    c.customer_id,
    c.full_name,
    c.segment,
    c.country_code,
    a.account_key,
    a.account_number,
    a.currency_code,
    a.status          AS account_status,
    p.product_code,
    p.product_family,
    p.basel_asset_class
FROM dw.dim_customer AS c
INNER JOIN dw.dim_account AS a
    ON a.customer_key = c.customer_key
INNER JOIN dw.dim_product AS p
    ON p.product_key = a.product_key
WHERE c.is_current = 1
GO

-- product catalogue exposed 1:1 to the intranet (columns: see 00_create_dw_tables.sql)
CREATE OR ALTER VIEW dw.v_product_catalog
AS
SELECT *
FROM dw.dim_product
GO

CREATE OR ALTER VIEW dw.v_active_lending_accounts
AS
SELECT
    a.account_key,
    a.account_id,
    a.customer_key,
    a.open_date,
    p.product_name,
    p.basel_asset_class
FROM [dw].[dim_account] AS a
INNER JOIN [dw].[dim_product] AS p
    ON p.product_key = a.product_key
WHERE a.status = 'ACTIVE'
  AND p.is_lending = 1
GO
