-- =============================================================================
-- core/00_create_dw_tables.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : DDL for the dimensional core (dw schema): conformed dimensions and
--           facts. Surrogate keys are IDENTITY columns; date_key is yyyymmdd.
-- Owner   : DWH platform team
-- =============================================================================

CREATE TABLE dw.dim_date (
    date_key         INT          NOT NULL,
    calendar_date    DATE         NOT NULL,
    calendar_year    SMALLINT     NOT NULL,
    calendar_quarter TINYINT      NOT NULL,
    calendar_month   TINYINT      NOT NULL,
    month_name       VARCHAR(10)  NOT NULL,
    day_of_week      TINYINT      NOT NULL,
    is_month_end     BIT          NOT NULL,
    is_business_day  BIT          NOT NULL,
    CONSTRAINT pk_dim_date PRIMARY KEY (date_key)
)
GO

CREATE TABLE dw.dim_customer (
    customer_key       INT IDENTITY(1,1) NOT NULL,
    customer_id        VARCHAR(20)   NOT NULL,
    full_name          NVARCHAR(201) NULL,
    birth_date         DATE          NULL,
    country_code       CHAR(2)       NULL,
    segment            VARCHAR(20)   NULL,
    risk_rating        VARCHAR(5)    NULL,
    connected_group_id VARCHAR(20)   NULL,
    email              NVARCHAR(200) NULL,
    valid_from         DATETIME2(0)  NOT NULL,
    is_current         BIT           NOT NULL,
    CONSTRAINT pk_dim_customer PRIMARY KEY (customer_key)
)
GO

CREATE TABLE dw.dim_product (
    product_key       INT IDENTITY(1,1) NOT NULL,
    product_code      VARCHAR(10)   NOT NULL,
    product_name      NVARCHAR(100) NULL,
    product_family    VARCHAR(30)   NULL,
    is_lending        BIT           NOT NULL,
    basel_asset_class VARCHAR(20)   NULL,
    updated_at        DATETIME2(0)  NOT NULL,
    CONSTRAINT pk_dim_product PRIMARY KEY (product_key)
)
GO

CREATE TABLE dw.dim_account (
    account_key    INT IDENTITY(1,1) NOT NULL,
    account_id     VARCHAR(20)   NOT NULL,
    account_number VARCHAR(34)   NOT NULL,
    customer_key   INT           NOT NULL,
    product_key    INT           NOT NULL,
    branch_code    VARCHAR(10)   NULL,
    branch_name    NVARCHAR(100) NULL,
    currency_code  CHAR(3)       NOT NULL,
    open_date      DATE          NULL,
    close_date     DATE          NULL,
    status         VARCHAR(10)   NOT NULL,
    updated_at     DATETIME2(0)  NOT NULL,
    CONSTRAINT pk_dim_account PRIMARY KEY (account_key)
)
GO

CREATE TABLE dw.fact_transaction (
    transaction_id   VARCHAR(30)    NOT NULL,
    date_key         INT            NOT NULL,
    account_key      INT            NOT NULL,
    customer_key     INT            NOT NULL,
    source_system    VARCHAR(10)    NOT NULL,   -- LEDGER / CARDS
    transaction_type VARCHAR(10)    NULL,
    channel          VARCHAR(10)    NULL,
    amount           DECIMAL(19,4)  NOT NULL,
    currency_code    CHAR(3)        NOT NULL,
    fx_rate          DECIMAL(19,10) NOT NULL,
    amount_eur       DECIMAL(19,4)  NOT NULL,
    loaded_at        DATETIME2(0)   NOT NULL
)
GO

CREATE TABLE dw.fact_balance_daily (
    date_key             INT           NOT NULL,
    account_key          INT           NOT NULL,
    ledger_balance       DECIMAL(19,4) NOT NULL,
    currency_code        CHAR(3)       NOT NULL,
    balance_eur          DECIMAL(19,4) NOT NULL,
    accrued_interest_eur DECIMAL(19,4) NOT NULL,
    loaded_at            DATETIME2(0)  NOT NULL
)
GO

CREATE TABLE dw.fact_loan_exposure (
    date_key             INT           NOT NULL,
    loan_id              VARCHAR(20)   NOT NULL,
    account_key          INT           NOT NULL,
    customer_key         INT           NOT NULL,
    drawn_amount_eur     DECIMAL(19,4) NOT NULL,
    undrawn_amount_eur   DECIMAL(19,4) NOT NULL,
    collateral_value_eur DECIMAL(19,4) NOT NULL,
    ccf                  DECIMAL(9,4)  NOT NULL,
    days_past_due        INT           NOT NULL,
    ifrs9_stage          TINYINT       NOT NULL,
    loaded_at            DATETIME2(0)  NOT NULL
)
GO
