//! The catalog: categories, products, prices and their history, stock, search.

use shop::{NewProduct, PriceChange, ProductQuery, ShopError};

use crate::support::{self, product, product_in, stock};

fn new_product<'a>(sku: &'a str, category: &'a str, price_cents: i64) -> NewProduct<'a> {
    NewProduct {
        sku,
        name: "Garden Gnome",
        description: "Stands guard over the lettuce.",
        category,
        price_cents,
        stock: 3,
    }
}

#[test]
fn seeded_categories_are_available() {
    let shop = support::shop();
    let slugs: Vec<_> = shop
        .categories()
        .unwrap()
        .into_iter()
        .map(|category| category.slug)
        .collect();
    assert_eq!(slugs, ["books", "electronics", "garden", "kitchen", "toys"]);
    assert_eq!(shop.category("garden").unwrap().name, "Home & Garden");
}

#[test]
fn added_product_reads_back() {
    let shop = support::shop();
    let added = shop
        .add_product(&new_product("GNOME-1", "garden", 2450))
        .unwrap();
    let read = shop.product("GNOME-1").unwrap();
    assert_eq!(read, added);
    assert_eq!(read.category_id, shop.category("garden").unwrap().id);
    assert_eq!((read.price_cents, read.stock, read.active), (2450, 3, true));
    assert_eq!(read.description, "Stands guard over the lettuce.");
}

#[test]
fn duplicate_sku_is_refused() {
    let shop = support::shop();
    shop.add_product(&new_product("GNOME-2", "garden", 100))
        .unwrap();
    let err = shop
        .add_product(&new_product("GNOME-2", "toys", 200))
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::SkuTaken { sku } if sku == "GNOME-2"),
        "{err:?}"
    );
    assert_eq!(shop.product_count().unwrap(), 1);
    assert_eq!(shop.product("GNOME-2").unwrap().price_cents, 100);
}

#[test]
fn unknown_category_is_refused() {
    let shop = support::shop();
    let err = shop
        .add_product(&new_product("GNOME-3", "furniture", 100))
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::UnknownCategory { slug } if slug == "furniture"),
        "{err:?}"
    );
    assert_eq!(shop.product_count().unwrap(), 0);
}

#[test]
fn invalid_products_are_refused() {
    let shop = support::shop();
    let cases = [
        NewProduct {
            sku: "",
            ..new_product("", "garden", 100)
        },
        NewProduct {
            sku: "HAS SPACE",
            ..new_product("", "garden", 100)
        },
        NewProduct {
            name: "  ",
            ..new_product("GNOME-4", "garden", 100)
        },
        new_product("GNOME-5", "garden", -1),
        NewProduct {
            stock: -3,
            ..new_product("GNOME-6", "garden", 100)
        },
    ];
    for case in &cases {
        let err = shop.add_product(case).unwrap_err();
        assert!(
            matches!(err, ShopError::InvalidProduct { .. }),
            "{case:?}: {err:?}"
        );
    }
    assert_eq!(shop.product_count().unwrap(), 0);
}

#[test]
fn price_changes_are_recorded_by_the_trigger() {
    let shop = support::shop();
    product(&shop, "ATLAS", 4000, 2);
    shop.set_price("ATLAS", 3500).unwrap();
    shop.set_price("ATLAS", 3900).unwrap();
    assert_eq!(shop.product("ATLAS").unwrap().price_cents, 3900);
    assert_eq!(
        shop.price_history("ATLAS").unwrap(),
        [
            PriceChange {
                old_price_cents: 4000,
                new_price_cents: 3500
            },
            PriceChange {
                old_price_cents: 3500,
                new_price_cents: 3900
            },
        ]
    );
}

#[test]
fn setting_the_same_price_records_nothing() {
    let shop = support::shop();
    product(&shop, "ATLAS", 4000, 2);
    shop.set_price("ATLAS", 4000).unwrap();
    shop.restock("ATLAS", 5).unwrap();
    assert!(shop.price_history("ATLAS").unwrap().is_empty());
    assert_eq!(support::count(shop.db(), "price_history"), 0);
}

#[test]
fn price_of_unknown_product_cannot_be_set() {
    let shop = support::shop();
    let err = shop.set_price("NOPE", 100).unwrap_err();
    assert!(
        matches!(&err, ShopError::UnknownProduct { sku } if sku == "NOPE"),
        "{err:?}"
    );
    let err = shop.set_price("NOPE", -100).unwrap_err();
    assert!(matches!(err, ShopError::InvalidProduct { .. }), "{err:?}");
}

