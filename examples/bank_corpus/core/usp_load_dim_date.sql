-- =============================================================================
-- core/usp_load_dim_date.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Maintain dw.dim_date for a date range (Mon-Fri = business day;
--           TARGET holidays are maintained manually by the finance team).
-- Sources : #dates (generated in the procedure)
-- Target  : dw.dim_date
-- =============================================================================

IF OBJECT_ID('dw.usp_load_dim_date', 'P') IS NOT NULL
    DROP PROCEDURE dw.usp_load_dim_date
GO

CREATE PROCEDURE dw.usp_load_dim_date
    @start_date DATE,
    @end_date   DATE
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @d DATE = @start_date

    CREATE TABLE #dates (
        calendar_date DATE NOT NULL PRIMARY KEY
    );

    WHILE @d <= @end_date
    BEGIN
        INSERT INTO #dates (calendar_date) VALUES (@d)
        SET @d = DATEADD(DAY, 1, @d)
    END

    MERGE dw.dim_date AS tgt
    USING (
        SELECT
            CAST(CONVERT(CHAR(8), d.calendar_date, 112) AS INT)      AS date_key,
            d.calendar_date                                          AS calendar_date,
            YEAR(d.calendar_date)                                    AS calendar_year,
            DATEPART(QUARTER, d.calendar_date)                       AS calendar_quarter,
            MONTH(d.calendar_date)                                   AS calendar_month,
            DATENAME(MONTH, d.calendar_date)                         AS month_name,
            DATEPART(WEEKDAY, d.calendar_date)                       AS day_of_week,
            CASE WHEN d.calendar_date = EOMONTH(d.calendar_date) THEN 1 ELSE 0 END AS is_month_end,
            CASE WHEN DATENAME(WEEKDAY, d.calendar_date) IN ('Saturday', 'Sunday')
                 THEN 0 ELSE 1 END                                   AS is_business_day
        FROM #dates AS d
    ) AS src
        ON tgt.date_key = src.date_key
    WHEN MATCHED AND tgt.is_business_day <> src.is_business_day THEN
        UPDATE SET tgt.is_business_day = src.is_business_day
    WHEN NOT MATCHED BY TARGET THEN
        INSERT (date_key, calendar_date, calendar_year, calendar_quarter, calendar_month,
                month_name, day_of_week, is_month_end, is_business_day)
        VALUES (src.date_key, src.calendar_date, src.calendar_year, src.calendar_quarter,
                src.calendar_month, src.month_name, src.day_of_week, src.is_month_end,
                src.is_business_day);

    DROP TABLE #dates;

    PRINT CONCAT('dw.dim_date loaded from ', @start_date, ' to ', @end_date)
END
GO
