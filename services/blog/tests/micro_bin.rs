//! The `blog-micro-lambda` binary refuses to start without a valid `BLOG_OPERATION`, and says why.

use std::time::{Duration, Instant};

use testkit::process::offline_lambda;

/// Runs the binary with only `vars` set (no AWS credentials, no runtime API); returns (success, stdout+stderr).
fn start(vars: &[(&str, &str)]) -> (bool, String) {
    let mut child = offline_lambda(env!("CARGO_BIN_EXE_blog-micro-lambda"))
        .envs(vars.iter().copied())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("blog-micro-lambda did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_missing_operation_stops_the_start_with_the_variable_named() {
    let (ok, out) = start(&[]);
    assert!(!ok, "{out}");
    assert!(out.contains("cannot start"), "{out}");
    assert!(
        out.contains("environment variable BLOG_OPERATION is required"),
        "{out}"
    );
}

#[test]
fn an_unknown_operation_stops_the_start_listing_the_known_ones() {
    let (ok, out) = start(&[("BLOG_OPERATION", "ListPost")]);
    assert!(!ok, "{out}");
    assert!(out.contains("unknown blog operation"), "{out}");
    assert!(
        out.contains("ListPosts, CreatePost, GetPost, UpdatePost, DeletePost"),
        "{out}"
    );
}

#[test]
fn a_known_operation_gets_past_the_parse_to_the_next_setting() {
    // Without BLOG_TABLE the start still fails, but on the table, not on the operation.
    let (ok, out) = start(&[("BLOG_OPERATION", "GetPost")]);
    assert!(!ok, "{out}");
    assert!(!out.contains("unknown blog operation"), "{out}");
    assert!(out.contains("BLOG_TABLE"), "{out}");
}
