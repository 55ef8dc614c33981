-- =============================================================================
-- staging/00_create_stg_tables.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : DDL for the staging layer. Staging tables are typed, trimmed copies
--           of the source extracts; they are truncated and reloaded nightly by
--           the load_stg_*.sql scripts in this folder.
-- Owner   : DWH platform team
-- =============================================================================

CREATE TABLE stg.customers (
    customer_id        VARCHAR(20)    NOT NULL,
    first_name         NVARCHAR(100)  NULL,
    last_name          NVARCHAR(100)  NULL,
    full_name          NVARCHAR(201)  NULL,
    birth_date         DATE           NULL,
    country_code       CHAR(2)        NULL,
    segment            VARCHAR(20)    NULL,
    risk_rating        VARCHAR(5)     NULL,
    connected_group_id VARCHAR(20)    NULL,
    kyc_status         VARCHAR(10)    NULL,
    load_ts            DATETIME2(0)   NOT NULL,
    CONSTRAINT pk_stg_customers PRIMARY KEY (customer_id)
);

CREATE TABLE stg.accounts (
    account_id     VARCHAR(20)   NOT NULL,
    account_number VARCHAR(34)   NOT NULL,
    customer_id    VARCHAR(20)   NOT NULL,
    product_code   VARCHAR(10)   NULL,
    branch_code    VARCHAR(10)   NULL,
    currency_code  CHAR(3)       NOT NULL,
    open_date      DATE          NULL,
    close_date     DATE          NULL,
    status         VARCHAR(10)   NOT NULL,
    load_ts        DATETIME2(0)  NOT NULL,
    CONSTRAINT pk_stg_accounts PRIMARY KEY (account_id)
);

CREATE TABLE stg.transactions (
    transaction_id    VARCHAR(30)    NOT NULL,
    account_id        VARCHAR(20)    NOT NULL,
    booking_date      DATE           NOT NULL,
    value_date        DATE           NULL,
    amount            DECIMAL(19,4)  NOT NULL,
    currency_code     CHAR(3)        NOT NULL,
    transaction_type  VARCHAR(10)    NULL,
    channel           VARCHAR(10)    NULL,
    counterparty_iban VARCHAR(34)    NULL,
    load_ts           DATETIME2(0)   NOT NULL
);

CREATE TABLE stg.fx_rates (
    rate_date     DATE            NOT NULL,
    currency_code CHAR(3)         NOT NULL,
    rate          DECIMAL(19,10)  NOT NULL,   -- EUR per 1 unit of currency_code
    load_ts       DATETIME2(0)    NOT NULL,
    CONSTRAINT pk_stg_fx_rates PRIMARY KEY (rate_date, currency_code)
);

CREATE TABLE stg.products (
    product_code      VARCHAR(10)   NOT NULL,
    product_name      NVARCHAR(100) NULL,
    product_family    VARCHAR(30)   NULL,
    is_lending        BIT           NOT NULL,
    basel_asset_class VARCHAR(20)   NULL,
    load_ts           DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.branches (
    branch_code  VARCHAR(10)   NOT NULL,
    branch_name  NVARCHAR(100) NULL,
    region       VARCHAR(10)   NULL,
    country_code CHAR(2)       NULL,
    load_ts      DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.account_balances (
    account_id        VARCHAR(20)   NOT NULL,
    balance_date      DATE          NOT NULL,
    ledger_balance    DECIMAL(19,4) NULL,
    available_balance DECIMAL(19,4) NULL,
    currency_code     CHAR(3)       NOT NULL,
    accrued_interest  DECIMAL(19,4) NULL,
    load_ts           DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.loans (
    loan_id               VARCHAR(20)   NOT NULL,
    account_id            VARCHAR(20)   NOT NULL,
    customer_id           VARCHAR(20)   NOT NULL,
    principal_outstanding DECIMAL(19,4) NULL,
    committed_amount      DECIMAL(19,4) NULL,
    currency_code         CHAR(3)       NOT NULL,
    interest_rate         DECIMAL(9,6)  NULL,
    maturity_date         DATE          NULL,
    days_past_due         INT           NULL,
    ifrs9_stage           TINYINT       NULL,
    load_ts               DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.collateral (
    collateral_id   VARCHAR(20)   NOT NULL,
    loan_id         VARCHAR(20)   NOT NULL,
    collateral_type VARCHAR(10)   NULL,
    market_value    DECIMAL(19,4) NULL,
    currency_code   CHAR(3)       NULL,
    haircut_pct     DECIMAL(9,4)  NULL,
    load_ts         DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.cards (
    card_id     VARCHAR(20)  NOT NULL,
    account_id  VARCHAR(20)  NOT NULL,
    card_type   VARCHAR(10)  NULL,
    card_status VARCHAR(10)  NULL,
    expiry_date DATE         NULL,
    load_ts     DATETIME2(0) NOT NULL
);

CREATE TABLE stg.card_transactions (
    card_txn_id       VARCHAR(30)   NOT NULL,
    card_id           VARCHAR(20)   NOT NULL,
    account_id        VARCHAR(20)   NULL,
    txn_date          DATE          NOT NULL,
    billing_amount    DECIMAL(19,4) NOT NULL,
    billing_currency  CHAR(3)       NOT NULL,
    merchant_category CHAR(4)       NULL,
    merchant_country  CHAR(2)       NULL,
    load_ts           DATETIME2(0)  NOT NULL
);

CREATE TABLE stg.customer_contacts (
    customer_id        VARCHAR(20)   NOT NULL,
    email              NVARCHAR(200) NULL,
    phone              VARCHAR(40)   NULL,
    preferred_language CHAR(2)       NULL,
    address_line       NVARCHAR(200) NULL,
    load_ts            DATETIME2(0)  NOT NULL
);
