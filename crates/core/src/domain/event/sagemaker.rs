//! Classifies SageMaker calls from CloudTrail: endpoint configurations, endpoints, notebook
//! instances and training jobs.

use serde_json_borrow::Value as Json;

use super::{at, count_at, field, items, str_at, string_at, Change, EndpointVariant, EventKind, InvalidInput};

/// Classifies the SageMaker call `name` from its request.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok(match name {
        "CreateEndpointConfig" => endpoint_config(req)?,
        "CreateEndpoint" => (
            EventKind::SagemakerCreateEndpoint,
            Change::Endpoint {
                name: string_at(req, &["endpointName"]),
                config: string_at(req, &["endpointConfigName"]),
                variants: Vec::new(),
            },
        ),
        "CreateNotebookInstance" => (
            EventKind::SagemakerCreateNotebookInstance,
            Change::SageMaker {
                name: string_at(req, &["notebookInstanceName"]),
                instance_type: string_at(req, &["instanceType"]),
                instances: 1,
                max_runtime_seconds: None,
            },
        ),
        "CreateTrainingJob" => training_job(req)?,
        _ => (EventKind::Unknown, Change::Unknown),
    })
}

/// CreateEndpointConfig: the configuration's instance-backed production variants.
fn endpoint_config(req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let mut variants = Vec::new();
    // Serverless variants have no instances (they are billed per request); skipped.
    for v in items(field(req, "productionVariants")) {
        if let Some(t) = str_at(v, &["instanceType"]) {
            let n =
                count_at(v, &["initialInstanceCount"], "requestParameters.productionVariants.initialInstanceCount")?;
            variants.push(EndpointVariant { instance_type: t.to_owned(), instances: n.unwrap_or(1) as u32 });
        }
    }
    Ok((
        EventKind::SagemakerCreateEndpointConfig,
        Change::EndpointConfig { name: string_at(req, &["endpointConfigName"]), variants },
    ))
}

/// CreateTrainingJob: its instances and, when the request bounds it, its longest run (a
/// maximum runtime out of range is ignored rather than refused).
fn training_job(req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    Ok((
        EventKind::SagemakerCreateTrainingJob,
        Change::SageMaker {
            name: string_at(req, &["trainingJobName"]),
            instance_type: string_at(req, &["resourceConfig", "instanceType"]),
            instances: count_at(
                req,
                &["resourceConfig", "instanceCount"],
                "requestParameters.resourceConfig.instanceCount",
            )?
            .unwrap_or(1) as u32,
            max_runtime_seconds: count_at(
                req,
                &["stoppingCondition", "maxRuntimeInSeconds"],
                "requestParameters.stoppingCondition.maxRuntimeInSeconds",
            )
            .ok()
            .flatten()
            .or_else(|| {
                at(req, &["stoppingCondition", "maxRuntimeInSeconds"]).as_u64().filter(|s| *s <= 28 * 24 * 3600)
            }),
        },
    ))
}
