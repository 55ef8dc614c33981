-- =============================================================================
-- bootstrap_schemas.sql
-- Bank DWH demo corpus -- schema bootstrap (generic ANSI SQL)
--
-- Creates the logical schemas used across the warehouse. Source-system schemas
-- (src_*) are landing areas for nightly extracts and are READ-ONLY for the DWH.
--   stg       : staging, truncated and reloaded every night (SQL Server)
--   dw        : Kimball-style dimensional core (SQL Server)
--   risk      : credit-risk marts (Snowflake)
--   reporting : regulatory / management reporting (BigQuery)
-- =============================================================================

CREATE SCHEMA src_core_banking;
CREATE SCHEMA src_cards;
CREATE SCHEMA src_crm;
CREATE SCHEMA src_market;

CREATE SCHEMA stg;
CREATE SCHEMA dw;
CREATE SCHEMA risk;
CREATE SCHEMA reporting;
