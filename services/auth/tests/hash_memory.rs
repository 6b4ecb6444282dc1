//! Hashing memory stays bounded: repeated argon2id hashes with the production parameters reuse one buffer.
//!
//! A regression test for RSS growing by ~19 MiB per login (glibc keeping each freed 64-byte-aligned
//! argon2 allocation), which would OOM a 256 MB function after about a dozen logins. Alone in its own
//! test binary so no other test's allocations disturb the measurement.

use auth::domain::PasswordHasher;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn repeated_hashes_do_not_grow_memory() {
    let hasher = PasswordHasher::recommended();
    let hash = hasher
        .hash("correct horse battery staple".into())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after_first = rss_kib();
    assert!(after_first > 0, "cannot read VmRSS");
    for _ in 0..5 {
        hasher
            .hash("correct horse battery staple".into())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let ok = hasher
            .verify("wrong horse battery staple".into(), Some(hash.clone()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!ok);
        let _ = hasher.verify("unknown user".into(), None).await;
    }
    let growth = rss_kib().saturating_sub(after_first);
    // 15 more hash-sized computations; the old behaviour grew ~19 MiB each.
    assert!(
        growth < 12 * 1024,
        "RSS grew by {growth} KiB over 15 hashes"
    );
}
