//! The stored price sources (`RateStore`) on DynamoDB. A region of the Price List cache holds
//! tens of thousands of rates (EC2 alone: every type × OS × tenancy), megabytes of JSON, over
//! DynamoDB's 400 KB item limit. So a region is kept as one item per price family
//! (`RATES#<region>#<family>#<chunk>`: `ec2`, `rds`, ...), each gzip-compressed and split into
//! chunks of at most [`MAX_CHUNK_BYTES`]. A family's refresh rewrites its chunks and then deletes
//! the ones it no longer needs; a reader between the two sees rates of both refreshes, each true
//! at its own `as_of`. Items of the earlier one-item-per-region form (`RATES#<region>`, JSON in
//! `rates`) are still read, and are replaced by the next save of their region.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use costradar_core::pricing::sku::family;
use costradar_core::pricing::{RateEntry, RateTable};
use costradar_core::store::keys::{rates_pk, rates_sk, RATES_PREFIX};
use costradar_core::store::schema::{PK, SK};
use costradar_core::store::{RateScope, StoreError};

use super::{s, DynamoStore, Item};

/// A chunk's compressed size at most: well under the 400 KB item limit, keys included.
pub const MAX_CHUNK_BYTES: usize = 300_000;

/// The gzip of a list of entries.
fn gzip(entries: &[RateEntry]) -> Vec<u8> {
    let json = serde_json::to_vec(entries).expect("rates serialise");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&json).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// `entries` as compressed chunks of at most [`MAX_CHUNK_BYTES`], halving a chunk until it fits.
pub fn chunks(entries: &[RateEntry]) -> Vec<Vec<u8>> {
    let packed = gzip(entries);
    if packed.len() <= MAX_CHUNK_BYTES || entries.len() < 2 {
        return vec![packed];
    }
    let (a, b) = entries.split_at(entries.len() / 2);
    let mut out = chunks(a);
    out.extend(chunks(b));
    out
}

fn gunzip(bytes: &[u8]) -> Result<RateTable, StoreError> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(64 << 20)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::Corrupt(format!("rates chunk: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("rates chunk: {e}")))
}

/// A stored item's rates, in either form.
fn read_item(item: &Item) -> Result<RateTable, StoreError> {
    if let Some(AttributeValue::B(blob)) = item.get("rates_gz") {
        return gunzip(blob.as_ref());
    }
    let json = item.get("rates").and_then(|v| v.as_s().ok());
    let json = json.ok_or_else(|| StoreError::Corrupt("rates item without its rates".into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn sk_of(item: &Item) -> &str {
    item.get(SK).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

impl DynamoStore {
    pub(super) async fn save_rate_table(&self, scope: RateScope<'_>, rates: &RateTable) -> Result<(), StoreError> {
        let pk = rates_pk(scope);
        for (region, table) in rates.split_by_region() {
            let entries: Vec<RateEntry> = table.into();
            let mut by_family: BTreeMap<&str, Vec<RateEntry>> = BTreeMap::new();
            for e in &entries {
                by_family.entry(family(&e.key)).or_default().push(e.clone());
            }
            let mut written = Vec::new();
            let mut puts = Vec::new();
            for (fam, entries) in &by_family {
                for (n, chunk) in chunks(entries).into_iter().enumerate() {
                    let sk = format!("{}#{fam}#{n:03}", rates_sk(&region));
                    let item = HashMap::from([
                        (PK.to_owned(), s(pk.clone())),
                        (SK.to_owned(), s(sk.clone())),
                        ("rates_gz".to_owned(), AttributeValue::B(Blob::new(chunk))),
                    ]);
                    puts.push(
                        WriteRequest::builder()
                            .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item set"))
                            .build(),
                    );
                    written.push(sk);
                }
            }
            self.batch_write(puts).await?;
            // What this save replaced: the families' leftover chunks and the old one-item form.
            let stale: Vec<WriteRequest> = self
                .region_items(&pk, &region)
                .await?
                .iter()
                .map(|i| sk_of(i).to_owned())
                .filter(|sk| !written.contains(sk))
                .filter(|sk| {
                    let fam = sk.rsplit('#').nth(1).unwrap_or_default();
                    *sk == rates_sk(&region) || by_family.contains_key(fam)
                })
                .map(|sk| {
                    let key = HashMap::from([(PK.to_owned(), s(pk.clone())), (SK.to_owned(), s(sk))]);
                    WriteRequest::builder()
                        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().expect("key set"))
                        .build()
                })
                .collect();
            self.batch_write(stale).await?;
        }
        Ok(())
    }

    /// The items of one region, in either form (`RATES#<region>` and `RATES#<region>#...`).
    async fn region_items(&self, pk: &str, region: &str) -> Result<Vec<Item>, StoreError> {
        let exact = rates_sk(region);
        let items = self.query_prefix(pk, &exact).await?;
        Ok(items.into_iter().filter(|i| sk_of(i) == exact || sk_of(i).starts_with(&format!("{exact}#"))).collect())
    }

    pub(super) async fn region_rate_table(&self, scope: RateScope<'_>, region: &str) -> Result<RateTable, StoreError> {
        let mut all = RateTable::default();
        for item in self.region_items(&rates_pk(scope), region).await? {
            all.extend(read_item(&item)?);
        }
        Ok(all)
    }

    pub(super) async fn all_rate_tables(&self, scope: RateScope<'_>) -> Result<RateTable, StoreError> {
        let mut all = RateTable::default();
        for item in self.query_prefix(&rates_pk(scope), RATES_PREFIX).await? {
            all.extend(read_item(&item)?);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use costradar_core::pricing::{Os, PriceSource, Rate, Sku, Tenancy};

    use super::*;

    #[test]
    fn a_large_family_is_split_into_chunks_that_fit_an_item() {
        // 60,000 distinct EC2 rates with incompressible prices: several chunks, each small enough.
        let mut t = RateTable::default();
        for i in 0..60_000u32 {
            let sku = Sku::Ec2Instance {
                instance_type: format!("x{i}.{}xlarge", i % 97),
                os: Os::Rhel,
                tenancy: Tenancy::Shared,
            };
            let usd = format!("0.{:06}", (i.wrapping_mul(2_654_435_761)) % 1_000_000).parse().unwrap();
            t.insert("us-east-1", sku, Rate { usd, source: PriceSource::PriceListApi, as_of: "2026-12-01".into() });
        }
        let entries: Vec<RateEntry> = t.clone().into();
        let parts = chunks(&entries);
        assert!(
            parts.len() > 1 && parts.iter().all(|c| c.len() <= MAX_CHUNK_BYTES),
            "{:?}",
            parts.iter().map(Vec::len).collect::<Vec<_>>()
        );
        let mut back = RateTable::default();
        for p in &parts {
            back.extend(gunzip(p).unwrap());
        }
        assert_eq!(back, t);
    }
}
