//! The customer template against the code. `cfn/costradar-role.yaml`'s policy must grant exactly
//! the actions in `costradar_core::access::permissions` (no more, no fewer); its trust policy must require
//! the ExternalId and costradar's scanner roles; no action may be a wildcard or read data, except
//! the CUR exceptions the template lists in one place, each limited to a resource of the stack.
//! The analysers (cfn-lint, checkov, parliament, cloudsplaining, policy_sentry) run from
//! `tests/templates/` (pytest); these checks need nothing but the YAML.

use std::collections::BTreeSet;

use costradar_core::access::permissions::{actions_for, Task, CUSTOMER_ACTIONS, CUSTOMER_PERMISSIONS};
use serde_yaml::Value;

fn role_template() -> Value {
    let path = costradar_tests::repo_root().join("cfn/costradar-role.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).expect("cfn/costradar-role.yaml parses")
}

/// `!Tag value` → ("Tag", value); CloudFormation's short forms are YAML tags.
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string().trim_start_matches('!').to_owned(), &t.value)),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        other => panic!("expected a string or a list of strings, got {other:?}"),
    }
}

/// One policy statement and, if it is wrapped in `!If [Condition, statement, !Ref AWS::NoValue]`,
/// the condition it exists under.
struct Statement<'a> {
    condition: Option<String>,
    body: &'a Value,
}

impl Statement<'_> {
    fn sid(&self) -> &str {
        self.body["Sid"].as_str().expect("every statement has a Sid")
    }

    fn actions(&self) -> Vec<String> {
        strings(&self.body["Action"])
    }

    /// Resources as written: plain strings, or the text of `!Sub`/`!GetAtt` (never `*` inside
    /// those).
    fn resources(&self) -> Vec<String> {
        fn one(v: &Value) -> Vec<String> {
            match v {
                Value::String(s) => vec![s.clone()],
                Value::Sequence(items) => items.iter().flat_map(one).collect(),
                Value::Tagged(_) => {
                    let (tag, inner) = tagged(v).unwrap();
                    assert!(tag == "Sub" || tag == "GetAtt", "unexpected !{tag} in a Resource");
                    vec![format!("!{tag} {}", inner.as_str().expect("a one-string !Sub or !GetAtt"))]
                }
                other => panic!("unexpected Resource {other:?}"),
            }
        }
        one(&self.body["Resource"])
    }
}

fn policy_statements(t: &Value) -> Vec<Statement<'_>> {
    let policy = &t["Resources"]["ReadOnlyPolicy"];
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy", "ReadOnlyPolicy is the role's one managed policy");
    let list = policy["Properties"]["PolicyDocument"]["Statement"].as_sequence().expect("a list of statements");
    list.iter()
        .map(|s| match tagged(s) {
            None => Statement { condition: None, body: s },
            Some((tag, args)) => {
                assert_eq!(tag, "If", "a statement is either plain or !If [Condition, statement, !Ref AWS::NoValue]");
                let args = args.as_sequence().unwrap();
                assert_eq!(args.len(), 3);
                let (else_tag, else_value) = tagged(&args[2]).expect("the else branch is !Ref AWS::NoValue");
                assert_eq!((else_tag.as_str(), else_value.as_str()), ("Ref", Some("AWS::NoValue")));
                Statement { condition: Some(args[0].as_str().unwrap().to_owned()), body: &args[1] }
            }
        })
        .collect()
}

