//! Customer accounts: registration, look-up, email changes, marketing consent, deletion.

use crate::args;
use crate::db::Db;
use crate::error::{ConstraintKind, ShopError};
use crate::model::{Customer, CustomerId};
use crate::shop::Shop;
use crate::value::Row;

const CUSTOMER_COLUMNS: &str = "id, email, name, marketing_opt_in";

impl Shop {
    /// Registers a customer. The email address is trimmed and lower-cased
    /// first; an address registers once.
    pub fn register_customer(&self, email: &str, name: &str) -> Result<Customer, ShopError> {
        let email = normalize_email(email)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(ShopError::BlankName);
        }
        let id = self
            .db
            .insert(
                "INSERT INTO customers (email, name) VALUES (?, ?)",
                args![&email, name],
            )
            .map_err(|error| {
                if error.is_unique_violation() {
                    ShopError::EmailTaken {
                        email: email.clone(),
                    }
                } else {
                    error.into()
                }
            })?;
        Ok(Customer {
            id: CustomerId::new(id),
            email,
            name: name.to_owned(),
            marketing_opt_in: false,
        })
    }

    /// The customer with this id.
    pub fn customer(&self, id: CustomerId) -> Result<Customer, ShopError> {
        find_customer(&self.db, id)?.ok_or(ShopError::UnknownCustomer { id })
    }

    /// The customer registered with this address, if any (the address is normalized first).
    pub fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, ShopError> {
        let email = normalize_email(email)?;
        let row = self.db.query_opt(
            &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE email = ?"),
            args![email],
        )?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// All customers, in order of registration.
    pub fn customers(&self) -> Result<Vec<Customer>, ShopError> {
        self.db
            .query(
                &format!("SELECT {CUSTOMER_COLUMNS} FROM customers ORDER BY id"),
                args![],
            )?
            .iter()
            .map(customer_from_row)
            .collect()
    }

    /// Number of registered customers.
    pub fn customer_count(&self) -> Result<i64, ShopError> {
        Ok(self.db.scalar("SELECT COUNT(*) FROM customers", args![])?)
    }

    /// Changes a customer's email address; the new one must not be registered yet.
    pub fn change_email(&self, id: CustomerId, new_email: &str) -> Result<Customer, ShopError> {
        let email = normalize_email(new_email)?;
        let changed = self
            .db
            .execute(
                "UPDATE customers SET email = ? WHERE id = ?",
                args![&email, id],
            )
            .map_err(|error| {
                if error.is_unique_violation() {
                    ShopError::EmailTaken {
                        email: email.clone(),
                    }
                } else {
                    error.into()
                }
            })?;
        if changed == 0 {
            return Err(ShopError::UnknownCustomer { id });
        }
        self.customer(id)
    }

    /// Records whether the customer wants marketing email.
    pub fn set_marketing_opt_in(&self, id: CustomerId, opt_in: bool) -> Result<(), ShopError> {
        let changed = self.db.execute(
            "UPDATE customers SET marketing_opt_in = ? WHERE id = ?",
            args![opt_in, id],
        )?;
        if changed == 0 {
            return Err(ShopError::UnknownCustomer { id });
        }
        Ok(())
    }

    /// Addresses of the customers who opted in to marketing email, sorted.
    pub fn marketing_audience(&self) -> Result<Vec<String>, ShopError> {
        self.db
            .query(
                "SELECT email FROM customers WHERE marketing_opt_in ORDER BY email",
                args![],
            )?
            .iter()
            .map(|row| Ok(row.text(0)?))
            .collect()
    }

    /// Deletes a customer account. Customers with orders stay: the orders
    /// reference them (the foreign key refuses the delete).
    pub fn delete_customer(&self, id: CustomerId) -> Result<(), ShopError> {
        let deleted = self
            .db
            .execute("DELETE FROM customers WHERE id = ?", args![id])
            .map_err(|error| {
                if error.constraint() == Some(ConstraintKind::ForeignKey) {
                    ShopError::CustomerHasOrders { id }
                } else {
                    error.into()
                }
            })?;
        if deleted == 0 {
            return Err(ShopError::UnknownCustomer { id });
        }
        Ok(())
    }
}

pub(crate) fn find_customer(db: &Db, id: CustomerId) -> Result<Option<Customer>, ShopError> {
    let row = db.query_opt(
        &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?"),
        args![id],
    )?;
    row.as_ref().map(customer_from_row).transpose()
}

fn customer_from_row(row: &Row) -> Result<Customer, ShopError> {
    Ok(Customer {
        id: CustomerId::new(row.int(0)?),
        email: row.text(1)?,
        name: row.text(2)?,
        marketing_opt_in: row.bool(3)?,
    })
}

/// Trims and lower-cases an address, and checks it has the shape
/// `local@domain.tld` without whitespace.
fn normalize_email(email: &str) -> Result<String, ShopError> {
    let normalized = email.trim().to_lowercase();
    let valid = match normalized.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !normalized.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(normalized)
    } else {
        Err(ShopError::InvalidEmail {
            email: email.to_owned(),
        })
    }
}
