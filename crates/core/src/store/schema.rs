//! The table's key schema: the single source for the DynamoDB adapter, the tests that create
//! the table in moto, and `infra/template.yaml` (a test fails if the template drifts from this).

pub struct AttributeDefinition {
    pub name: &'static str,
    /// DynamoDB scalar type: "S", "N" or "B".
    pub kind: &'static str,
}

pub struct GlobalIndex {
    pub name: &'static str,
    pub hash_key: &'static str,
    pub range_key: &'static str,
}

pub struct TableSchema {
    pub hash_key: &'static str,
    pub range_key: &'static str,
    pub attributes: &'static [AttributeDefinition],
    /// All projected `ALL`.
    pub global_indexes: &'static [GlobalIndex],
    /// Epoch seconds; DynamoDB deletes the item some time after.
    pub ttl_attribute: &'static str,
}

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// A tenant's findings by monthly saving (`keys::findings_index_pk`, `keys::savings_sk`).
/// GSI1 is shared: the tenants list (`TENANTS`) and, per tenant, its findings by first
/// sighting, events by arrival and runs by end, each collection in a partition of its own
/// (`keys::*_index_pk`, `keys::time_sk`). One new index only: CloudFormation adds at most one
/// global secondary index per table update.
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const TTL: &str = "expires_at";
pub const VERSION: &str = "version";

pub const TABLE: TableSchema = TableSchema {
    hash_key: PK,
    range_key: SK,
    attributes: &[
        AttributeDefinition { name: PK, kind: "S" },
        AttributeDefinition { name: SK, kind: "S" },
        AttributeDefinition { name: GSI1PK, kind: "S" },
        AttributeDefinition { name: GSI1SK, kind: "S" },
        AttributeDefinition { name: GSI2PK, kind: "S" },
        AttributeDefinition { name: GSI2SK, kind: "S" },
    ],
    global_indexes: &[
        GlobalIndex { name: GSI1, hash_key: GSI1PK, range_key: GSI1SK },
        GlobalIndex { name: GSI2, hash_key: GSI2PK, range_key: GSI2SK },
    ],
    ttl_attribute: TTL,
};
