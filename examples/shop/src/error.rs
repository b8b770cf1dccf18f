//! The shop's errors: what the database layer reports, and what a business operation refuses.

use std::fmt;

use crate::model::{CustomerId, OrderId, OrderStatus};
use crate::value::Value;

/// A boxed error from the database client, kept as the source of a [`DbError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which kind of constraint a statement violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintKind {
    /// A `UNIQUE` or `PRIMARY KEY` constraint.
    Unique,
    /// A `CHECK` constraint.
    Check,
    /// A `FOREIGN KEY` constraint.
    ForeignKey,
    /// A `NOT NULL` constraint.
    NotNull,
    /// Any other constraint (e.g. one raised by a trigger).
    Other,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unique => "unique",
            Self::Check => "check",
            Self::ForeignKey => "foreign key",
            Self::NotNull => "not null",
            Self::Other => "other",
        })
    }
}

/// A failed database operation, classified so the domain code can react to
/// constraint violations without knowing which client produced them.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The statement violated a constraint.
    #[error("violated a {kind} constraint")]
    Constraint {
        /// The kind of constraint.
        kind: ConstraintKind,
        /// The server's words about it, naming the constraint or its columns
        /// (SQLite: `CHECK constraint failed: products_stock_check`).
        detail: String,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The database stayed locked by another connection for too long.
    #[error("database is busy")]
    Busy {
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// A query that must return a row returned none.
    #[error("query returned no rows")]
    NoRows,
    /// A column did not hold the type the code reads it as.
    #[error("column {index} is not {expected} (found {found:?})")]
    Decode {
        /// Zero-based column index.
        index: usize,
        /// What the code expected.
        expected: &'static str,
        /// What the row held (`None`: no such column).
        found: Option<Value>,
    },
    /// Anything else the client reported.
    #[error("database error")]
    Other {
        /// The client's error.
        #[source]
        source: BoxError,
    },
}

impl DbError {
    /// The kind of constraint violated, if this is a constraint violation.
    pub fn constraint(&self) -> Option<ConstraintKind> {
        match self {
            Self::Constraint { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The server's description of a constraint violation, empty otherwise.
    pub fn detail(&self) -> &str {
        match self {
            Self::Constraint { detail, .. } => detail,
            _ => "",
        }
    }

    /// Whether this is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        self.constraint() == Some(ConstraintKind::Unique)
    }

    /// Whether this is a violation of a constraint of `kind` whose description mentions `name`.
    pub fn violates(&self, kind: ConstraintKind, name: &str) -> bool {
        self.constraint() == Some(kind) && self.detail().contains(name)
    }
}

/// Why a business operation of the shop was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    /// The email address is not one the shop accepts.
    #[error("invalid email address {email:?}")]
    InvalidEmail {
        /// The address as given.
        email: String,
    },
    /// A customer's name must not be blank.
    #[error("customer name is blank")]
    BlankName,
    /// Another customer already registered this address.
    #[error("email address {email} is already registered")]
    EmailTaken {
        /// The normalized address.
        email: String,
    },
    /// No customer has this id.
    #[error("no customer with id {id}")]
    UnknownCustomer {
        /// The id asked for.
        id: CustomerId,
    },
    /// The customer has orders, which keep their customer.
    #[error("customer {id} has orders and cannot be deleted")]
    CustomerHasOrders {
        /// The customer.
        id: CustomerId,
    },
    /// A product field is out of range.
    #[error("invalid product {sku:?}: {reason}")]
    InvalidProduct {
        /// The product's SKU as given.
        sku: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another product already uses this SKU.
    #[error("sku {sku} is already taken")]
    SkuTaken {
        /// The SKU.
        sku: String,
    },
    /// No category has this slug.
    #[error("unknown category {slug:?}")]
    UnknownCategory {
        /// The slug asked for.
        slug: String,
    },
    /// No product has this SKU.
    #[error("unknown product {sku:?}")]
    UnknownProduct {
        /// The SKU asked for.
        sku: String,
    },
    /// The product exists but is no longer sold.
    #[error("product {sku} is no longer sold")]
    ProductUnavailable {
        /// The product's SKU.
        sku: String,
    },
    /// Not enough units in stock for an order line.
    #[error("not enough {sku} in stock: {requested} requested, {available} available")]
    OutOfStock {
        /// The product's SKU.
        sku: String,
        /// Units the order asked for.
        requested: i64,
        /// Units in stock when the order was placed.
        available: i64,
    },
    /// An order needs at least one line.
    #[error("order has no lines")]
    EmptyOrder,
    /// An order line must ask for at least one unit.
    #[error("order line for {sku} asks for no units")]
    ZeroQuantity {
        /// The line's SKU.
        sku: String,
    },
    /// No order has this id.
    #[error("no order with id {id}")]
    UnknownOrder {
        /// The id asked for.
        id: OrderId,
    },
    /// The order's status does not allow the requested change.
    #[error("order {id} is {status} and cannot be {action}")]
    InvalidTransition {
        /// The order.
        id: OrderId,
        /// Its current status.
        status: OrderStatus,
        /// What was asked (`"cancelled"`, `"shipped"`).
        action: &'static str,
    },
    /// A coupon's fields are out of range.
    #[error("invalid coupon {code:?}: {reason}")]
    InvalidCoupon {
        /// The code as given.
        code: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another coupon already uses this code.
    #[error("coupon code {code} is already taken")]
    CouponCodeTaken {
        /// The normalized code.
        code: String,
    },
    /// No coupon has this code.
    #[error("unknown coupon {code:?}")]
    UnknownCoupon {
        /// The normalized code.
        code: String,
    },
    /// The coupon was switched off.
    #[error("coupon {code} is no longer active")]
    CouponInactive {
        /// The coupon's code.
        code: String,
    },
    /// The coupon reached its usage limit.
    #[error("coupon {code} was already used {max_uses} times")]
    CouponExhausted {
        /// The coupon's code.
        code: String,
        /// Its usage limit.
        max_uses: i64,
    },
    /// The database failed in a way the operation does not handle.
    #[error("database operation failed")]
    Db(#[from] DbError),
}
