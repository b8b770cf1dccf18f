-- Suppliers products are reordered from, pack sizes, stock reserved for
-- orders, and transfers on their way between warehouses.
CREATE TABLE suppliers (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL CONSTRAINT suppliers_code_key UNIQUE,
    name           TEXT NOT NULL,
    lead_time_days INTEGER NOT NULL CHECK (lead_time_days >= 0)
) STRICT;

ALTER TABLE products ADD COLUMN supplier_id INTEGER REFERENCES suppliers (id) ON DELETE SET NULL;
ALTER TABLE products ADD COLUMN pack_size INTEGER NOT NULL DEFAULT 1 CHECK (pack_size > 0);

CREATE TABLE reservations (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    order_ref    TEXT NOT NULL,
    units        INTEGER NOT NULL CHECK (units > 0),
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fulfilled', 'released')),
    CONSTRAINT reservations_once UNIQUE (order_ref, product_id, warehouse_id)
) STRICT;

CREATE TABLE transfers (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    source_id      INTEGER NOT NULL REFERENCES warehouses (id),
    destination_id INTEGER NOT NULL REFERENCES warehouses (id),
    units          INTEGER NOT NULL CHECK (units > 0),
    reference      TEXT NOT NULL CONSTRAINT transfers_reference_key UNIQUE,
    status         TEXT NOT NULL DEFAULT 'in_transit' CHECK (status IN ('in_transit', 'arrived', 'cancelled')),
    CONSTRAINT transfers_two_warehouses CHECK (source_id <> destination_id)
) STRICT;
