//! Classifies RDS calls from CloudTrail: creating, modifying, starting and restoring DB
//! instances (Aurora instances apart: their storage belongs to the cluster), and creating and
//! restoring DB clusters.

use rust_decimal::Decimal;
use serde_json_borrow::Value as Json;

use super::{at, bool_at, field, non_production, string_at, u32_at, Change, EventKind, InvalidInput};

/// Aurora Serverless v2 scales from 0 to 256 ACUs.
const MAX_ACU: u32 = 256;

/// Classifies the RDS call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    match name {
        "CreateDBInstance" => db_instance(EventKind::RdsCreateDbInstance, req, resp),
        "ModifyDBInstance" => db_instance(EventKind::RdsModifyDbInstance, req, resp),
        "StartDBInstance" => db_instance(EventKind::RdsStartDbInstance, req, resp),
        "RestoreDBInstanceFromDBSnapshot" => db_instance(EventKind::RdsRestoreDbInstanceFromSnapshot, req, resp),
        "RestoreDBInstanceToPointInTime" => db_instance(EventKind::RdsRestoreDbInstanceToPointInTime, req, resp),
        "CreateDBCluster" => db_cluster(EventKind::RdsCreateDbCluster, req, resp),
        "RestoreDBClusterFromSnapshot" => db_cluster(EventKind::RdsRestoreDbClusterFromSnapshot, req, resp),
        "RestoreDBClusterToPointInTime" => db_cluster(EventKind::RdsRestoreDbClusterToPointInTime, req, resp),
        _ => Ok((EventKind::Unknown, Change::Unknown)),
    }
}

/// The string `key` from the response when it has it, else from the request.
fn either_str(req: &Json<'_>, resp: &Json<'_>, key: &str) -> Option<String> {
    string_at(resp, &[key]).or_else(|| string_at(req, &[key]))
}

/// A DB instance created, modified, started or restored (`kind`). Each field comes from the
/// response when it has it, else from the request; a modification also reports the class it
/// replaces. An `aurora*` engine makes it an Aurora instance.
fn db_instance(kind: EventKind, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let pending = field(resp, "pendingModifiedValues");
    let (class, previous_class) = if kind == EventKind::RdsModifyDbInstance {
        let new = string_at(req, &["dBInstanceClass"]).or_else(|| string_at(pending, &["dBInstanceClass"]));
        let current = string_at(resp, &["dBInstanceClass"]);
        // Applied immediately, the response already shows the new class.
        (new.clone().or(current.clone()), current.filter(|c| Some(c) != new.as_ref()))
    } else {
        (either_str(req, resp, "dBInstanceClass"), None)
    };
    // PointInTime names the new instance `targetDBInstanceIdentifier` in its request.
    let id = either_str(req, resp, "dBInstanceIdentifier").or_else(|| string_at(req, &["targetDBInstanceIdentifier"]));
    let engine = either_str(req, resp, "engine");
    let storage_type = either_str(req, resp, "storageType");
    if engine.as_deref().is_some_and(|e| e.starts_with("aurora")) {
        let min_acu = acu_at(resp, req)?;
        let change = Change::AuroraInstance { id, engine, class, previous_class, storage_type, min_acu };
        return Ok((kind, change));
    }
    let multi_az = bool_at(if field(resp, "multiAZ").is_null() { req } else { resp }, &["multiAZ"]);
    let created = matches!(
        kind,
        EventKind::RdsCreateDbInstance
            | EventKind::RdsRestoreDbInstanceFromSnapshot
            | EventKind::RdsRestoreDbInstanceToPointInTime
    );
    Ok((
        kind,
        Change::DbInstance {
            created,
            id,
            engine,
            class,
            previous_class,
            multi_az,
            storage_type,
            storage_gib: u32_at(resp, &["allocatedStorage"], "responseElements.allocatedStorage")?.or(u32_at(
                req,
                &["allocatedStorage"],
                "requestParameters.allocatedStorage",
            )?),
            iops: u32_at(resp, &["iops"], "responseElements.iops")?.or(u32_at(
                req,
                &["iops"],
                "requestParameters.iops",
            )?),
            non_production: non_production(field(req, "tags")) || non_production(field(resp, "tagList")),
        },
    ))
}