#[test]
fn restock_adds_units() {
    let shop = support::shop();
    product(&shop, "KETTLE", 2999, 1);
    assert_eq!(shop.restock("KETTLE", 4).unwrap(), 5);
    assert_eq!(shop.restock("KETTLE", 10).unwrap(), 15);
    assert_eq!(stock(&shop, "KETTLE"), 15);
    let err = shop.restock("TEAPOT", 1).unwrap_err();
    assert!(matches!(err, ShopError::UnknownProduct { .. }), "{err:?}");
}

#[test]
fn search_matches_name_or_sku_case_insensitively() {
    let shop = support::shop();
    product_in(&shop, "kitchen", "KET-RED", 2999, 4);
    product_in(&shop, "kitchen", "PAN-10", 1999, 4);
    product_in(&shop, "toys", "YOYO", 299, 4);
    let found: Vec<_> = shop
        .search_products(&ProductQuery {
            text: Some("ket"),
            ..ProductQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|product| product.sku)
        .collect();
    assert_eq!(found, ["KET-RED"]);
    let found = shop
        .search_products(&ProductQuery {
            text: Some("PRODUCT"),
            ..ProductQuery::default()
        })
        .unwrap();
    assert_eq!(found.len(), 3);
}

#[test]
fn search_treats_wildcards_literally() {
    let shop = support::shop();
    shop.add_product(&NewProduct {
        name: "100% Cotton Towel",
        ..new_product("TOWEL", "kitchen", 999)
    })
    .unwrap();
    shop.add_product(&NewProduct {
        name: "1000 Piece Puzzle",
        ..new_product("PUZZLE", "toys", 1599)
    })
    .unwrap();
    shop.add_product(&NewProduct {
        name: "Egg_Timer",
        ..new_product("TIMER", "kitchen", 499)
    })
    .unwrap();
    let skus = |text| -> Vec<String> {
        shop.search_products(&ProductQuery {
            text: Some(text),
            ..ProductQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|product| product.sku)
        .collect()
    };
    assert_eq!(skus("100%"), ["TOWEL"]);
    assert_eq!(skus("g_t"), ["TIMER"]);
    assert!(skus("%%").is_empty());
    assert_eq!(skus("100").len(), 2);
}

#[test]
fn search_filters_by_category_price_and_stock() {
    let shop = support::shop();
    product_in(&shop, "electronics", "CABLE", 999, 10);
    product_in(&shop, "electronics", "CHARGER", 2499, 0);
    product_in(&shop, "electronics", "LAPTOP", 99999, 2);
    product_in(&shop, "books", "NOVEL", 1299, 5);
    let skus = |query: ProductQuery<'_>| -> Vec<String> {
        shop.search_products(&query)
            .unwrap()
            .into_iter()
            .map(|product| product.sku)
            .collect()
    };
    let electronics = ProductQuery {
        category: Some("electronics"),
        ..ProductQuery::default()
    };
    assert_eq!(skus(electronics), ["CABLE", "CHARGER", "LAPTOP"]);
    assert_eq!(
        skus(ProductQuery {
            max_price_cents: Some(2499),
            ..electronics
        }),
        ["CABLE", "CHARGER"]
    );
    assert_eq!(
        skus(ProductQuery {
            max_price_cents: Some(2499),
            in_stock_only: true,
            ..electronics
        }),
        ["CABLE"]
    );
    assert_eq!(skus(ProductQuery::default()).len(), 4);
}

#[test]
fn deactivated_product_is_not_found_nor_sold() {
    let shop = support::shop();
    let alice = support::customer(&shop, "alice");
    product(&shop, "OLD-EDITION", 500, 10);
    product(&shop, "NEW-EDITION", 700, 10);
    shop.deactivate_product("OLD-EDITION").unwrap();
    let found: Vec<_> = shop
        .search_products(&ProductQuery {
            text: Some("edition"),
            ..ProductQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|product| product.sku)
        .collect();
    assert_eq!(found, ["NEW-EDITION"]);
    assert!(!shop.product("OLD-EDITION").unwrap().active);
    let err = shop
        .place_order(alice.id, &[shop::OrderLine::new("OLD-EDITION", 1)], None)
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::ProductUnavailable { sku } if sku == "OLD-EDITION"),
        "{err:?}"
    );
    assert_eq!(stock(&shop, "OLD-EDITION"), 10);
}
