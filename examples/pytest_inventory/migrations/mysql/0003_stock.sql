-- What is where, and every change to it.
CREATE TABLE stock (
    warehouse_id BIGINT NOT NULL,
    product_id   BIGINT NOT NULL,
    quantity     INT NOT NULL,
    PRIMARY KEY (warehouse_id, product_id),
    CONSTRAINT stock_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES warehouses (id),
    CONSTRAINT stock_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT stock_quantity_check CHECK (quantity >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE movements (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    product_id   BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    delta        INT NOT NULL,
    reason       VARCHAR(16) NOT NULL,
    reference    VARCHAR(100) NOT NULL,
    created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    -- A delivery note or order is booked once per product and warehouse.
    CONSTRAINT movements_once UNIQUE (reason, reference, product_id, warehouse_id),
    CONSTRAINT movements_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT movements_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES warehouses (id),
    CONSTRAINT movements_delta_check CHECK (delta <> 0),
    CONSTRAINT movements_reason_check
        CHECK (reason IN ('receive', 'ship', 'transfer_in', 'transfer_out', 'adjust'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
