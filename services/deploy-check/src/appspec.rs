//! The deployment's AppSpec: which function, alias and version CodeDeploy is about to shift traffic to.
//!
//! CloudFormation (SAM's `DeploymentPreference`) creates the deployment with an AppSpec such as
//! `{"version":0.0,"Resources":[{"AuthManager":{"Type":"AWS::Lambda::Function","Properties":
//! {"Name":"stack-AuthManager-x","Alias":"live","CurrentVersion":"3","TargetVersion":"4"}}}]}`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::CheckError;

/// The version under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The function's name (an ARN in the AppSpec is reduced to its name).
    pub function: String,
    pub alias: String,
    pub version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Properties {
    name: String,
    alias: String,
    target_version: String,
}

/// Parses an AppSpec (JSON) with exactly one Lambda resource.
pub fn target(content: &str) -> Result<Target, CheckError> {
    let spec: Value =
        serde_json::from_str(content).map_err(|e| CheckError::AppSpec(format!("not JSON: {e}")))?;
    let resources = spec
        .get("Resources")
        .and_then(Value::as_array)
        .ok_or_else(|| CheckError::AppSpec("no Resources list".into()))?;
    let [resource] = resources.as_slice() else {
        return Err(CheckError::AppSpec(format!(
            "{} resources, expected one",
            resources.len()
        )));
    };
    let function = resource
        .as_object()
        .and_then(|by_name| by_name.values().next())
        .filter(|f| f.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::Function"))
        .and_then(|f| f.get("Properties"))
        .ok_or_else(|| {
            CheckError::AppSpec("the resource is not an AWS::Lambda::Function".into())
        })?;
    let props: Properties = serde_json::from_value(function.clone())
        .map_err(|e| CheckError::AppSpec(format!("properties: {e}")))?;
    Ok(Target {
        function: function_name(&props.name).to_owned(),
        alias: props.alias,
        version: props.target_version,
    })
}

/// `arn:aws:lambda:region:account:function:name[:qualifier]` → `name`; a plain name is returned as is.
pub fn function_name(name_or_arn: &str) -> &str {
    match name_or_arn.strip_prefix("arn:") {
        Some(rest) => rest.split(':').nth(5).unwrap_or(name_or_arn),
        None => name_or_arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAM: &str = r#"{"version":0.0,"Resources":[{"AuthManager":{"Type":"AWS::Lambda::Function",
        "Properties":{"Name":"stack-AuthManager-AbC","Alias":"live","CurrentVersion":"3","TargetVersion":"4"}}}]}"#;

    #[test]
    fn reads_the_target_version() {
        let t = target(SAM).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            t,
            Target {
                function: "stack-AuthManager-AbC".into(),
                alias: "live".into(),
                version: "4".into()
            }
        );
    }

    #[test]
    fn reduces_an_arn_to_the_function_name() {
        let spec = SAM.replace(
            "stack-AuthManager-AbC",
            "arn:aws:lambda:eu-west-1:123456789012:function:fn-x:live",
        );
        assert_eq!(
            target(&spec).unwrap_or_else(|e| panic!("{e:?}")).function,
            "fn-x"
        );
        assert_eq!(function_name("fn-y"), "fn-y");
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        assert!(matches!(
            target("version: 0.0"),
            Err(CheckError::AppSpec(_))
        ));
        assert!(matches!(
            target(r#"{"Resources":[]}"#),
            Err(CheckError::AppSpec(_))
        ));
        let not_lambda = SAM.replace("AWS::Lambda::Function", "AWS::ECS::Service");
        assert!(matches!(target(&not_lambda), Err(CheckError::AppSpec(_))));
        let no_target = SAM.replace("TargetVersion", "Other");
        assert!(matches!(target(&no_target), Err(CheckError::AppSpec(_))));
    }
}
