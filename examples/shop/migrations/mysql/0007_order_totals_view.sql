-- Order totals: one row per order, including orders without items.
CREATE VIEW order_totals AS
SELECT o.id AS order_id,
       o.customer_id,
       o.status,
       COUNT(i.product_id) AS line_count,
       COALESCE(SUM(i.quantity), 0) AS item_count,
       COALESCE(SUM(i.quantity * i.unit_price_cents), 0) AS subtotal_cents,
       o.discount_cents,
       COALESCE(SUM(i.quantity * i.unit_price_cents), 0) - o.discount_cents AS total_cents
FROM orders AS o
LEFT JOIN order_items AS i ON i.order_id = o.id
GROUP BY o.id, o.customer_id, o.status, o.discount_cents;
