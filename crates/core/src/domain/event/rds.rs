//! Classifies RDS calls from CloudTrail: creating, modifying and starting DB instances, and
//! creating DB clusters.

use serde_json_borrow::Value as Json;

use super::{bool_at, field, non_production, string_at, u32_at, Change, EventKind, InvalidInput};

/// Classifies the RDS call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    match name {
        "CreateDBInstance" => db_instance(EventKind::RdsCreateDbInstance, req, resp),
        "ModifyDBInstance" => db_instance(EventKind::RdsModifyDbInstance, req, resp),
        "StartDBInstance" => db_instance(EventKind::RdsStartDbInstance, req, resp),
        "CreateDBCluster" => Ok((
            EventKind::RdsCreateDbCluster,
            Change::DbCluster {
                id: string_at(resp, &["dBClusterIdentifier"]).or_else(|| string_at(req, &["dBClusterIdentifier"])),
                engine: string_at(resp, &["engine"]).or_else(|| string_at(req, &["engine"])),
                class: string_at(req, &["dBClusterInstanceClass"]),
                storage_type: string_at(req, &["storageType"]),
                storage_gib: u32_at(req, &["allocatedStorage"], "requestParameters.allocatedStorage")?,
            },
        )),
        _ => Ok((EventKind::Unknown, Change::Unknown)),
    }
}

/// A DB instance created, modified or started (`kind`). Each field comes from the response when
/// it has it, else from the request; a modification also reports the class it replaces.
fn db_instance(kind: EventKind, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let pending = field(resp, "pendingModifiedValues");
    let (class, previous_class) = if kind == EventKind::RdsModifyDbInstance {
        let new = string_at(req, &["dBInstanceClass"]).or_else(|| string_at(pending, &["dBInstanceClass"]));
        let current = string_at(resp, &["dBInstanceClass"]);
        // Applied immediately, the response already shows the new class.
        (new.clone().or(current.clone()), current.filter(|c| Some(c) != new.as_ref()))
    } else {
        (string_at(resp, &["dBInstanceClass"]).or_else(|| string_at(req, &["dBInstanceClass"])), None)
    };
    let multi_az = bool_at(if field(resp, "multiAZ").is_null() { req } else { resp }, &["multiAZ"]);
    Ok((
        kind,
        Change::DbInstance {
            created: kind == EventKind::RdsCreateDbInstance,
            id: string_at(resp, &["dBInstanceIdentifier"]).or_else(|| string_at(req, &["dBInstanceIdentifier"])),
            engine: string_at(resp, &["engine"]).or_else(|| string_at(req, &["engine"])),
            class,
            previous_class,
            multi_az,
            storage_type: string_at(resp, &["storageType"]).or_else(|| string_at(req, &["storageType"])),
            storage_gib: u32_at(resp, &["allocatedStorage"], "responseElements.allocatedStorage")?.or(u32_at(
                req,
                &["allocatedStorage"],
                "requestParameters.allocatedStorage",
            )?),
            non_production: non_production(field(req, "tags")) || non_production(field(resp, "tagList")),
        },
    ))
}
