-- Suppliers products are reordered from, pack sizes, stock reserved for
-- orders, and transfers on their way between warehouses.
CREATE TABLE suppliers (
    id             BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code           VARCHAR(16) NOT NULL,
    name           VARCHAR(200) NOT NULL,
    lead_time_days INT NOT NULL,
    CONSTRAINT suppliers_code_key UNIQUE (code),
    CONSTRAINT suppliers_lead_time_check CHECK (lead_time_days >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE products ADD COLUMN supplier_id BIGINT NULL,
    ADD COLUMN pack_size INT NOT NULL DEFAULT 1,
    ADD CONSTRAINT products_supplier_fk FOREIGN KEY (supplier_id) REFERENCES suppliers (id) ON DELETE SET NULL,
    ADD CONSTRAINT products_pack_check CHECK (pack_size > 0);

CREATE TABLE reservations (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    product_id   BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    order_ref    VARCHAR(100) NOT NULL,
    units        INT NOT NULL,
    status       VARCHAR(16) NOT NULL DEFAULT 'open',
    CONSTRAINT reservations_once UNIQUE (order_ref, product_id, warehouse_id),
    CONSTRAINT reservations_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT reservations_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES warehouses (id),
    CONSTRAINT reservations_units_check CHECK (units > 0),
    CONSTRAINT reservations_status_check CHECK (status IN ('open', 'fulfilled', 'released'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE transfers (
    id             BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    product_id     BIGINT NOT NULL,
    source_id      BIGINT NOT NULL,
    destination_id BIGINT NOT NULL,
    units          INT NOT NULL,
    reference      VARCHAR(100) NOT NULL,
    status         VARCHAR(16) NOT NULL DEFAULT 'in_transit',
    CONSTRAINT transfers_reference_key UNIQUE (reference),
    CONSTRAINT transfers_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT transfers_source_fk FOREIGN KEY (source_id) REFERENCES warehouses (id),
    CONSTRAINT transfers_destination_fk FOREIGN KEY (destination_id) REFERENCES warehouses (id),
    CONSTRAINT transfers_units_check CHECK (units > 0),
    CONSTRAINT transfers_status_check CHECK (status IN ('in_transit', 'arrived', 'cancelled')),
    CONSTRAINT transfers_two_warehouses CHECK (source_id <> destination_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
