//! The whole hook flow against fakes: what it invokes, what it reports.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use deploy_check::CheckError;
use deploy_check::appspec::Target;
use deploy_check::hook::{
    Account, Deployments, Functions, Hook, HookEvent, Invocation, Invoked, Secrets,
};
use deploy_check::probe::Probes;
use serde_json::{Value, json};

const PROBES: &str = r#"{
  "auth-fn": {"health": "GET /health/auth", "authenticated": "GET /me"},
  "projector-fn": {"queue": true}
}"#;

struct FakeDeploy {
    appspec: String,
    reports: Mutex<Vec<bool>>,
}

#[async_trait]
impl Deployments for FakeDeploy {
    async fn appspec(&self, _: &str) -> Result<String, CheckError> {
        Ok(self.appspec.clone())
    }
    async fn report(&self, _: &HookEvent, passed: bool) -> Result<(), CheckError> {
        self.reports
            .lock()
            .unwrap_or_else(|e| panic!("{e:?}"))
            .push(passed);
        Ok(())
    }
}

/// Answers by route; records (function, qualifier, route or "batch").
struct FakeLambda {
    health: u16,
    me: u16,
    crash_batch: bool,
    account_exists: AtomicBool,
    calls: Mutex<Vec<(String, String, String)>>,
}

fn http(status: u16, body: Value) -> Invoked {
    let payload = json!({"statusCode": status, "body": body.to_string()})
        .to_string()
        .into_bytes();
    Invoked {
        function_error: None,
        payload,
    }
}

#[async_trait]
impl Functions for FakeLambda {
    async fn invoke(&self, call: Invocation<'_>) -> Result<Invoked, CheckError> {
        let Invocation {
            function,
            qualifier,
            payload,
        } = call;
        let route = payload["routeKey"].as_str().unwrap_or("batch").to_owned();
        self.calls.lock().unwrap_or_else(|e| panic!("{e:?}")).push((
            function.into(),
            qualifier.into(),
            route.clone(),
        ));
        Ok(match route.as_str() {
            "GET /health/auth" => http(self.health, json!({})),
            "POST /register" => {
                let existed = self.account_exists.swap(true, Ordering::SeqCst);
                http(if existed { 409 } else { 201 }, json!({}))
            }
            "POST /login" if self.account_exists.load(Ordering::SeqCst) => {
                http(200, json!({"access_token": "tok"}))
            }
            "POST /login" => http(401, json!({})),
            "GET /me" => {
                let bearer = payload["headers"]["authorization"] == "Bearer tok";
                http(if bearer { self.me } else { 401 }, json!({}))
            }
            _ if self.crash_batch => Invoked {
                function_error: Some("Unhandled".into()),
                payload: b"{}".to_vec(),
            },
            _ => Invoked {
                function_error: None,
                payload: br#"{"batchItemFailures":[]}"#.to_vec(),
            },
        })
    }
}

struct FakeSecret;

#[async_trait]
impl Secrets for FakeSecret {
    async fn probe_account(&self) -> Result<Account, CheckError> {
        Ok(Account {
            email: "probe@example.com".into(),
            password: "a long probe password".into(),
        })
    }
}

fn appspec(function: &str) -> String {
    json!({"version": 0.0, "Resources": [{"Fn": {"Type": "AWS::Lambda::Function",
        "Properties": {"Name": function, "Alias": "live", "CurrentVersion": "6", "TargetVersion": "7"}}}]})
    .to_string()
}

type TestHook = Hook<FakeDeploy, FakeLambda, FakeSecret>;

fn hook(function: &str, lambda: FakeLambda) -> TestHook {
    Hook {
        deployments: FakeDeploy {
            appspec: appspec(function),
            reports: Mutex::new(vec![]),
        },
        functions: lambda,
        secrets: FakeSecret,
        probes: Probes::parse(PROBES).unwrap_or_else(|e| panic!("{e:?}")),
        auth_function: "auth-fn".into(),
    }
}

