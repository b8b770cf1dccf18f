-- Customers may opt in to marketing email. Existing customers have not.
ALTER TABLE customers ADD COLUMN marketing_opt_in BOOLEAN NOT NULL DEFAULT FALSE;
