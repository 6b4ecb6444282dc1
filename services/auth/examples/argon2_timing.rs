//! Measures argon2id hash and verify time (and process RSS) with the service's parameters.
//!
//! `cargo run -p auth --release --example argon2_timing [m_kib t p [runs]]` (defaults: 19456 2 1, 15 runs).
//! `spawn_blocking`-free: hashes run on the hasher's worker thread. Also compares the unknown-user path (dummy hash) with the wrong-password path: they must cost the same.

use std::time::{Duration, Instant};

use auth::domain::PasswordHasher;

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    let min = samples.first().copied().unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    format!(
        "min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(min),
        ms(median),
        ms(max)
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (m, t, p) = match args.as_slice() {
        [m, t, p, ..] => (*m, *t, *p),
        _ => (19_456, 2, 1),
    };
    let runs = args.get(3).copied().unwrap_or(15) as usize;
    let hasher = PasswordHasher::new(m, t, p)?;
    let password = "correct horse battery staple".to_owned();
    let hash = hasher.hash(password.clone()).await?; // warm-up (and the dummy hash below)
    let _ = hasher.verify(password.clone(), None).await?;

    let mut hashing = Vec::new();
    let mut verify_wrong = Vec::new();
    let mut verify_unknown = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        hasher.hash(password.clone()).await?;
        hashing.push(start.elapsed());
        let start = Instant::now();
        hasher
            .verify("wrong password!!".into(), Some(hash.clone()))
            .await?;
        verify_wrong.push(start.elapsed());
        let start = Instant::now();
        hasher.verify("wrong password!!".into(), None).await?;
        verify_unknown.push(start.elapsed());
    }
    println!("argon2id m={m} KiB t={t} p={p}, {runs} runs (worker-thread hop included)");
    println!("hash:                      {}", stats(hashing));
    println!("verify, wrong password:    {}", stats(verify_wrong));
    println!("verify, unknown user:      {}", stats(verify_unknown));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
    {
        println!("{line}");
    }
    Ok(())
}
