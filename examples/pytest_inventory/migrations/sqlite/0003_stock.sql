-- What is where, and every change to it.
CREATE TABLE stock (
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity     INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (warehouse_id, product_id)
) STRICT;

CREATE TABLE movements (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    delta        INTEGER NOT NULL CHECK (delta <> 0),
    reason       TEXT NOT NULL
        CHECK (reason IN ('receive', 'ship', 'transfer_in', 'transfer_out', 'adjust')),
    reference    TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- A delivery note or order is booked once per product and warehouse.
    CONSTRAINT movements_once UNIQUE (reason, reference, product_id, warehouse_id)
) STRICT;
