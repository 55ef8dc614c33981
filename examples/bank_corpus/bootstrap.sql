-- =============================================================================
-- bootstrap.sql
-- Bank DWH demo corpus -- source-system extract tables (generic ANSI SQL)
--
-- These tables mirror the nightly extract files delivered by the source
-- systems. They are owned by the source teams; the warehouse only reads them.
--   src_core_banking : core banking platform (customers, accounts, ledger)
--   src_cards        : card processor
--   src_crm          : CRM (customer profiles, connected-client groups)
--   src_market       : market data vendor (FX rates)
-- =============================================================================

-- ---------------------------------------------------------------- core banking
CREATE TABLE src_core_banking.customers (
    cust_id          VARCHAR(20)   NOT NULL,
    first_nm         VARCHAR(100),
    last_nm          VARCHAR(100),
    dob              VARCHAR(10),          -- 'YYYY-MM-DD' as text in the extract
    country_iso      CHAR(2),
    kyc_status_cd    VARCHAR(10),
    created_ts       TIMESTAMP,
    PRIMARY KEY (cust_id)
);

CREATE TABLE src_core_banking.accounts (
    acct_id          VARCHAR(20)   NOT NULL,
    acct_no          VARCHAR(34),          -- IBAN, may carry padding blanks
    cust_id          VARCHAR(20)   NOT NULL,
    prod_cd          VARCHAR(10),
    branch_cd        VARCHAR(10),
    ccy              CHAR(3),
    open_dt          VARCHAR(10),
    close_dt         VARCHAR(10),
    status_cd        CHAR(1),              -- A = active, C = closed, D = dormant
    PRIMARY KEY (acct_id)
);

CREATE TABLE src_core_banking.transactions (
    txn_id           VARCHAR(30)   NOT NULL,
    acct_id          VARCHAR(20)   NOT NULL,
    booking_dt       VARCHAR(10),
    value_dt         VARCHAR(10),
    txn_amt          VARCHAR(30),          -- signed amount as text, '.' decimal
    txn_ccy          CHAR(3),
    txn_type_cd      VARCHAR(10),
    channel_cd       VARCHAR(10),
    cpty_iban        VARCHAR(34),
    PRIMARY KEY (txn_id)
);

CREATE TABLE src_core_banking.account_balances (
    acct_id          VARCHAR(20)   NOT NULL,
    bal_dt           VARCHAR(10)   NOT NULL,
    ledger_bal       DECIMAL(19,4),
    avail_bal        DECIMAL(19,4),
    ccy              CHAR(3),
    accr_int         DECIMAL(19,4),
    PRIMARY KEY (acct_id, bal_dt)
);

CREATE TABLE src_core_banking.loans (
    loan_id          VARCHAR(20)   NOT NULL,
    acct_id          VARCHAR(20)   NOT NULL,
    cust_id          VARCHAR(20)   NOT NULL,
    principal_os     DECIMAL(19,4),
    commitment_amt   DECIMAL(19,4),
    ccy              CHAR(3),
    int_rate_pct     DECIMAL(9,6),
    maturity_dt      VARCHAR(10),
    dpd              INTEGER,
    ifrs9_stage      INTEGER,
    PRIMARY KEY (loan_id)
);

CREATE TABLE src_core_banking.collateral (
    coll_id          VARCHAR(20)   NOT NULL,
    loan_id          VARCHAR(20)   NOT NULL,
    coll_type_cd     VARCHAR(10),
    mkt_value        DECIMAL(19,4),
    ccy              CHAR(3),
    haircut_pct      DECIMAL(9,4),
    PRIMARY KEY (coll_id)
);

CREATE TABLE src_core_banking.products (
    prod_cd          VARCHAR(10)   NOT NULL,
    prod_nm          VARCHAR(100),
    prod_family      VARCHAR(30),
    lending_flag     CHAR(1),
    basel_class_cd   VARCHAR(20),
    PRIMARY KEY (prod_cd)
);

CREATE TABLE src_core_banking.branches (
    branch_cd        VARCHAR(10)   NOT NULL,
    branch_nm        VARCHAR(100),
    region_cd        VARCHAR(10),
    country_iso      CHAR(2),
    PRIMARY KEY (branch_cd)
);

-- ---------------------------------------------------------------- cards
CREATE TABLE src_cards.cards (
    card_id          VARCHAR(20)   NOT NULL,
    acct_id          VARCHAR(20)   NOT NULL,
    card_type        VARCHAR(10),          -- DEBIT / CREDIT
    card_status      VARCHAR(10),
    expiry_yyyymm    CHAR(6),
    PRIMARY KEY (card_id)
);

CREATE TABLE src_cards.card_transactions (
    auth_id          VARCHAR(30)   NOT NULL,
    card_id          VARCHAR(20)   NOT NULL,
    txn_ts           TIMESTAMP,
    billing_amt      DECIMAL(19,4),
    billing_ccy      CHAR(3),
    mcc              CHAR(4),
    merchant_country CHAR(2),
    reversal_flag    CHAR(1),
    PRIMARY KEY (auth_id)
);

-- ---------------------------------------------------------------- CRM
CREATE TABLE src_crm.customer_profiles (
    crm_customer_ref VARCHAR(20)   NOT NULL,   -- = src_core_banking.customers.cust_id
    segment_cd       VARCHAR(10),
    internal_rating  VARCHAR(5),
    group_id         VARCHAR(20),              -- connected-client group (CRR art. 4(39))
    relationship_mgr VARCHAR(50),
    PRIMARY KEY (crm_customer_ref)
);

CREATE TABLE src_crm.contacts (
    crm_customer_ref VARCHAR(20)   NOT NULL,
    email_addr       VARCHAR(200),
    phone_no         VARCHAR(40),
    lang_cd          CHAR(2),
    street_addr      VARCHAR(200),
    PRIMARY KEY (crm_customer_ref)
);

-- ---------------------------------------------------------------- market data
CREATE TABLE src_market.fx_rates (
    quote_date       DATE          NOT NULL,
    base_ccy         CHAR(3)       NOT NULL,   -- always 'EUR'
    quote_ccy        CHAR(3)       NOT NULL,
    mid_rate         DECIMAL(19,10),           -- units of quote_ccy per 1 EUR
    source_cd        VARCHAR(10),
    PRIMARY KEY (quote_date, base_ccy, quote_ccy)
);
