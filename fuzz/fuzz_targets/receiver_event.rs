//! Any bytes through the receiver's parse → classify → price → decide path: it must never
//! panic, and a priced result must serialise.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use costradar_core::pricing::{snapshot, PriceBook, RateTable};
use costradar_core::receiver::price::price_event;
use libfuzzer_sys::fuzz_target;

static PRICES: OnceLock<RateTable> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let snapshot = PRICES.get_or_init(|| snapshot::bundled().expect("bundled snapshot"));
    let book = PriceBook { tenant: None, price_list: None, snapshot };
    if let Ok(priced) = price_event(data, &book, &HashMap::new(), rust_decimal::Decimal::ONE_HUNDRED) {
        serde_json::to_string(&priced).expect("a priced event serialises");
    }
});
