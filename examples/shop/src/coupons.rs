//! Coupons: unique codes worth a percentage off, with an optional usage limit.

use crate::args;
use crate::db::Db;
use crate::error::ShopError;
use crate::model::{Coupon, CouponId};
use crate::shop::Shop;
use crate::value::Row;

const COUPON_COLUMNS: &str = "id, code, percent_off, max_uses, times_used, active";

impl Shop {
    /// Creates a coupon. Codes are trimmed and upper-cased; a code exists once.
    pub fn create_coupon(
        &self,
        code: &str,
        percent_off: i64,
        max_uses: Option<i64>,
    ) -> Result<Coupon, ShopError> {
        let normalized = normalize_code(code);
        let invalid = |reason| ShopError::InvalidCoupon {
            code: code.to_owned(),
            reason,
        };
        if normalized.len() < 3
            || !normalized
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid(
                "the code needs 3 or more letters, digits or dashes",
            ));
        }
        if !(1..=100).contains(&percent_off) {
            return Err(invalid("the percentage must be between 1 and 100"));
        }
        if max_uses.is_some_and(|max| max < 1) {
            return Err(invalid("the usage limit must be at least 1"));
        }
        let id = self
            .db
            .insert(
                "INSERT INTO coupons (code, percent_off, max_uses) VALUES (?, ?, ?)",
                args![&normalized, percent_off, max_uses],
            )
            .map_err(|error| {
                if error.is_unique_violation() {
                    ShopError::CouponCodeTaken {
                        code: normalized.clone(),
                    }
                } else {
                    error.into()
                }
            })?;
        Ok(Coupon {
            id: CouponId::new(id),
            code: normalized,
            percent_off,
            max_uses,
            times_used: 0,
            active: true,
        })
    }

    /// The coupon with this code (normalized first).
    pub fn coupon(&self, code: &str) -> Result<Coupon, ShopError> {
        let code = normalize_code(code);
        find_coupon(&self.db, &code)?.ok_or(ShopError::UnknownCoupon { code })
    }

    /// Number of coupons, active or not.
    pub fn coupon_count(&self) -> Result<i64, ShopError> {
        Ok(self.db.scalar("SELECT COUNT(*) FROM coupons", args![])?)
    }

    /// Switches a coupon off: orders already placed keep their discount.
    pub fn deactivate_coupon(&self, code: &str) -> Result<(), ShopError> {
        let code = normalize_code(code);
        let changed = self.db.execute(
            "UPDATE coupons SET active = FALSE WHERE code = ?",
            args![&code],
        )?;
        if changed == 0 {
            return Err(ShopError::UnknownCoupon { code });
        }
        Ok(())
    }
}

/// Counts one use of the coupon `code`, refusing an unknown, inactive or
/// exhausted one. Runs inside the transaction of the order that redeems it.
pub(crate) fn redeem_coupon(db: &Db, code: &str) -> Result<Coupon, ShopError> {
    let code = normalize_code(code);
    let Some(coupon) = find_coupon(db, &code)? else {
        return Err(ShopError::UnknownCoupon { code });
    };
    if !coupon.active {
        return Err(ShopError::CouponInactive { code });
    }
    // The limit is checked by the UPDATE itself, so two orders redeeming the
    // last use at the same time cannot both get it.
    let counted = db.execute(
        "UPDATE coupons SET times_used = times_used + 1 \
         WHERE id = ? AND (max_uses IS NULL OR times_used < max_uses)",
        args![coupon.id],
    )?;
    if counted == 0 {
        return Err(ShopError::CouponExhausted {
            code,
            max_uses: coupon.max_uses.unwrap_or_default(),
        });
    }
    Ok(Coupon {
        times_used: coupon.times_used + 1,
        ..coupon
    })
}

/// Gives back the use an order made of its coupon, if it had one.
pub(crate) fn release_coupon(db: &Db, coupon_id: Option<i64>) -> Result<(), ShopError> {
    if let Some(id) = coupon_id {
        db.execute(
            "UPDATE coupons SET times_used = times_used - 1 WHERE id = ? AND times_used > 0",
            args![id],
        )?;
    }
    Ok(())
}

fn find_coupon(db: &Db, code: &str) -> Result<Option<Coupon>, ShopError> {
    let row = db.query_opt(
        &format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE code = ?"),
        args![code],
    )?;
    row.as_ref().map(coupon_from_row).transpose()
}

fn coupon_from_row(row: &Row) -> Result<Coupon, ShopError> {
    Ok(Coupon {
        id: CouponId::new(row.int(0)?),
        code: row.text(1)?,
        percent_off: row.int(2)?,
        max_uses: row.opt_int(3)?,
        times_used: row.int(4)?,
        active: row.bool(5)?,
    })
}

fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}
