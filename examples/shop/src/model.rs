//! The shop's domain types: ids, customers, products, orders, coupons and report rows.

use std::fmt;

use crate::value::Value;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw database id.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for Value {
            fn from(id: $name) -> Self {
                Value::Int(id.0)
            }
        }
    };
}

id_type!(
    /// Id of a row of `customers`.
    CustomerId
);
id_type!(
    /// Id of a row of `categories`.
    CategoryId
);
id_type!(
    /// Id of a row of `products`.
    ProductId
);
id_type!(
    /// Id of a row of `orders`: the order number, never reused.
    OrderId
);
id_type!(
    /// Id of a row of `coupons`.
    CouponId
);

/// A registered customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Its id.
    pub id: CustomerId,
    /// Its email address, trimmed and lower-case.
    pub email: String,
    /// Its display name.
    pub name: String,
    /// Whether it agreed to receive marketing email.
    pub marketing_opt_in: bool,
}

/// A product category (reference data seeded by the migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// Its stable short name, e.g. `books`.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

/// What it takes to add a product to the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewProduct<'a> {
    /// Stock-keeping unit: unique, no whitespace.
    pub sku: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Free text, may be empty.
    pub description: &'a str,
    /// Slug of the product's category.
    pub category: &'a str,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i64,
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Its unique SKU.
    pub sku: String,
    /// Its display name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its category.
    pub category_id: CategoryId,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i64,
    /// Whether it is still sold.
    pub active: bool,
}

/// One change of a product's price, as recorded by the `products_price_history` trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceChange {
    /// Price before the change, in cents.
    pub old_price_cents: i64,
    /// Price after the change, in cents.
    pub new_price_cents: i64,
}

/// A catalog search. Every criterion given must match; the default matches
/// every active product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProductQuery<'a> {
    /// Case-insensitive substring of the name or the SKU, taken literally
    /// (`%` and `_` are not wildcards).
    pub text: Option<&'a str>,
    /// Slug of the category.
    pub category: Option<&'a str>,
    /// Highest unit price, in cents, inclusive.
    pub max_price_cents: Option<i64>,
    /// Only products with at least one unit in stock.
    pub in_stock_only: bool,
}

/// One line of an order being placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine<'a> {
    /// The product's SKU.
    pub sku: &'a str,
    /// Units ordered.
    pub quantity: u32,
}

impl<'a> OrderLine<'a> {
    /// `quantity` units of the product `sku`.
    pub fn new(sku: &'a str, quantity: u32) -> Self {
        Self { sku, quantity }
    }
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed and paid, stock taken.
    Placed,
    /// Handed to the carrier.
    Shipped,
    /// Cancelled before shipping, stock given back.
    Cancelled,
}

impl OrderStatus {
    /// The value stored in `orders.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a value of `orders.status`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "placed" => Some(Self::Placed),
            "shipped" => Some(Self::Shipped),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order with its items and totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id (the order number).
    pub id: OrderId,
    /// Who placed it.
    pub customer_id: CustomerId,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// The coupon redeemed with it, if any.
    pub coupon_code: Option<String>,
    /// Its items, in SKU order.
    pub items: Vec<OrderItem>,
    /// Sum of quantity × unit price over the items, in cents.
    pub subtotal_cents: i64,
    /// The coupon's discount, in cents.
    pub discount_cents: i64,
    /// What the customer pays: subtotal minus discount, in cents.
    pub total_cents: i64,
}

impl Order {
    /// Units ordered, over all items.
    pub fn unit_count(&self) -> i64 {
        self.items.iter().map(|item| item.quantity).sum()
    }
}

/// One item of an order: a product, how many, at what price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Units ordered.
    pub quantity: i64,
    /// Unit price when the order was placed, in cents.
    pub unit_price_cents: i64,
}

/// One row of the `order_totals` view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTotals {
    /// The order.
    pub order_id: OrderId,
    /// Who placed it.
    pub customer_id: CustomerId,
    /// Its status.
    pub status: OrderStatus,
    /// Number of items (distinct products).
    pub line_count: i64,
    /// Number of units over all items.
    pub item_count: i64,
    /// Sum of quantity × unit price, in cents.
    pub subtotal_cents: i64,
    /// Discount, in cents.
    pub discount_cents: i64,
    /// Subtotal minus discount, in cents.
    pub total_cents: i64,
}

/// A discount code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    /// Its id.
    pub id: CouponId,
    /// Its code, upper-case.
    pub code: String,
    /// Percentage taken off an order's subtotal (1 to 100).
    pub percent_off: i64,
    /// How many orders may use it (`None`: unlimited).
    pub max_uses: Option<i64>,
    /// How many placed orders used it.
    pub times_used: i64,
    /// Whether it can still be redeemed.
    pub active: bool,
}

impl Coupon {
    /// Uses left before the limit (`None`: unlimited).
    pub fn remaining_uses(&self) -> Option<i64> {
        self.max_uses.map(|max| max - self.times_used)
    }

    /// The discount this coupon gives on `subtotal_cents`, rounded down to the cent.
    pub fn discount_on(&self, subtotal_cents: i64) -> i64 {
        subtotal_cents * self.percent_off / 100
    }
}

/// A best-selling product (cancelled orders not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProduct {
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units sold.
    pub units_sold: i64,
    /// Revenue before discounts, in cents.
    pub revenue_cents: i64,
}

/// Sales of one category (cancelled orders not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRevenue {
    /// The category's slug.
    pub slug: String,
    /// The category's name.
    pub name: String,
    /// Orders with at least one item of the category.
    pub orders: i64,
    /// Units sold.
    pub units_sold: i64,
    /// Revenue before discounts, in cents.
    pub revenue_cents: i64,
}

/// What one customer spent (cancelled orders not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSpend {
    /// The customer.
    pub customer_id: CustomerId,
    /// Its email address.
    pub email: String,
    /// Orders placed and not cancelled.
    pub orders: i64,
    /// Total paid after discounts, in cents.
    pub spent_cents: i64,
}
