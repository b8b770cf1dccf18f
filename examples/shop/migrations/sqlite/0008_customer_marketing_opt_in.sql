-- Customers may opt in to marketing email. Existing customers have not.
ALTER TABLE customers ADD COLUMN marketing_opt_in INTEGER NOT NULL DEFAULT 0
    CONSTRAINT customers_opt_in_check CHECK (marketing_opt_in IN (0, 1));