fn lambda(health: u16, me: u16) -> FakeLambda {
    FakeLambda {
        health,
        me,
        crash_batch: false,
        account_exists: AtomicBool::new(true),
        calls: Mutex::new(vec![]),
    }
}

fn event() -> HookEvent {
    serde_json::from_value(json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "e-1"}))
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn calls(hook: &TestHook) -> Vec<(String, String, String)> {
    hook.functions
        .calls
        .lock()
        .unwrap_or_else(|e| panic!("{e:?}"))
        .clone()
}

/// The hook's verdict on the test deployment (handling it must not fail).
async fn verdict(hook: &TestHook) -> Result<Target, CheckError> {
    hook.handle(&event())
        .await
        .unwrap_or_else(|e| panic!("the hook failed: {e:?}"))
}

fn reports(hook: &TestHook) -> Vec<bool> {
    hook.deployments
        .reports
        .lock()
        .unwrap_or_else(|e| panic!("{e:?}"))
        .clone()
}

#[tokio::test]
async fn a_healthy_version_passes_and_is_reported_succeeded() {
    let hook = hook("auth-fn", lambda(200, 200));
    let verdict = verdict(&hook).await;
    assert_eq!(verdict.unwrap_or_else(|e| panic!("{e:?}")).version, "7");
    assert_eq!(reports(&hook), vec![true]);
    let c = calls(&hook);
    let on = |q: &str, r: &str| ("auth-fn".to_owned(), q.to_owned(), r.to_owned());
    // The probes hit version 7; the token comes from the live alias.
    assert_eq!(
        c,
        vec![
            on("7", "GET /health/auth"),
            on("live", "POST /login"),
            on("7", "GET /me")
        ]
    );
}

#[tokio::test]
async fn the_probe_account_is_registered_on_first_use() {
    let fresh = FakeLambda {
        account_exists: AtomicBool::new(false),
        ..lambda(200, 200)
    };
    let hook = hook("auth-fn", fresh);
    assert!(verdict(&hook).await.is_ok());
    let routes: Vec<String> = calls(&hook)
        .into_iter()
        .map(|(_, _, route)| route)
        .collect();
    assert_eq!(
        routes,
        [
            "GET /health/auth",
            "POST /login",
            "POST /register",
            "POST /login",
            "GET /me"
        ]
    );
}

#[tokio::test]
async fn an_unhealthy_version_is_reported_failed() {
    let hook = hook("auth-fn", lambda(503, 200));
    let verdict = verdict(&hook).await;
    assert!(
        matches!(verdict, Err(CheckError::Probe { ref probe, .. }) if probe == "GET /health/auth")
    );
    assert_eq!(reports(&hook), vec![false]);
}

#[tokio::test]
async fn a_version_refusing_valid_tokens_is_reported_failed() {
    for status in [401, 500] {
        let hook = hook("auth-fn", lambda(200, status));
        let verdict = verdict(&hook).await;
        assert!(
            matches!(verdict, Err(CheckError::Probe { ref probe, .. }) if probe == "GET /me"),
            "{status}"
        );
        assert_eq!(reports(&hook), vec![false]);
    }
}

#[tokio::test]
async fn a_queue_consumer_must_take_an_empty_batch() {
    let ok = hook("projector-fn", lambda(200, 200));
    assert!(verdict(&ok).await.is_ok());
    assert_eq!(
        calls(&ok),
        vec![("projector-fn".into(), "7".into(), "batch".into())]
    );
    let crashing = hook(
        "projector-fn",
        FakeLambda {
            crash_batch: true,
            ..lambda(200, 200)
        },
    );
    let verdict = verdict(&crashing).await;
    assert!(matches!(verdict, Err(CheckError::Invoke { .. })));
    assert_eq!(reports(&crashing), vec![false]);
}

#[tokio::test]
async fn an_unknown_function_fails_closed() {
    let hook = hook("someone-else", lambda(200, 200));
    let verdict = verdict(&hook).await;
    assert!(matches!(verdict, Err(CheckError::UnknownFunction(_))));
    assert_eq!(reports(&hook), vec![false]);
    assert!(calls(&hook).is_empty());
}
