-- Orders and their items. Order numbers are never reused (AUTOINCREMENT), items
-- go with their order (ON DELETE CASCADE), and a trigger takes the ordered
-- units out of stock, so the stock CHECK refuses any oversell.
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id    INTEGER NOT NULL CONSTRAINT orders_customer_fk REFERENCES customers (id),
    status         TEXT NOT NULL DEFAULT 'placed',
    coupon_id      INTEGER CONSTRAINT orders_coupon_fk REFERENCES coupons (id),
    discount_cents INTEGER NOT NULL DEFAULT 0,
    placed_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT orders_status_check CHECK (status IN ('placed', 'shipped', 'cancelled')),
    CONSTRAINT orders_discount_check CHECK (discount_cents >= 0)
) STRICT;

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_coupon_idx ON orders (coupon_id);

CREATE TABLE order_items (
    order_id         INTEGER NOT NULL CONSTRAINT order_items_order_fk REFERENCES orders (id) ON DELETE CASCADE,
    product_id       INTEGER NOT NULL CONSTRAINT order_items_product_fk REFERENCES products (id),
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id),
    CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_items_price_check CHECK (unit_price_cents >= 0)
) STRICT;

CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TRIGGER order_items_take_stock
AFTER INSERT ON order_items
FOR EACH ROW
BEGIN
    UPDATE products SET stock = stock - NEW.quantity WHERE id = NEW.product_id;
END;
