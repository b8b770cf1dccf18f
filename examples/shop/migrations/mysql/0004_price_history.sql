-- Price history: an audit row for every price change, written by a trigger.
-- MySQL has no UPDATE OF column triggers and no WHEN clause: the single
-- statement inserts nothing when the price did not change.
CREATE TABLE price_history (
    id              BIGINT NOT NULL AUTO_INCREMENT,
    product_id      BIGINT NOT NULL,
    old_price_cents INTEGER NOT NULL,
    new_price_cents INTEGER NOT NULL,
    changed_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT price_history_pkey PRIMARY KEY (id),
    CONSTRAINT price_history_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TRIGGER products_price_history
AFTER UPDATE ON products
FOR EACH ROW
INSERT INTO price_history (product_id, old_price_cents, new_price_cents)
SELECT NEW.id, OLD.price_cents, NEW.price_cents FROM DUAL
WHERE OLD.price_cents <> NEW.price_cents;
