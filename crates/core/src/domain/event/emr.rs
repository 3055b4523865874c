//! Classifies Amazon EMR calls from CloudTrail: RunJobFlow, whose `instances` come in one of
//! three shapes: instance groups (`instanceGroups`: role, type, count, market), instance fleets
//! (`instanceFleets`: On-Demand and Spot target capacity over weighted instance types), or the
//! uniform shape of the oldest API (`masterInstanceType`, `slaveInstanceType`, `instanceCount`).

use serde_json_borrow::Value as Json;

use super::{count_at, field, num_at, str_at, string_at, Change, EmrInstances, EventKind, InvalidInput, MAX_COUNT};

/// Instance groups (EMR allows 50: a master, a core and 48 task groups) or fleets or instance
/// types per fleet taken from one event.
const MAX_ENTRIES: usize = 50;

/// Classifies the EMR call `name` from its request and response.
pub(super) fn classify(name: &str, req: &Json<'_>, resp: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if name != "RunJobFlow" {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let inst = field(req, "instances");
    let mut cluster = Cluster::default();
    if !field(inst, "instanceGroups").is_null() {
        for g in list(inst, "instanceGroups")? {
            let n = count_at(g, &["instanceCount"], "requestParameters.instances.instanceGroups.instanceCount")?;
            let spot = str_at(g, &["market"]).is_some_and(|m| m.eq_ignore_ascii_case("SPOT"));
            cluster.add(str_at(g, &["instanceType"]), n.unwrap_or(1), spot)?;
        }
    } else if !field(inst, "instanceFleets").is_null() {
        for f in list(inst, "instanceFleets")? {
            fleet(&mut cluster, f)?;
        }
    } else {
        // The uniform shape: one master, and `instanceCount - 1` core instances.
        let n = count_at(inst, &["instanceCount"], "requestParameters.instances.instanceCount")?.unwrap_or(1);
        cluster.add(str_at(inst, &["masterInstanceType"]), 1, false)?;
        cluster.add(str_at(inst, &["slaveInstanceType"]), n.saturating_sub(1), false)?;
    }
    let id = string_at(resp, &["jobFlowId"]).or_else(|| string_at(req, &["name"]));
    Ok((
        EventKind::EmrRunJobFlow,
        Change::Emr {
            cluster: id,
            instances: cluster.instances,
            spot_instances: cluster.spot as u32,
            fleet_choice: cluster.fleet_choice,
        },
    ))
}

/// The instances of a cluster as they are read: On-Demand ones by type, Spot ones counted.
#[derive(Default)]
struct Cluster {
    instances: Vec<EmrInstances>,
    spot: u64,
    total: u64,
    fleet_choice: bool,
}

impl Cluster {
    /// Adds `n` instances of `instance_type` (an instance of no stated type cannot be priced and
    /// is left out); the whole cluster is at most [`MAX_COUNT`] instances.
    fn add(&mut self, instance_type: Option<&str>, n: u64, spot: bool) -> Result<(), InvalidInput> {
        self.total += n;
        if self.total > MAX_COUNT {
            return Err(InvalidInput::new(
                "detail.requestParameters.instances",
                format!("at most {MAX_COUNT} instances"),
            ));
        }
        match (instance_type, spot) {
            (_, true) => self.spot += n,
            (Some(t), false) if n > 0 => match self.instances.iter_mut().find(|i| i.instance_type == t) {
                Some(i) => i.count += n as u32,
                None => self.instances.push(EmrInstances { instance_type: t.to_owned(), count: n as u32 }),
            },
            _ => {}
        }
        Ok(())
    }
}

/// The array `key` of `v`, at most [`MAX_ENTRIES`] long.
fn list<'a, 'c>(v: &'a Json<'c>, key: &str) -> Result<&'a [Json<'c>], InvalidInput> {
    let l = field(v, key).as_array().unwrap_or(&[]);
    if l.len() > MAX_ENTRIES {
        return Err(InvalidInput::new(
            format!("detail.requestParameters.instances.{key}"),
            format!("at most {MAX_ENTRIES} entries"),
        ));
    }
    Ok(l)
}

