-- =============================================================================
-- staging/latin1_load_crm_contacts.sql
-- Dialect : T-SQL (SQL Server 2019)
--
-- !!! INTENTIONALLY NON-UTF-8 FILE (demo corpus) !!!
-- This file is saved in ISO-8859-1 (latin-1), as exported from the old
-- SSMS project of the Zürich CRM team. It is otherwise valid SQL with real
-- lineage:  src_crm.contacts -> stg.customer_contacts
--
-- Purpose : Contact data (e-mail, téléphone, adresse) for the customer 360.
--           Préférence de langue: 'FR', 'DE', 'EN'. Fees in GBP are shown as £.
-- Sources : src_crm.contacts, stg.customers
-- Target  : stg.customer_contacts
-- Auteur  : équipe CRM / René Müller
-- =============================================================================

TRUNCATE TABLE stg.customer_contacts;

-- Contacts des clients connus uniquement (clé = crm_customer_ref)
INSERT INTO stg.customer_contacts (
    customer_id,
    email,
    phone,
    preferred_language,
    address_line,
    load_ts
)
SELECT
    LTRIM(RTRIM(ct.crm_customer_ref))                      AS customer_id,
    LOWER(LTRIM(RTRIM(ct.email_addr)))                     AS email,
    REPLACE(REPLACE(ct.phone_no, ' ', ''), '-', '')        AS phone,
    COALESCE(UPPER(ct.lang_cd), 'EN')                      AS preferred_language,
    -- remplace l'ancien séparateur '¦' par une virgule
    REPLACE(ct.street_addr, '¦', ', ')                     AS address_line,
    SYSDATETIME()                                          AS load_ts
FROM src_crm.contacts AS ct
INNER JOIN stg.customers AS c
    ON c.customer_id = LTRIM(RTRIM(ct.crm_customer_ref))
WHERE ct.email_addr NOT LIKE '%@exemple-supprimé.ch';

-- Mark contacts whose address is a Post-Office box ("Postfach", "case postale", "boîte")
UPDATE stg.customer_contacts
SET address_line = CONCAT(N'[BP] ', address_line)
WHERE address_line LIKE N'%Postfach%'
   OR address_line LIKE N'%case postale%'
   OR address_line LIKE N'%boîte postale%';

PRINT 'stg.customer_contacts chargé - frais de service £0.00';
