//! The traits of [`crate::hook`] over the AWS SDK clients (built once per execution environment).

use async_trait::async_trait;
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use aws_sdk_lambda::primitives::Blob;

use crate::error::CheckError;
use crate::hook::{Account, Deployments, Functions, HookEvent, Invocation, Invoked, Secrets};

fn aws(operation: &'static str, error: impl std::error::Error) -> CheckError {
    CheckError::Aws {
        operation,
        detail: aws_sdk_lambda::error::DisplayErrorContext(error).to_string(),
    }
}

pub struct CodeDeploy(pub aws_sdk_codedeploy::Client);

#[async_trait]
impl Deployments for CodeDeploy {
    async fn appspec(&self, deployment_id: &str) -> Result<String, CheckError> {
        let out = self
            .0
            .get_deployment()
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(|e| aws("codedeploy:GetDeployment", e))?;
        let revision = out.deployment_info().and_then(|d| d.revision());
        revision
            .and_then(|r| r.app_spec_content().and_then(|c| c.content()))
            .or_else(|| revision.and_then(|r| r.string().and_then(|s| s.content())))
            .map(str::to_owned)
            .ok_or_else(|| {
                CheckError::AppSpec(format!("deployment {deployment_id} has no AppSpec content"))
            })
    }

    async fn report(&self, event: &HookEvent, passed: bool) -> Result<(), CheckError> {
        let status = if passed {
            LifecycleEventStatus::Succeeded
        } else {
            LifecycleEventStatus::Failed
        };
        self.0
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(&event.deployment_id)
            .lifecycle_event_hook_execution_id(&event.lifecycle_event_hook_execution_id)
            .status(status)
            .send()
            .await
            .map_err(|e| aws("codedeploy:PutLifecycleEventHookExecutionStatus", e))?;
        Ok(())
    }
}

pub struct Lambda(pub aws_sdk_lambda::Client);

#[async_trait]
impl Functions for Lambda {
    async fn invoke(&self, call: Invocation<'_>) -> Result<Invoked, CheckError> {
        let out = self
            .0
            .invoke()
            .function_name(call.function)
            .qualifier(call.qualifier)
            .payload(Blob::new(call.payload.to_string()))
            .send()
            .await
            .map_err(|e| aws("lambda:InvokeFunction", e))?;
        Ok(Invoked {
            function_error: out.function_error().map(str::to_owned),
            payload: out
                .payload()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
        })
    }
}

pub struct ProbeSecret {
    pub client: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
}

#[async_trait]
impl Secrets for ProbeSecret {
    async fn probe_account(&self) -> Result<Account, CheckError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| aws("secretsmanager:GetSecretValue", e))?;
        let text = out
            .secret_string()
            .ok_or_else(|| CheckError::Config("the probe secret is empty".into()))?;
        serde_json::from_str(text).map_err(|e| CheckError::Config(format!("the probe secret: {e}")))
    }
}
