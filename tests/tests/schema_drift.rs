//! The table's key schema has one source (`costradar_core::store::schema::TABLE`); the SAM template
//! must declare exactly the same keys, attributes, indexes and TTL attribute.

use costradar_core::store::schema::TABLE;
use serde_yaml::Value;

fn table_properties() -> Value {
    let text = std::fs::read_to_string(costradar_tests::repo_root().join("infra/template.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let resources = doc["Resources"].as_mapping().unwrap();
    let tables: Vec<&Value> = resources.values().filter(|r| r["Type"] == "AWS::DynamoDB::Table").collect();
    assert_eq!(tables.len(), 1, "one table in infra/template.yaml");
    tables[0]["Properties"].clone()
}

fn keys(v: &Value) -> Vec<(String, String)> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn template_table_matches_the_schema() {
    let p = table_properties();
    assert_eq!(
        keys(&p["KeySchema"]),
        vec![(TABLE.hash_key.into(), "HASH".into()), (TABLE.range_key.into(), "RANGE".into())]
    );
    let mut attrs: Vec<(String, String)> = p["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap().to_owned(), a["AttributeType"].as_str().unwrap().to_owned()))
        .collect();
    attrs.sort();
    let mut expected: Vec<(String, String)> = TABLE.attributes.iter().map(|a| (a.name.into(), a.kind.into())).collect();
    expected.sort();
    assert_eq!(attrs, expected);
    let gsis = p["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(gsis.len(), TABLE.global_indexes.len());
    for g in TABLE.global_indexes {
        let t = gsis.iter().find(|x| x["IndexName"] == g.name).unwrap_or_else(|| panic!("index {} missing", g.name));
        assert_eq!(
            keys(&t["KeySchema"]),
            vec![(g.hash_key.into(), "HASH".into()), (g.range_key.into(), "RANGE".into())]
        );
        assert_eq!(t["Projection"]["ProjectionType"], "ALL");
    }
    assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], TABLE.ttl_attribute);
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
}
