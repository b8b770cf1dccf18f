//! The `Shop` handle: the business operations' entry point, one database connection behind it.

use crate::db::Db;
use crate::error::ShopError;

/// The shop's data layer on one connection. Its operations live in the
/// modules of their area (customers, catalog, coupons, orders, reports).
///
/// Every operation that writes more than one row runs in a transaction of its
/// own, or in a savepoint when the caller already opened one with
/// [`atomically`](Shop::atomically).
#[derive(Debug)]
pub struct Shop {
    pub(crate) db: Db,
}

impl Shop {
    /// A shop on `db`, whose schema the migrations already created.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The connection, for statements the operations do not cover.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Gives the connection back.
    pub fn into_db(self) -> Db {
        self.db
    }

    /// Runs several operations as one: all of them take effect, or, if `work`
    /// returns an error, none.
    pub fn atomically<T>(
        &self,
        work: impl FnOnce(&Self) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        self.db.transaction(|_| work(self))
    }
}
