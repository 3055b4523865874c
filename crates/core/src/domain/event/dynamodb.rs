//! Classifies DynamoDB calls from CloudTrail: CreateTable and UpdateTable, with the provisioned
//! capacity they set (the table's and its global secondary indexes' together) and, for
//! UpdateTable, the capacity it replaces when the response shows it: DynamoDB answers while the
//! table is `UPDATING`, and its `tableDescription` still holds the old throughput.

use serde_json_borrow::Value as Json;

use super::{field, num_at, str_at, string_at, Change, EventKind, InvalidInput, TableCapacity};

/// Capacity units of one table or index, bounded (DynamoDB's default quota is 40,000 per table).
pub const MAX_CAPACITY_UNITS: u64 = 1_000_000;

/// Global secondary indexes per table (DynamoDB allows 20), or index updates per call.
const MAX_INDEXES: usize = 25;

/// Classifies the DynamoDB call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    match name {
        "CreateTable" => create_table(req, resp),
        "UpdateTable" => update_table(req, resp),
        _ => Ok((EventKind::Unknown, Change::Unknown)),
    }
}

fn table_name(req: &Json<'_>, resp: &Json<'_>) -> Option<String> {
    string_at(req, &["tableName"]).or_else(|| string_at(resp, &["tableDescription", "tableName"]))
}

fn pay_per_request(v: &Json<'_>, path: &[&str]) -> bool {
    str_at(v, path).is_some_and(|m| m.eq_ignore_ascii_case("PAY_PER_REQUEST"))
}

fn add(a: TableCapacity, b: TableCapacity) -> TableCapacity {
    // At most 26 × 1,000,000 units of each: no overflow.
    TableCapacity { rcu: a.rcu + b.rcu, wcu: a.wcu + b.wcu }
}

/// `provisionedThroughput` of a table or index (`what` names it in errors); `None` without one.
fn throughput(v: &Json<'_>, what: &str) -> Result<Option<TableCapacity>, InvalidInput> {
    let t = field(v, "provisionedThroughput");
    if t.is_null() {
        return Ok(None);
    }
    let units = |key: &str| num_at(t, &[key], &format!("{what}.provisionedThroughput.{key}"), MAX_CAPACITY_UNITS);
    Ok(Some(TableCapacity {
        rcu: units("readCapacityUnits")?.unwrap_or(0),
        wcu: units("writeCapacityUnits")?.unwrap_or(0),
    }))
}

/// The array `key` of `v`, at most [`MAX_INDEXES`] long.
fn indexes<'a, 'c>(v: &'a Json<'c>, key: &str, what: &str) -> Result<&'a [Json<'c>], InvalidInput> {
    let list = field(v, key).as_array().unwrap_or(&[]);
    if list.len() > MAX_INDEXES {
        return Err(InvalidInput::new(format!("detail.{what}.{key}"), format!("at most {MAX_INDEXES} entries")));
    }
    Ok(list)
}

/// CreateTable: the table's capacity plus its indexes', unless the table is on-demand.
fn create_table(req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let on_demand = pay_per_request(req, &["billingMode"])
        || pay_per_request(resp, &["tableDescription", "billingModeSummary", "billingMode"]);
    let mut capacity = if on_demand { None } else { throughput(req, "requestParameters")? };
    if let Some(total) = capacity.as_mut() {
        for index in indexes(req, "globalSecondaryIndexes", "requestParameters")? {
            if let Some(c) = throughput(index, "requestParameters.globalSecondaryIndexes")? {
                *total = add(*total, c);
            }
        }
    }
    let table = table_name(req, resp);
    Ok((
        EventKind::DynamodbCreateTable,
        Change::DynamoDbTable { table, created: true, on_demand, capacity, previous: None },
    ))
}

/// UpdateTable: the capacity of what it changes (the table, indexes updated, created or
/// deleted), and what that had before when the response shows all of it. A response value equal
/// to the new one is not taken for the old one (DynamoDB refuses an update that changes nothing).
fn update_table(req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let desc = field(resp, "tableDescription");
    let (mut new, mut old, mut changes) = (TableCapacity::default(), Some(TableCapacity::default()), false);
    if let Some(t) = throughput(req, "requestParameters")? {
        changes = true;
        new = add(new, t);
        let before = throughput(desc, "responseElements.tableDescription")?.filter(|b| *b != t);
        old = old.zip(before).map(|(a, b)| add(a, b));
    }
    let current = indexes(desc, "globalSecondaryIndexes", "responseElements.tableDescription")?;
    for u in indexes(req, "globalSecondaryIndexUpdates", "requestParameters")? {
        let what = "requestParameters.globalSecondaryIndexUpdates";
        let (after, before) = if !field(u, "create").is_null() {
            (throughput(field(u, "create"), what)?, Some(TableCapacity::default()))
        } else if !field(u, "update").is_null() {
            let after = throughput(field(u, "update"), what)?;
            let before = index_capacity(current, str_at(u, &["update", "indexName"]))?;
            (after, before.filter(|b| Some(*b) != after))
        } else if !field(u, "delete").is_null() {
            let before = index_capacity(current, str_at(u, &["delete", "indexName"]))?;
            (Some(TableCapacity::default()), before)
        } else {
            continue;
        };
        changes = true;
        new = add(new, after.unwrap_or_default());
        old = old.zip(before).map(|(a, b)| add(a, b));
    }
    let change = Change::DynamoDbTable {
        table: table_name(req, resp),
        created: false,
        on_demand: pay_per_request(req, &["billingMode"]),
        capacity: changes.then_some(new),
        previous: if changes { old } else { None },
    };
    Ok((EventKind::DynamodbUpdateTable, change))
}