/// One instance fleet: its On-Demand and Spot target capacities, in instances of its first
/// listed type (capacity ÷ that type's weight, rounded up). EMR may launch any listed type.
fn fleet(cluster: &mut Cluster, f: &Json<'_>) -> Result<(), InvalidInput> {
    let what = "requestParameters.instances.instanceFleets";
    let configs = list(f, "instanceTypeConfigs")?;
    let first = configs.first();
    let weight = match first {
        Some(c) => {
            num_at(c, &["weightedCapacity"], &format!("{what}.instanceTypeConfigs.weightedCapacity"), MAX_COUNT)?
        }
        None => None,
    }
    .unwrap_or(1)
    .max(1);
    cluster.fleet_choice |= configs.len() > 1;
    let instance_type = first.and_then(|c| str_at(c, &["instanceType"]));
    let on_demand = count_at(f, &["targetOnDemandCapacity"], &format!("{what}.targetOnDemandCapacity"))?.unwrap_or(0);
    let spot = count_at(f, &["targetSpotCapacity"], &format!("{what}.targetSpotCapacity"))?.unwrap_or(0);
    cluster.add(instance_type, on_demand.div_ceil(weight), false)?;
    cluster.add(instance_type, spot.div_ceil(weight), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(req: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        let resp: Json<'_> = serde_json::from_str(r#"{"jobFlowId": "j-2WDJCGEG4E6AJ"}"#).unwrap();
        classify("RunJobFlow", &req, &resp).map(|(_, c)| c)
    }

    fn od(t: &str, count: u32) -> EmrInstances {
        EmrInstances { instance_type: t.into(), count }
    }

    #[test]
    fn the_three_shapes() {
        // The AWS documentation's example: one m5.xlarge master and nothing else.
        let c = run(
            r#"{"instances": {"masterInstanceType": "m5.xlarge", "slaveInstanceType": "m5.xlarge", "instanceCount": 1}}"#,
        );
        assert!(
            matches!(c.unwrap(), Change::Emr { ref instances, spot_instances: 0, .. } if *instances == vec![od("m5.xlarge", 1)])
        );
        let c = run(
            r#"{"instances": {"masterInstanceType": "m5.xlarge", "slaveInstanceType": "r5.xlarge", "instanceCount": "4"}}"#,
        );
        assert!(
            matches!(c.unwrap(), Change::Emr { ref instances, .. } if *instances == vec![od("m5.xlarge", 1), od("r5.xlarge", 3)])
        );
        let groups = r#"{"instances": {"instanceGroups": [
            {"instanceRole": "MASTER", "instanceType": "m5.xlarge", "instanceCount": 1, "market": "ON_DEMAND"},
            {"instanceRole": "CORE", "instanceType": "r5.xlarge", "instanceCount": 2},
            {"instanceRole": "TASK", "instanceType": "m5.xlarge", "instanceCount": 4, "market": "SPOT"},
            {"instanceRole": "TASK", "instanceType": "m5.xlarge", "instanceCount": 2}]}}"#;
        let c = run(groups).unwrap();
        assert!(matches!(c, Change::Emr { ref instances, spot_instances: 4, fleet_choice: false, ref cluster }
            if *instances == vec![od("m5.xlarge", 3), od("r5.xlarge", 2)] && cluster.as_deref() == Some("j-2WDJCGEG4E6AJ")));
        let fleets = r#"{"instances": {"instanceFleets": [
            {"instanceFleetType": "MASTER", "targetOnDemandCapacity": 1, "instanceTypeConfigs": [{"instanceType": "m5.xlarge"}]},
            {"instanceFleetType": "CORE", "targetOnDemandCapacity": 9, "targetSpotCapacity": 4,
             "instanceTypeConfigs": [{"instanceType": "r5.2xlarge", "weightedCapacity": 2}, {"instanceType": "r5.xlarge"}]}]}}"#;
        let c = run(fleets).unwrap();
        assert!(matches!(c, Change::Emr { ref instances, spot_instances: 2, fleet_choice: true, .. }
            if *instances == vec![od("m5.xlarge", 1), od("r5.2xlarge", 5)]));
    }

    #[test]
    fn hostile_counts_are_refused() {
        for n in ["-1", "10001", "1.5", "\"x\""] {
            let req = format!(
                r#"{{"instances": {{"instanceGroups": [{{"instanceType": "m5.xlarge", "instanceCount": {n}}}]}}}}"#
            );
            assert!(run(&req).unwrap_err().field.contains("instanceCount"), "{n}");
        }
        // Many groups, each allowed, together too many.
        let group = r#"{"instanceType": "m5.xlarge", "instanceCount": 5000}"#;
        let req = format!(r#"{{"instances": {{"instanceGroups": [{group}, {group}, {group}]}}}}"#);
        assert!(run(&req).unwrap_err().message.contains("at most 10000"));
        let req = format!(r#"{{"instances": {{"instanceGroups": [{}]}}}}"#, vec!["{}"; 51].join(","));
        assert!(run(&req).unwrap_err().field.contains("instanceGroups"));
        // Nothing priceable is not an error: the cost model says why.
        assert!(matches!(run("{}").unwrap(), Change::Emr { ref instances, .. } if instances.is_empty()));
    }
}
