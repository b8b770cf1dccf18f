//! Orders: placing one (all or nothing), reading it back, shipping, cancelling, purging.

use crate::args;
use crate::catalog::find_product;
use crate::coupons::{redeem_coupon, release_coupon};
use crate::customers::find_customer;
use crate::db::Db;
use crate::error::{ConstraintKind, DbError, ShopError};
use crate::model::{
    CustomerId, Order, OrderId, OrderItem, OrderLine, OrderStatus, OrderTotals, ProductId,
};
use crate::shop::Shop;
use crate::value::Row;

const TOTALS_COLUMNS: &str = "order_id, customer_id, status, line_count, item_count, \
                              subtotal_cents, discount_cents, total_cents";

impl Shop {
    /// Places an order for `customer`, optionally redeeming a coupon.
    ///
    /// All or nothing: the order, its items, the stock they take (a trigger
    /// does that) and the coupon's use are written in one transaction, and
    /// any refusal (unknown or unavailable product, not enough stock, a bad
    /// coupon) rolls all of it back. Lines for the same SKU are merged.
    pub fn place_order(
        &self,
        customer: CustomerId,
        lines: &[OrderLine<'_>],
        coupon: Option<&str>,
    ) -> Result<Order, ShopError> {
        let lines = merge_lines(lines)?;
        self.db.transaction(|db| {
            if find_customer(db, customer)?.is_none() {
                return Err(ShopError::UnknownCustomer { id: customer });
            }
            let order_id = OrderId::new(db.insert(
                "INSERT INTO orders (customer_id, status) VALUES (?, ?)",
                args![customer, OrderStatus::Placed.as_str()],
            )?);
            // Each line is checked right before its item is written, so a
            // refusal on a later line must undo the stock earlier lines took.
            let mut subtotal = 0;
            for (sku, quantity) in &lines {
                let product = find_product(db, sku)?
                    .ok_or_else(|| ShopError::UnknownProduct { sku: sku.clone() })?;
                if !product.active {
                    return Err(ShopError::ProductUnavailable { sku: sku.clone() });
                }
                let out_of_stock = |available| ShopError::OutOfStock {
                    sku: sku.clone(),
                    requested: *quantity,
                    available,
                };
                if product.stock < *quantity {
                    return Err(out_of_stock(product.stock));
                }
                // In a savepoint of its own: on PostgreSQL a failed statement
                // spoils the whole transaction until it is rolled back to a
                // savepoint, and the error path below still reads the stock.
                db.transaction(|db| {
                    add_item(db, order_id, product.id, *quantity, product.price_cents)
                })
                .map_err(|error| {
                    // Another session took the stock between our read and the
                    // trigger's update (possible on servers where a
                    // transaction does not lock up front): the stock CHECK
                    // refused it.
                    if error.violates(ConstraintKind::Check, "stock") {
                        out_of_stock(stock_of(db, product.id).unwrap_or(0))
                    } else {
                        error.into()
                    }
                })?;
                subtotal += quantity * product.price_cents;
            }
            if let Some(code) = coupon {
                let coupon = redeem_coupon(db, code)?;
                db.execute(
                    "UPDATE orders SET coupon_id = ?, discount_cents = ? WHERE id = ?",
                    args![coupon.id, coupon.discount_on(subtotal), order_id],
                )?;
            }
            load_order(db, order_id)
        })
    }

    /// The order with this id, with its items and totals.
    pub fn order(&self, id: OrderId) -> Result<Order, ShopError> {
        load_order(&self.db, id)
    }

    /// The customer's orders, newest first, as rows of the `order_totals` view.
    pub fn orders_for_customer(&self, customer: CustomerId) -> Result<Vec<OrderTotals>, ShopError> {
        self.db
            .query(
                &format!(
                    "SELECT {TOTALS_COLUMNS} FROM order_totals \
                     WHERE customer_id = ? ORDER BY order_id DESC"
                ),
                args![customer],
            )?
            .iter()
            .map(totals_from_row)
            .collect()
    }

    /// Number of orders, whatever their status.
    pub fn order_count(&self) -> Result<i64, ShopError> {
        Ok(self.db.scalar("SELECT COUNT(*) FROM orders", args![])?)
    }

    /// Hands a placed order to the carrier.
    pub fn ship_order(&self, id: OrderId) -> Result<Order, ShopError> {
        self.db.transaction(|db| {
            transition(db, id, OrderStatus::Shipped, "shipped")?;
            load_order(db, id)
        })
    }

    /// Cancels a placed order: its units go back to stock and its coupon use
    /// is given back. Shipped or cancelled orders cannot be cancelled.
    pub fn cancel_order(&self, id: OrderId) -> Result<Order, ShopError> {
        self.db.transaction(|db| {
            transition(db, id, OrderStatus::Cancelled, "cancelled")?;
            db.execute(
                "UPDATE products SET stock = stock + \
                     (SELECT i.quantity FROM order_items AS i \
                      WHERE i.order_id = ? AND i.product_id = products.id) \
                 WHERE id IN (SELECT i.product_id FROM order_items AS i WHERE i.order_id = ?)",
                args![id, id],
            )?;
            let coupon_id = db
                .query_one("SELECT coupon_id FROM orders WHERE id = ?", args![id])?
                .opt_int(0)?;
            release_coupon(db, coupon_id)?;
            load_order(db, id)
        })
    }

    /// Deletes every cancelled order, its items with it (`ON DELETE CASCADE`);
    /// returns how many orders went. Order numbers are not reused afterwards.
    pub fn purge_cancelled_orders(&self) -> Result<u64, ShopError> {
        Ok(self.db.execute(
            "DELETE FROM orders WHERE status = ?",
            args![OrderStatus::Cancelled.as_str()],
        )?)
    }
}

/// Validates the lines and merges those of the same SKU, keeping the order
/// in which SKUs first appear.
fn merge_lines(lines: &[OrderLine<'_>]) -> Result<Vec<(String, i64)>, ShopError> {
    if lines.is_empty() {
        return Err(ShopError::EmptyOrder);
    }
    let mut merged: Vec<(String, i64)> = Vec::with_capacity(lines.len());
    for line in lines {
        let sku = line.sku.trim();
        if line.quantity == 0 {
            return Err(ShopError::ZeroQuantity {
                sku: sku.to_owned(),
            });
        }
        match merged.iter_mut().find(|(seen, _)| seen == sku) {
            Some((_, quantity)) => *quantity += i64::from(line.quantity),
            None => merged.push((sku.to_owned(), i64::from(line.quantity))),
        }
    }
    Ok(merged)
}

fn add_item(
    db: &Db,
    order: OrderId,
    product: ProductId,
    quantity: i64,
    unit_price_cents: i64,
) -> Result<(), DbError> {
    // The `order_items_take_stock` trigger takes the units out of stock.
    db.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
         VALUES (?, ?, ?, ?)",
        args![order, product, quantity, unit_price_cents],
    )?;
    Ok(())
}

fn stock_of(db: &Db, product: ProductId) -> Result<i64, DbError> {
    db.scalar("SELECT stock FROM products WHERE id = ?", args![product])
}

/// Moves a placed order to `to`, refusing any other starting status.
fn transition(
    db: &Db,
    id: OrderId,
    to: OrderStatus,
    action: &'static str,
) -> Result<(), ShopError> {
    let status = order_status(db, id)?;
    if status != OrderStatus::Placed {
        return Err(ShopError::InvalidTransition { id, status, action });
    }
    db.execute(
        "UPDATE orders SET status = ? WHERE id = ?",
        args![to.as_str(), id],
    )?;
    Ok(())
}

fn order_status(db: &Db, id: OrderId) -> Result<OrderStatus, ShopError> {
    let row = db
        .query_opt("SELECT status FROM orders WHERE id = ?", args![id])?
        .ok_or(ShopError::UnknownOrder { id })?;
    parse_status(&row, 0)
}

fn load_order(db: &Db, id: OrderId) -> Result<Order, ShopError> {
    let totals = db
        .query_opt(
            &format!("SELECT {TOTALS_COLUMNS} FROM order_totals WHERE order_id = ?"),
            args![id],
        )?
        .ok_or(ShopError::UnknownOrder { id })?;
    let totals = totals_from_row(&totals)?;
    let coupon_code = db
        .query_one(
            "SELECT c.code FROM orders AS o LEFT JOIN coupons AS c ON c.id = o.coupon_id \
             WHERE o.id = ?",
            args![id],
        )?
        .opt_text(0)?;
    let items = db
        .query(
            "SELECT i.product_id, p.sku, i.quantity, i.unit_price_cents \
             FROM order_items AS i JOIN products AS p ON p.id = i.product_id \
             WHERE i.order_id = ? ORDER BY p.sku",
            args![id],
        )?
        .iter()
        .map(|row| {
            Ok(OrderItem {
                product_id: ProductId::new(row.int(0)?),
                sku: row.text(1)?,
                quantity: row.int(2)?,
                unit_price_cents: row.int(3)?,
            })
        })
        .collect::<Result<Vec<_>, ShopError>>()?;
    Ok(Order {
        id,
        customer_id: totals.customer_id,
        status: totals.status,
        coupon_code,
        items,
        subtotal_cents: totals.subtotal_cents,
        discount_cents: totals.discount_cents,
        total_cents: totals.total_cents,
    })
}

fn totals_from_row(row: &Row) -> Result<OrderTotals, ShopError> {
    Ok(OrderTotals {
        order_id: OrderId::new(row.int(0)?),
        customer_id: CustomerId::new(row.int(1)?),
        status: parse_status(row, 2)?,
        line_count: row.int(3)?,
        item_count: row.int(4)?,
        subtotal_cents: row.int(5)?,
        discount_cents: row.int(6)?,
        total_cents: row.int(7)?,
    })
}

fn parse_status(row: &Row, index: usize) -> Result<OrderStatus, ShopError> {
    let text = row.text(index)?;
    OrderStatus::parse(&text).ok_or_else(|| {
        DbError::Decode {
            index,
            expected: "an order status",
            found: Some(text.into()),
        }
        .into()
    })
}
