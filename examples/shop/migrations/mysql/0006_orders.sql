-- Orders and their items. Order numbers are never reused (AUTO_INCREMENT),
-- items go with their order (ON DELETE CASCADE), and a trigger takes the
-- ordered units out of stock, so the stock CHECK refuses any oversell.
CREATE TABLE orders (
    id             BIGINT NOT NULL AUTO_INCREMENT,
    customer_id    BIGINT NOT NULL,
    status         VARCHAR(16) NOT NULL DEFAULT 'placed',
    coupon_id      BIGINT NULL,
    discount_cents INTEGER NOT NULL DEFAULT 0,
    placed_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
    CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_id) REFERENCES coupons (id),
    CONSTRAINT orders_status_check CHECK (status IN ('placed', 'shipped', 'cancelled')),
    CONSTRAINT orders_discount_check CHECK (discount_cents >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE order_items (
    order_id         BIGINT NOT NULL,
    product_id       BIGINT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    CONSTRAINT order_items_pkey PRIMARY KEY (order_id, product_id),
    CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
    CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_items_price_check CHECK (unit_price_cents >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TRIGGER order_items_take_stock
AFTER INSERT ON order_items
FOR EACH ROW
UPDATE products SET stock = stock - NEW.quantity WHERE id = NEW.product_id;
