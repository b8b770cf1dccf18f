//! The catalog: categories, products, prices and their history, stock, search.

use crate::args;
use crate::db::Db;
use crate::error::ShopError;
use crate::model::{
    Category, CategoryId, NewProduct, PriceChange, Product, ProductId, ProductQuery,
};
use crate::shop::Shop;
use crate::value::{Row, Value};

const PRODUCT_COLUMNS: &str =
    "p.id, p.sku, p.name, p.description, p.category_id, p.price_cents, p.stock, p.active";

/// The escape character of the catalog search's `LIKE` patterns. Not a
/// backslash: MySQL would read that as a string escape first.
const LIKE_ESCAPE: char = '!';

impl Shop {
    /// All categories, by slug.
    pub fn categories(&self) -> Result<Vec<Category>, ShopError> {
        self.db
            .query(
                "SELECT id, slug, name FROM categories ORDER BY slug",
                args![],
            )?
            .iter()
            .map(category_from_row)
            .collect()
    }

    /// The category with this slug.
    pub fn category(&self, slug: &str) -> Result<Category, ShopError> {
        let row = self.db.query_opt(
            "SELECT id, slug, name FROM categories WHERE slug = ?",
            args![slug],
        )?;
        match row {
            Some(row) => category_from_row(&row),
            None => Err(ShopError::UnknownCategory {
                slug: slug.to_owned(),
            }),
        }
    }

