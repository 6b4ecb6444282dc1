//! The hook: find the version under test, probe it, report to CodeDeploy. The AWS calls sit behind three small
//! traits ([`Deployments`], [`Functions`], [`Secrets`]) so the whole flow is unit-tested with fakes.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::appspec::{self, Target};
use crate::error::CheckError;
use crate::probe::{self, Probes};

/// What CodeDeploy sends a lifecycle hook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookEvent {
    pub deployment_id: String,
    pub lifecycle_event_hook_execution_id: String,
}

/// The result of one invocation.
#[derive(Debug, Clone, Default)]
pub struct Invoked {
    /// Lambda's `FunctionError` (`Unhandled`, …): the function failed.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
}

/// The probe account: registered (idempotently) and logged in through the auth function's live alias.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub email: String,
    pub password: String,
}

#[async_trait]
pub trait Deployments: Send + Sync {
    /// The AppSpec content of the deployment.
    async fn appspec(&self, deployment_id: &str) -> Result<String, CheckError>;
    /// `PutLifecycleEventHookExecutionStatus` with Succeeded or Failed.
    async fn report(&self, event: &HookEvent, passed: bool) -> Result<(), CheckError>;
}

/// One synchronous invocation: a function's version or alias, and the event.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    pub function: &'a str,
    pub qualifier: &'a str,
    pub payload: &'a Value,
}

#[async_trait]
pub trait Functions: Send + Sync {
    async fn invoke(&self, call: Invocation<'_>) -> Result<Invoked, CheckError>;
}

#[async_trait]
pub trait Secrets: Send + Sync {
    async fn probe_account(&self) -> Result<Account, CheckError>;
}

pub struct Hook<D, F, S> {
    pub deployments: D,
    pub functions: F,
    pub secrets: S,
    pub probes: Probes,
    /// The function serving `POST /register` and `POST /login`, invoked through its `live` alias.
    pub auth_function: String,
}

impl<D: Deployments, F: Functions, S: Secrets> Hook<D, F, S> {
    /// Checks the deployment's new version and reports the verdict; the verdict is also returned. An error is
    /// returned only when the report itself failed (CodeDeploy then times the hook out and rolls back).
    pub async fn handle(
        &self,
        event: &HookEvent,
    ) -> Result<Result<Target, CheckError>, CheckError> {
        let verdict = self.check(&event.deployment_id).await;
        match &verdict {
            Ok(target) => {
                tracing::info!(function = %target.function, version = %target.version, "new version passed")
            }
            Err(error) => {
                tracing::error!(%error, deployment = %event.deployment_id, "new version failed")
            }
        }
        self.deployments.report(event, verdict.is_ok()).await?;
        Ok(verdict)
    }

    async fn check(&self, deployment_id: &str) -> Result<Target, CheckError> {
        let target = appspec::target(&self.deployments.appspec(deployment_id).await?)?;
        let probe = self.probes.get(&target.function)?;
        if let Some(route) = &probe.health {
            let status = self.http(&target, route, None).await?;
            if !probe::health_ok(status) {
                return Err(failed(
                    &target,
                    route,
                    format!("status {status}, expected 200"),
                ));
            }
        }
        if let Some(route) = &probe.authenticated {
            let token = self.token().await?;
            let status = self.http(&target, route, Some(&token)).await?;
            if !probe::authenticated_ok(status) {
                return Err(failed(
                    &target,
                    route,
                    format!("status {status} with a valid token"),
                ));
            }
        }
        if probe.queue {
            self.call(&target.function, &target.version, &probe::empty_batch())
                .await?;
        }
        Ok(target)
    }

    async fn http(
        &self,
        target: &Target,
        route: &str,
        token: Option<&str>,
    ) -> Result<u16, CheckError> {
        let event = probe::http_event(route, token, None)?;
        let invoked = self.call(&target.function, &target.version, &event).await?;
        probe::status_of(&invoked.payload).map_err(|detail| failed(target, route, detail))
    }

    /// Invokes and turns a function error into a failure.
    async fn call(
        &self,
        function: &str,
        qualifier: &str,
        payload: &Value,
    ) -> Result<Invoked, CheckError> {
        let call = Invocation {
            function,
            qualifier,
            payload,
        };
        let invoked = self.functions.invoke(call).await?;
        if let Some(kind) = &invoked.function_error {
            let body = String::from_utf8_lossy(&invoked.payload);
            return Err(CheckError::Invoke {
                function: function.to_owned(),
                qualifier: qualifier.to_owned(),
                detail: format!("function error {kind}: {body}"),
            });
        }
        Ok(invoked)
    }

    async fn token(&self) -> Result<String, CheckError> {
        let account = self.secrets.probe_account().await?;
        let body = json!({"email": account.email, "password": account.password});
        let (status, payload) = self.login(&body).await?;
        if status == 200 {
            return access_token(&payload);
        }
        // First deploy of the stage: the account does not exist yet (401). Register it, then log in again.
        if status != 401 {
            return Err(CheckError::Login(format!("login answered {status}")));
        }
        let register = probe::http_event("POST /register", None, Some(&body))?;
        let registered = self.call(&self.auth_function, "live", &register).await?;
        let status = probe::status_of(&registered.payload).map_err(CheckError::Login)?;
        if status >= 300 {
            return Err(CheckError::Login(format!("register answered {status}")));
        }
        match self.login(&body).await? {
            (200, payload) => access_token(&payload),
            (status, _) => Err(CheckError::Login(format!(
                "login after register answered {status}"
            ))),
        }
    }

    async fn login(&self, body: &Value) -> Result<(u16, Vec<u8>), CheckError> {
        let login = probe::http_event("POST /login", None, Some(body))?;
        let response = self.call(&self.auth_function, "live", &login).await?;
        let status = probe::status_of(&response.payload).map_err(CheckError::Login)?;
        Ok((status, response.payload))
    }
}

fn failed(target: &Target, route: &str, detail: String) -> CheckError {
    CheckError::Probe {
        function: target.function.clone(),
        version: target.version.clone(),
        probe: route.to_owned(),
        detail,
    }
}

/// `access_token` from a login response payload (its JSON body, as a string).
fn access_token(payload: &[u8]) -> Result<String, CheckError> {
    let response: Value =
        serde_json::from_slice(payload).map_err(|e| CheckError::Login(e.to_string()))?;
    let body = response
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let body: Value =
        serde_json::from_str(body).map_err(|e| CheckError::Login(format!("body: {e}")))?;
    body.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CheckError::Login("no access_token in the login response".into()))
}