/// The provisioned capacity the response shows for the index `name`.
fn index_capacity(current: &[Json<'_>], name: Option<&str>) -> Result<Option<TableCapacity>, InvalidInput> {
    let Some(name) = name else { return Ok(None) };
    match current.iter().find(|i| str_at(i, &["indexName"]) == Some(name)) {
        Some(i) => throughput(i, "responseElements.tableDescription.globalSecondaryIndexes"),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify(name, &req, &resp).map(|(_, c)| c)
    }

    fn cap(rcu: u64, wcu: u64) -> Option<TableCapacity> {
        Some(TableCapacity { rcu, wcu })
    }

    #[test]
    fn create_sums_the_table_and_its_indexes() {
        let req = r#"{"tableName": "t", "provisionedThroughput": {"readCapacityUnits": 10, "writeCapacityUnits": "5"},
            "globalSecondaryIndexes": [{"indexName": "g", "provisionedThroughput": {"readCapacityUnits": 3, "writeCapacityUnits": 2}}]}"#;
        match table("CreateTable", req, "null").unwrap() {
            Change::DynamoDbTable { capacity, previous: None, on_demand: false, created: true, .. } => {
                assert_eq!(capacity, cap(13, 7))
            }
            other => panic!("{other:?}"),
        }
        let on_demand = r#"{"tableName": "t", "billingMode": "PAY_PER_REQUEST"}"#;
        assert!(matches!(
            table("CreateTable", on_demand, "{}").unwrap(),
            Change::DynamoDbTable { on_demand: true, capacity: None, .. }
        ));
    }

    #[test]
    fn update_reads_the_replaced_capacity_from_the_response() {
        let req = r#"{"tableName": "t", "provisionedThroughput": {"readCapacityUnits": 25, "writeCapacityUnits": 25},
            "globalSecondaryIndexUpdates": [{"update": {"indexName": "g", "provisionedThroughput": {"readCapacityUnits": 8, "writeCapacityUnits": 8}}},
                                            {"create": {"indexName": "h", "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1}}},
                                            {"delete": {"indexName": "k"}}]}"#;
        let resp = r#"{"tableDescription": {"tableStatus": "UPDATING", "provisionedThroughput": {"readCapacityUnits": 10, "writeCapacityUnits": 10},
            "globalSecondaryIndexes": [{"indexName": "g", "provisionedThroughput": {"readCapacityUnits": 4, "writeCapacityUnits": 4}},
                                       {"indexName": "k", "provisionedThroughput": {"readCapacityUnits": 2, "writeCapacityUnits": 2}}]}}"#;
        match table("UpdateTable", req, resp).unwrap() {
            Change::DynamoDbTable { capacity, previous, created: false, .. } => {
                assert_eq!((capacity, previous), (cap(34, 34), cap(16, 16)))
            }
            other => panic!("{other:?}"),
        }
        // Without the response, or with one that already shows the new values, the old is unknown.
        for resp in [
            "null",
            r#"{"tableDescription": {"provisionedThroughput": {"readCapacityUnits": 25, "writeCapacityUnits": 25}}}"#,
        ] {
            let req = r#"{"provisionedThroughput": {"readCapacityUnits": 25, "writeCapacityUnits": 25}}"#;
            assert!(
                matches!(
                    table("UpdateTable", req, resp).unwrap(),
                    Change::DynamoDbTable { capacity: Some(_), previous: None, .. }
                ),
                "{resp}"
            );
        }
        // An update of something else (streams, TTL) changes no capacity.
        assert!(matches!(
            table("UpdateTable", r#"{"tableName": "t", "streamSpecification": {}}"#, "{}").unwrap(),
            Change::DynamoDbTable { capacity: None, previous: None, .. }
        ));
    }

    #[test]
    fn hostile_capacities_are_refused() {
        for units in ["-1", "1000001", "1.5", "\"many\"", "18446744073709551616"] {
            let req =
                format!(r#"{{"provisionedThroughput": {{"readCapacityUnits": {units}, "writeCapacityUnits": 1}}}}"#);
            let e = table("CreateTable", &req, "null").unwrap_err();
            assert!(e.field.contains("readCapacityUnits"), "{units}: {e}");
        }
        let many =
            format!(r#"{{"provisionedThroughput": {{}}, "globalSecondaryIndexes": [{}]}}"#, vec!["{}"; 26].join(","));
        assert!(table("CreateTable", &many, "null").unwrap_err().field.contains("globalSecondaryIndexes"));
    }
}