    /// Adds a product to the catalog.
    pub fn add_product(&self, new: &NewProduct<'_>) -> Result<Product, ShopError> {
        let sku = new.sku.trim();
        let name = new.name.trim();
        let invalid = |reason| ShopError::InvalidProduct {
            sku: new.sku.to_owned(),
            reason,
        };
        if sku.is_empty() || sku.chars().any(char::is_whitespace) {
            return Err(invalid("the sku must be non-empty and without whitespace"));
        }
        if name.is_empty() {
            return Err(invalid("the name is blank"));
        }
        if new.price_cents < 0 {
            return Err(invalid("the price is negative"));
        }
        if new.stock < 0 {
            return Err(invalid("the stock is negative"));
        }
        let category = self.category(new.category)?;
        let id = self
            .db
            .insert(
                "INSERT INTO products (sku, name, description, category_id, price_cents, stock) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                args![
                    sku,
                    name,
                    new.description,
                    category.id,
                    new.price_cents,
                    new.stock
                ],
            )
            .map_err(|error| {
                if error.is_unique_violation() {
                    ShopError::SkuTaken {
                        sku: sku.to_owned(),
                    }
                } else {
                    error.into()
                }
            })?;
        Ok(Product {
            id: ProductId::new(id),
            sku: sku.to_owned(),
            name: name.to_owned(),
            description: new.description.to_owned(),
            category_id: category.id,
            price_cents: new.price_cents,
            stock: new.stock,
            active: true,
        })
    }

    /// The product with this SKU.
    pub fn product(&self, sku: &str) -> Result<Product, ShopError> {
        find_product(&self.db, sku)?.ok_or_else(|| ShopError::UnknownProduct {
            sku: sku.to_owned(),
        })
    }

    /// Number of products in the catalog, sold or not.
    pub fn product_count(&self) -> Result<i64, ShopError> {
        Ok(self.db.scalar("SELECT COUNT(*) FROM products", args![])?)
    }

    /// Changes a product's unit price. Orders already placed keep their price;
    /// the change is recorded in the price history by a trigger.
    pub fn set_price(&self, sku: &str, price_cents: i64) -> Result<(), ShopError> {
        if price_cents < 0 {
            return Err(ShopError::InvalidProduct {
                sku: sku.to_owned(),
                reason: "the price is negative",
            });
        }
        let changed = self.db.execute(
            "UPDATE products SET price_cents = ? WHERE sku = ?",
            args![price_cents, sku],
        )?;
        require_changed(changed, sku)
    }

    /// The product's price changes, oldest first.
    pub fn price_history(&self, sku: &str) -> Result<Vec<PriceChange>, ShopError> {
        let product = self.product(sku)?;
        self.db
            .query(
                "SELECT old_price_cents, new_price_cents FROM price_history \
                 WHERE product_id = ? ORDER BY id",
                args![product.id],
            )?
            .iter()
            .map(|row| {
                Ok(PriceChange {
                    old_price_cents: row.int(0)?,
                    new_price_cents: row.int(1)?,
                })
            })
            .collect()
    }

    /// Adds delivered units to a product's stock; returns the new stock.
    pub fn restock(&self, sku: &str, units: u32) -> Result<i64, ShopError> {
        self.db.transaction(|db| {
            let changed = db.execute(
                "UPDATE products SET stock = stock + ? WHERE sku = ?",
                args![units, sku],
            )?;
            require_changed(changed, sku)?;
            Ok(db.scalar("SELECT stock FROM products WHERE sku = ?", args![sku])?)
        })
    }

    /// Takes a product out of sale. It stays in the catalog for the orders
    /// that reference it, but is no longer found or ordered.
    pub fn deactivate_product(&self, sku: &str) -> Result<(), ShopError> {
        let changed = self.db.execute(
            "UPDATE products SET active = FALSE WHERE sku = ?",
            args![sku],
        )?;
        require_changed(changed, sku)
    }

    /// Active products matching every criterion of `query`, by name then SKU.
    pub fn search_products(&self, query: &ProductQuery<'_>) -> Result<Vec<Product>, ShopError> {
        let mut sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products AS p \
             JOIN categories AS c ON c.id = p.category_id WHERE p.active"
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(text) = query.text {
            let pattern = format!("%{}%", escape_like(text.trim()));
            sql.push_str(&format!(
                " AND (lower(p.name) LIKE lower(?) ESCAPE '{LIKE_ESCAPE}' \
                 OR lower(p.sku) LIKE lower(?) ESCAPE '{LIKE_ESCAPE}')"
            ));
            args.push(Value::from(pattern.as_str()));
            args.push(Value::from(pattern));
        }
        if let Some(category) = query.category {
            sql.push_str(" AND c.slug = ?");
            args.push(Value::from(category));
        }
        if let Some(max_price) = query.max_price_cents {
            sql.push_str(" AND p.price_cents <= ?");
            args.push(Value::from(max_price));
        }
        if query.in_stock_only {
            sql.push_str(" AND p.stock > 0");
        }
        sql.push_str(" ORDER BY p.name, p.sku");
        self.db
            .query(&sql, &args)?
            .iter()
            .map(product_from_row)
            .collect()
    }
}

/// An update by SKU that changed no row means there is no such product.
fn require_changed(changed: u64, sku: &str) -> Result<(), ShopError> {
    if changed == 0 {
        Err(ShopError::UnknownProduct {
            sku: sku.to_owned(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn find_product(db: &Db, sku: &str) -> Result<Option<Product>, ShopError> {
    let row = db.query_opt(
        &format!("SELECT {PRODUCT_COLUMNS} FROM products AS p WHERE p.sku = ?"),
        args![sku],
    )?;
    row.as_ref().map(product_from_row).transpose()
}

pub(crate) fn product_from_row(row: &Row) -> Result<Product, ShopError> {
    Ok(Product {
        id: ProductId::new(row.int(0)?),
        sku: row.text(1)?,
        name: row.text(2)?,
        description: row.text(3)?,
        category_id: CategoryId::new(row.int(4)?),
        price_cents: row.int(5)?,
        stock: row.int(6)?,
        active: row.bool(7)?,
    })
}

fn category_from_row(row: &Row) -> Result<Category, ShopError> {
    Ok(Category {
        id: CategoryId::new(row.int(0)?),
        slug: row.text(1)?,
        name: row.text(2)?,
    })
}

/// Makes `text` match literally inside a `LIKE` pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || c == '_' || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}