fn data_read_actions() -> BTreeSet<String> {
    let path = costradar_tests::repo_root().join("tests/templates/data_read_actions.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The actions the template's Metadata lists as the documented exceptions.
fn documented_exceptions(t: &Value) -> BTreeSet<String> {
    t["Resources"]["ReadOnlyPolicy"]["Metadata"]["Costradar"]["Exceptions"]
        .as_sequence()
        .expect("ReadOnlyPolicy Metadata lists the exceptions")
        .iter()
        .map(|e| e["Action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn policy_grants_exactly_the_actions_the_code_calls() {
    let t = role_template();
    let granted: BTreeSet<String> = policy_statements(&t).iter().flat_map(|s| s.actions()).collect();
    let table: BTreeSet<String> = CUSTOMER_ACTIONS.iter().map(|a| a.to_string()).collect();
    let missing: Vec<_> = table.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "policy and crates/core/src/access/permissions.rs differ\n  called but not granted: {missing:?}\n  granted but never called: {extra:?}"
    );
    assert_eq!(table.len(), CUSTOMER_ACTIONS.len(), "the table lists an action twice");
}

/// The scan's session takes this policy by name (`permissions::session_policy`): its name is
/// fixed, and the session it gives with the scan's inline Deny is exactly the scan's actions.
#[test]
fn the_scan_session_is_the_read_only_policy_less_what_the_scan_does_not_call() {
    use costradar_core::access::permissions::{
        actions_for, session_actions, session_policy, Task, READ_ONLY_POLICY_NAME,
    };
    let t = role_template();
    assert_eq!(t["Resources"]["ReadOnlyPolicy"]["Properties"]["ManagedPolicyName"], READ_ONLY_POLICY_NAME);
    let granted: Vec<String> = policy_statements(&t).iter().flat_map(|s| s.actions()).collect();
    let granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    let role = costradar_core::domain::RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap();
    let mut can = session_actions(&session_policy(Task::Scan, &role), &granted, &granted);
    let mut want: Vec<String> = actions_for(Task::Scan).into_iter().map(str::to_owned).collect();
    can.sort();
    want.sort();
    assert_eq!(can, want);
}

#[test]
fn cur_query_actions_are_granted_only_with_the_cur() {
    let t = role_template();
    let cur: BTreeSet<String> = actions_for(Task::CurQuery).into_iter().map(str::to_owned).collect();
    for s in policy_statements(&t) {
        let conditional = s.condition.as_deref() == Some("CurEnabled");
        for a in s.actions() {
            assert_eq!(
                cur.contains(&a),
                conditional,
                "{a} in statement {}: CUR actions, and only they, exist under CurEnabled",
                s.sid()
            );
        }
    }
}

#[test]
fn no_action_is_a_wildcard() {
    let t = role_template();
    for s in policy_statements(&t) {
        assert_eq!(s.body["Effect"], "Allow", "{}", s.sid());
        assert!(s.body.get("NotAction").is_none() && s.body.get("NotResource").is_none(), "{}", s.sid());
        for a in s.actions() {
            assert!(!a.contains('*') && !a.contains('?'), "{a} in {} is a wildcard", s.sid());
            assert_eq!(a.matches(':').count(), 1, "{a} is not service:Action");
        }
    }
}

#[test]
fn data_is_read_only_through_documented_scoped_exceptions() {
    let t = role_template();
    let data_read = data_read_actions();
    assert!(
        data_read.contains("secretsmanager:getsecretvalue") && data_read.len() > 30,
        "the data-read list was emptied"
    );
    let exceptions = documented_exceptions(&t);
    for s in policy_statements(&t) {
        for a in s.actions() {
            if !data_read.contains(&a.to_ascii_lowercase()) {
                continue;
            }
            assert!(
                exceptions.contains(&a),
                "{a} (statement {}) reads data and is not a documented exception",
                s.sid()
            );
            assert_eq!(s.condition.as_deref(), Some("CurEnabled"), "{a} is granted without EnableCur");
            let resources = s.resources();
            assert!(resources.iter().all(|r| r != "*"), "{a} on Resource * (statement {})", s.sid());
            assert!(
                resources.iter().all(|r| r.contains("CurBucket")
                    || r.contains("AthenaResultsBucket")
                    || r.contains("${CurWorkgroup}")),
                "{a} (statement {}) reaches beyond the stack's CUR bucket, results bucket and workgroup: {resources:?}",
                s.sid()
            );
        }
    }
}

#[test]
fn every_documented_exception_is_granted_only_on_stack_resources() {
    let t = role_template();
    let exceptions = documented_exceptions(&t);
    assert!(!exceptions.is_empty());
    let statements = policy_statements(&t);
    for e in &exceptions {
        let granting: Vec<&Statement> = statements.iter().filter(|s| s.actions().contains(e)).collect();
        assert!(!granting.is_empty(), "exception {e} is documented but not granted (remove it from Metadata)");
        for s in granting {
            assert_eq!(s.condition.as_deref(), Some("CurEnabled"), "{e}");
            assert!(
                s.resources().iter().all(|r| r.starts_with('!')),
                "{e}: every resource is this stack's ({})",
                s.sid()
            );
        }
    }
}

#[test]
fn trust_policy_requires_external_id_and_names_costradars_two_roles() {
    let t = role_template();
    let role = &t["Resources"]["Role"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let p = &role["Properties"];
    assert_eq!(p["RoleName"], "CostradarReadOnly");
    assert_eq!(p["Path"], "/");
    assert_eq!(p["MaxSessionDuration"].as_u64(), Some(3600));
    assert!(
        p.get("Policies").is_none() && p.get("ManagedPolicyArns").is_none(),
        "the role's only policy is ReadOnlyPolicy"
    );
    let statements = p["AssumeRolePolicyDocument"]["Statement"].as_sequence().unwrap();
    assert_eq!(statements.len(), 1, "one trust statement");
    let s = &statements[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "sts:AssumeRole");
    let principal = tagged(&s["Principal"]["AWS"]).expect("principal is a !Sub");
    assert_eq!(principal, ("Sub".to_owned(), &Value::from("arn:aws:iam::${CostradarAccountId}:root")));
    let external_id = tagged(&s["Condition"]["StringEquals"]["sts:ExternalId"]).expect("sts:ExternalId is a !Ref");
    assert_eq!(external_id, ("Ref".to_owned(), &Value::from("ExternalId")));
    // Two roles by ARN, no wildcard: the scan and cur-query roles of costradar's region.
    let pinned: Vec<String> = s["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        .as_sequence()
        .expect("a list of role ARNs")
        .iter()
        .map(|v| {
            let (tag, args) = tagged(v).expect("each ARN is a !Sub");
            assert_eq!(tag, "Sub");
            args[0].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        pinned,
        [
            "arn:aws:iam::${CostradarAccountId}:role/costradar/costradar-scan-${CostradarRegion}",
            "arn:aws:iam::${CostradarAccountId}:role/costradar/costradar-cur-query-${CostradarRegion}",
        ]
    );
    let conditions: Vec<&str> = s["Condition"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(conditions, ["StringEquals", "ArnEquals"], "no other (weaker) condition operator");
    // The names the code assumes are the names the stack creates.
    assert_eq!(p["RoleName"], costradar_core::domain::CUSTOMER_ROLE_NAME);
    let enrichment = &t["Resources"]["EnrichmentRole"]["Properties"];
    assert_eq!(enrichment["RoleName"], costradar_core::domain::ENRICHMENT_ROLE_NAME);
}

#[test]
fn parameters_the_code_relies_on() {
    let t = role_template();
    let params = &t["Parameters"];
    assert_eq!(params["TenantId"]["AllowedPattern"], "^t-[a-z0-9]{16}$");
    assert!(params["TenantId"].get("Default").is_none());
    let e = &params["ExternalId"];
    assert_eq!((e["MinLength"].as_u64(), e["MaxLength"].as_u64()), (Some(32), Some(128)));
    assert!(e.get("AllowedPattern").is_some() && e.get("Default").is_none(), "ExternalId is required and validated");
    assert_eq!(params["CostradarAccountId"]["AllowedPattern"], "^[0-9]{12}$");
    // The quick-create link the code prints fills these in by name.
    for name in ["TenantId", "ExternalId", "CostradarAccountId", "CustomResourceTopicArn", "ReceiverUrl"] {
        assert!(params.get(name).is_some(), "parameter {name}");
    }
}

#[test]
fn custom_resource_carries_what_the_handler_deserialises() {
    let t = role_template();
    let c = &t["Resources"]["Connection"];
    assert_eq!(c["Type"], "Custom::CostradarConnection");
    let p = &c["Properties"];
    assert_eq!(tagged(&p["ServiceToken"]), Some(("Ref".to_owned(), &Value::from("CustomResourceTopicArn"))));
    assert_eq!(tagged(&p["AccountId"]), Some(("Ref".to_owned(), &Value::from("AWS::AccountId"))));
    let role_arn = tagged(&p["RoleArn"]).expect("RoleArn is a !GetAtt");
    assert_eq!((role_arn.0.as_str(), role_arn.1.as_str()), ("GetAtt", Some("Role.Arn")), "depends on the role");
    assert_eq!(strings(&c["DependsOn"]), ["ReadOnlyPolicy"], "depends on the policy");
    let keys: BTreeSet<&str> = p.as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = [
        "ServiceToken",
        "TenantId",
        "AccountId",
        "RoleArn",
        "ExternalId",
        "Regions",
        "CurBucket",
        "CurDatabase",
        "CurTable",
        "CurWorkgroup",
    ]
    .into();
    assert_eq!(keys, expected);
    // All four CUR settings or none: each is !If [CurEnabled, ..., !Ref AWS::NoValue].
    for k in ["CurBucket", "CurDatabase", "CurTable", "CurWorkgroup"] {
        let (tag, args) = tagged(&p[k]).unwrap_or_else(|| panic!("{k} is conditional"));
        assert_eq!(tag, "If");
        assert_eq!(args[0], "CurEnabled", "{k}");
        assert_eq!(tagged(&args[2]), Some(("Ref".to_owned(), &Value::from("AWS::NoValue"))), "{k}");
    }
    // The account's token is the attribute the handler answers with.
    let key = &t["Resources"]["RealtimeConnection"]["Properties"]["AuthParameters"]["ApiKeyAuthParameters"];
    let value = tagged(&key["ApiKeyValue"]).expect("ApiKeyValue is a !GetAtt");
    let attribute = format!("Connection.{}", costradar_core::onboarding::custom_resource::INGEST_TOKEN_ATTRIBUTE);
    assert_eq!((value.0.as_str(), value.1.as_str()), ("GetAtt", Some(attribute.as_str())));
}

#[test]
fn every_table_row_says_why() {
    // The table is also what ACCESS.md's reviewers see through the template: keep it honest.
    for p in CUSTOMER_PERMISSIONS {
        assert!(p.purpose.len() >= 10, "{}: purpose too short", p.action);
        assert!(!p.tasks.is_empty(), "{}", p.action);
    }
}

/// Every `ErrorEquals` name in the state machines is an error type the Rust tasks can emit
/// (`costradar_core::workflow::ERROR_TYPES`) or one of the Lambda service / Step Functions names the
/// contract (`docs/workflows.md`, "Error types") lists. A typo would otherwise never match.
#[test]
fn every_error_equals_name_in_the_state_machines_is_one_the_code_or_the_contract_names() {
    let root = costradar_tests::repo_root();
    let doc = std::fs::read_to_string(root.join("docs/workflows.md")).unwrap();
    let table = doc.split("## Error types").nth(1).expect("docs/workflows.md has an 'Error types' section");
    let table = table.split("\n## ").next().unwrap();
    let listed: BTreeSet<String> = table
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|n| n.starts_with("Lambda.") || n.starts_with("States."))
        .map(str::to_owned)
        .collect();
    assert!(listed.contains("Lambda.ServiceException") && listed.contains("States.ALL"), "{listed:?}");
    for t in costradar_core::workflow::ERROR_TYPES {
        assert!(table.contains(&format!("`{t}`")), "docs/workflows.md does not list the error type {t}");
    }

    fn error_names(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if k == "ErrorEquals" {
                        out.extend(
                            x.as_array().expect("ErrorEquals is a list").iter().map(|n| n.as_str().unwrap().to_owned()),
                        );
                    } else {
                        error_names(x, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| error_names(x, out)),
            _ => {}
        }
    }

    let dir = root.join("infra/statemachines");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no state machine in infra/statemachines");
    let mut seen = BTreeSet::new();
    for path in files {
        // `${Substitution}` placeholders stand where numbers go; any number parses.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rendered = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("${") {
            let end = rest[i..].find('}').expect("closed placeholder") + i;
            let quoted = rest[..i].ends_with('"');
            rendered.push_str(&rest[..i]);
            rendered.push_str(if quoted { "placeholder" } else { "1" });
            rest = &rest[end + 1..];
        }
        rendered.push_str(rest);
        let def: serde_json::Value =
            serde_json::from_str(&rendered).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut names = Vec::new();
        error_names(&def, &mut names);
        assert!(!names.is_empty(), "{}: no Retry or Catch", path.display());
        for n in names {
            assert!(
                costradar_core::workflow::ERROR_TYPES.contains(&n.as_str()) || listed.contains(&n),
                "{}: ErrorEquals {n:?} is neither a TaskError type nor a Lambda./States. name in docs/workflows.md",
                path.display()
            );
            seen.insert(n);
        }
    }
    assert!(seen.contains("Transient"), "the state machines retry Transient: {seen:?}");
}
