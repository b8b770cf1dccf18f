-- Price history: an audit row for every price change, written by a trigger.
CREATE TABLE price_history (
    id              INTEGER PRIMARY KEY,
    product_id      INTEGER NOT NULL CONSTRAINT price_history_product_fk REFERENCES products (id) ON DELETE CASCADE,
    old_price_cents INTEGER NOT NULL,
    new_price_cents INTEGER NOT NULL,
    changed_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
) STRICT;

CREATE INDEX price_history_product_idx ON price_history (product_id);

CREATE TRIGGER products_price_history
AFTER UPDATE OF price_cents ON products
FOR EACH ROW WHEN OLD.price_cents <> NEW.price_cents
BEGIN
    INSERT INTO price_history (product_id, old_price_cents, new_price_cents)
    VALUES (NEW.id, OLD.price_cents, NEW.price_cents);
END;