/// A DB cluster created or restored (`kind`). Aurora clusters have no instance class; Multi-AZ
/// DB clusters do (`dBClusterInstanceClass`).
fn db_cluster(kind: EventKind, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let class = either_str(req, resp, "dBClusterInstanceClass");
    // An Aurora cluster's response reports `allocatedStorage: 1` whatever it holds: only the
    // request's size counts, or the response's for a Multi-AZ DB cluster.
    let mut storage_gib = u32_at(req, &["allocatedStorage"], "requestParameters.allocatedStorage")?;
    if storage_gib.is_none() && class.is_some() {
        storage_gib = u32_at(resp, &["allocatedStorage"], "responseElements.allocatedStorage")?;
    }
    Ok((
        kind,
        Change::DbCluster {
            id: either_str(req, resp, "dBClusterIdentifier"),
            engine: either_str(req, resp, "engine"),
            class,
            storage_type: either_str(req, resp, "storageType"),
            storage_gib,
            restored: kind != EventKind::RdsCreateDbCluster,
        },
    ))
}

/// Serverless v2's minimum capacity (`serverlessV2ScalingConfiguration.minCapacity`, in ACUs,
/// halves allowed) from the response or the request; out of range is an error.
fn acu_at(resp: &Json<'_>, req: &Json<'_>) -> Result<Option<Decimal>, InvalidInput> {
    let path = ["serverlessV2ScalingConfiguration", "minCapacity"];
    let v = if at(resp, &path).is_null() { at(req, &path) } else { at(resp, &path) };
    let text = match v {
        Json::Null => return Ok(None),
        Json::Number(n) => n.to_string(),
        Json::Str(s) => s.trim().to_owned(),
        _ => String::new(),
    };
    match Decimal::from_str_exact(&text) {
        Ok(acu) if acu >= Decimal::ZERO && acu <= Decimal::from(MAX_ACU) => Ok(Some(acu.normalize())),
        _ => Err(InvalidInput::new(
            "detail.serverlessV2ScalingConfiguration.minCapacity",
            format!("must be a number of ACUs from 0 to {MAX_ACU}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_json(name: &str, req: &str, resp: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(resp).unwrap();
        classify(name, &req, &resp).map(|(_, c)| c)
    }

    #[test]
    fn an_aurora_engine_makes_an_aurora_instance() {
        let req = r#"{"dBInstanceIdentifier": "a-1", "dBInstanceClass": "db.r6g.large", "engine": "aurora-mysql"}"#;
        match classify_json("CreateDBInstance", req, "null").unwrap() {
            Change::AuroraInstance { engine, class, min_acu: None, .. } => {
                assert_eq!((engine.as_deref(), class.as_deref()), (Some("aurora-mysql"), Some("db.r6g.large")))
            }
            other => panic!("{other:?}"),
        }
        let resp = r#"{"engine": "aurora-postgresql", "dBInstanceClass": "db.serverless",
                       "serverlessV2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 8}}"#;
        match classify_json("CreateDBInstance", "{}", resp).unwrap() {
            Change::AuroraInstance { min_acu, .. } => assert_eq!(min_acu, Some("0.5".parse().unwrap())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn restores_create_instances_and_name_them_from_either_side() {
        let req = r#"{"targetDBInstanceIdentifier": "copy-1", "sourceDBInstanceIdentifier": "orig"}"#;
        let resp = r#"{"engine": "mysql", "dBInstanceClass": "db.m5.large", "multiAZ": true}"#;
        match classify_json("RestoreDBInstanceToPointInTime", req, resp).unwrap() {
            Change::DbInstance { created: true, id, multi_az: true, storage_gib: None, .. } => {
                assert_eq!(id.as_deref(), Some("copy-1"))
            }
            other => panic!("{other:?}"),
        }
        let c = classify_json(
            "RestoreDBClusterFromSnapshot",
            r#"{"engine": "aurora-mysql"}"#,
            r#"{"allocatedStorage": 1}"#,
        );
        assert!(matches!(c.unwrap(), Change::DbCluster { restored: true, storage_gib: None, class: None, .. }));
    }

    #[test]
    fn hostile_capacities_and_sizes_are_refused() {
        for acu in ["-1", "257", "1e300", "\"lots\"", "[1]"] {
            let resp = format!(
                r#"{{"engine": "aurora-mysql", "serverlessV2ScalingConfiguration": {{"minCapacity": {acu}}}}}"#
            );
            let e = classify_json("CreateDBInstance", "{}", &resp).unwrap_err();
            assert!(e.field.contains("minCapacity"), "{acu}: {e}");
        }
        let e = classify_json("RestoreDBInstanceFromDBSnapshot", r#"{"allocatedStorage": -5}"#, "{}").unwrap_err();
        assert!(e.field.contains("allocatedStorage"), "{e}");
        let e = classify_json("RestoreDBClusterToPointInTime", r#"{"allocatedStorage": 99999999999}"#, "{}");
        assert!(e.is_err());
    }
}
