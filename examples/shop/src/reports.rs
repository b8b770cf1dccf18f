//! Reports over sales: best sellers, revenue per category, best customers, low stock.
//!
//! Cancelled orders never count as sales.

use crate::args;
use crate::catalog::product_from_row;
use crate::error::ShopError;
use crate::model::{CategoryRevenue, CustomerId, CustomerSpend, Product, TopProduct};
use crate::shop::Shop;

impl Shop {
    /// The `limit` best-selling products by units sold, ties broken by SKU.
    pub fn top_products(&self, limit: u32) -> Result<Vec<TopProduct>, ShopError> {
        self.db
            .query(
                "SELECT p.sku, p.name, SUM(i.quantity) AS units_sold, \
                        SUM(i.quantity * i.unit_price_cents) AS revenue_cents \
                 FROM order_items AS i \
                 JOIN orders AS o ON o.id = i.order_id \
                 JOIN products AS p ON p.id = i.product_id \
                 WHERE o.status <> 'cancelled' \
                 GROUP BY p.id, p.sku, p.name \
                 ORDER BY units_sold DESC, p.sku \
                 LIMIT ?",
                args![limit],
            )?
            .iter()
            .map(|row| {
                Ok(TopProduct {
                    sku: row.text(0)?,
                    name: row.text(1)?,
                    units_sold: row.int(2)?,
                    revenue_cents: row.int(3)?,
                })
            })
            .collect()
    }

    /// Sales of every category, those without sales included, by revenue
    /// (highest first) then slug. Revenue is counted before discounts, which
    /// apply to whole orders.
    pub fn revenue_by_category(&self) -> Result<Vec<CategoryRevenue>, ShopError> {
        self.db
            .query(
                "SELECT c.slug, c.name, COUNT(DISTINCT s.order_id) AS orders, \
                        COALESCE(SUM(s.quantity), 0) AS units_sold, \
                        COALESCE(SUM(s.quantity * s.unit_price_cents), 0) AS revenue_cents \
                 FROM categories AS c \
                 LEFT JOIN products AS p ON p.category_id = c.id \
                 LEFT JOIN (SELECT i.order_id, i.product_id, i.quantity, i.unit_price_cents \
                            FROM order_items AS i JOIN orders AS o ON o.id = i.order_id \
                            WHERE o.status <> 'cancelled') AS s ON s.product_id = p.id \
                 GROUP BY c.id, c.slug, c.name \
                 ORDER BY revenue_cents DESC, c.slug",
                args![],
            )?
            .iter()
            .map(|row| {
                Ok(CategoryRevenue {
                    slug: row.text(0)?,
                    name: row.text(1)?,
                    orders: row.int(2)?,
                    units_sold: row.int(3)?,
                    revenue_cents: row.int(4)?,
                })
            })
            .collect()
    }

    /// What customers paid in total, after discounts, in cents.
    pub fn net_revenue(&self) -> Result<i64, ShopError> {
        Ok(self.db.scalar(
            "SELECT COALESCE(SUM(total_cents), 0) FROM order_totals WHERE status <> 'cancelled'",
            args![],
        )?)
    }

    /// The `limit` customers who spent the most, ties broken by email.
    /// Customers without a sale are not listed.
    pub fn top_customers(&self, limit: u32) -> Result<Vec<CustomerSpend>, ShopError> {
        self.db
            .query(
                "SELECT c.id, c.email, COUNT(t.order_id) AS orders, \
                        SUM(t.total_cents) AS spent_cents \
                 FROM customers AS c \
                 JOIN order_totals AS t ON t.customer_id = c.id \
                 WHERE t.status <> 'cancelled' \
                 GROUP BY c.id, c.email \
                 ORDER BY spent_cents DESC, c.email \
                 LIMIT ?",
                args![limit],
            )?
            .iter()
            .map(|row| {
                Ok(CustomerSpend {
                    customer_id: CustomerId::new(row.int(0)?),
                    email: row.text(1)?,
                    orders: row.int(2)?,
                    spent_cents: row.int(3)?,
                })
            })
            .collect()
    }

    /// Products still sold whose stock is at or below `threshold`, lowest
    /// stock first, then by SKU.
    pub fn low_stock(&self, threshold: i64) -> Result<Vec<Product>, ShopError> {
        self.db
            .query(
                "SELECT p.id, p.sku, p.name, p.description, p.category_id, p.price_cents, \
                        p.stock, p.active \
                 FROM products AS p WHERE p.active AND p.stock <= ? \
                 ORDER BY p.stock, p.sku",
                args![threshold],
            )?
            .iter()
            .map(product_from_row)
            .collect()
    }
}
