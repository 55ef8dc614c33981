-- =============================================================================
-- core/usp_merge_dim_customer.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Type-1 upsert of the customer dimension from staging.
--           E-mail comes from the CRM contact feed (stg.customer_contacts).
-- Sources : stg.customers, stg.customer_contacts
-- Target  : dw.dim_customer
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_merge_dim_customer
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @now DATETIME2(0) = SYSDATETIME();
    DECLARE @merged INT = 0;

    BEGIN TRY
        BEGIN TRANSACTION;

        MERGE [dw].[dim_customer] AS tgt
        USING (
            SELECT
                c.customer_id,
                c.full_name,
                c.birth_date,
                c.country_code,
                c.segment,
                c.risk_rating,
                c.connected_group_id,
                ct.email
            FROM stg.customers AS c
            LEFT JOIN stg.customer_contacts AS ct
                ON ct.customer_id = c.customer_id
            WHERE c.kyc_status <> 'REJECTED'
        ) AS src
            ON tgt.customer_id = src.customer_id
           AND tgt.is_current = 1
        WHEN MATCHED AND (
                 ISNULL(tgt.full_name, N'')        <> ISNULL(src.full_name, N'')
              OR ISNULL(tgt.segment, '')           <> ISNULL(src.segment, '')
              OR ISNULL(tgt.risk_rating, '')       <> ISNULL(src.risk_rating, '')
              OR ISNULL(tgt.connected_group_id,'') <> ISNULL(src.connected_group_id, '')
              OR ISNULL(tgt.email, N'')            <> ISNULL(src.email, N'')
             ) THEN
            UPDATE SET
                tgt.full_name          = src.full_name,
                tgt.birth_date         = src.birth_date,
                tgt.country_code       = src.country_code,
                tgt.segment            = src.segment,
                tgt.risk_rating        = src.risk_rating,
                tgt.connected_group_id = src.connected_group_id,
                tgt.email              = src.email,
                tgt.valid_from         = @now
        WHEN NOT MATCHED BY TARGET THEN
            INSERT (customer_id, full_name, birth_date, country_code, segment,
                    risk_rating, connected_group_id, email, valid_from, is_current)
            VALUES (src.customer_id, src.full_name, src.birth_date, src.country_code,
                    src.segment, src.risk_rating, src.connected_group_id, src.email,
                    @now, 1);

        SET @merged = @@ROWCOUNT;

        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0
            ROLLBACK TRANSACTION;
        THROW;
    END CATCH;

    PRINT CONCAT('dw.dim_customer: ', @merged, ' rows merged');
END
GO
