//! CodeDeploy pre-traffic hook. Before CodeDeploy moves any traffic to a function's new version, this function
//! invokes that version directly (its health route, one request with a probe account's token, or an empty queue
//! batch) and reports Succeeded or Failed; a failure stops the deployment and the alias stays where it was.

pub mod appspec;
pub mod aws;
pub mod error;
pub mod hook;
pub mod probe;

use lambda_runtime::LambdaEvent;
use platform::aws::SdkConfig;
use platform::config::Env;

pub use error::CheckError;
pub use hook::{Hook, HookEvent};

pub type AwsHook = Hook<aws::CodeDeploy, aws::Lambda, aws::ProbeSecret>;

/// The hook from `PROBES`, `AUTH_FUNCTION` and `PROBE_ACCOUNT_SECRET_ID`, with the SDK clients.
pub fn from_env(env: &Env, sdk: &SdkConfig) -> Result<AwsHook, CheckError> {
    let required = |name: &str| {
        env.required(name)
            .map_err(|e| CheckError::Config(e.to_string()))
    };
    Ok(Hook {
        deployments: aws::CodeDeploy(aws_sdk_codedeploy::Client::new(sdk)),
        functions: aws::Lambda(aws_sdk_lambda::Client::new(sdk)),
        secrets: aws::ProbeSecret {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            secret_id: required("PROBE_ACCOUNT_SECRET_ID")?,
        },
        probes: probe::Probes::parse(&required("PROBES")?)?,
        auth_function: required("AUTH_FUNCTION")?,
    })
}

/// The Lambda handler: `lambda_runtime::run(service_fn(|e| deploy_check::handler(&hook, e)))`. The verdict goes to
/// CodeDeploy; the invocation itself fails only when the hook could not run or report.
pub async fn handler(
    hook: &AwsHook,
    event: LambdaEvent<HookEvent>,
) -> Result<(), lambda_runtime::Error> {
    hook.handle(&event.payload)
        .await
        .map(|_| ())
        .map_err(lambda_runtime::Error::from)
}
