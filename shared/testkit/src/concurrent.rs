//! Many copies of one task at once, for the race tests.

use std::future::Future;

/// Spawns `count` tasks on the runtime (the `i`-th is `task(i)`), all before awaiting any, and returns their
/// outputs in spawn order; panics if a task panicked.
pub async fn concurrently<F, Fut>(count: usize, task: F) -> Vec<Fut::Output>
where
    F: Fn(usize) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let handles: Vec<_> = (0..count).map(|i| tokio::spawn(task(i))).collect();
    let mut outputs = Vec::with_capacity(count);
    for handle in handles {
        outputs.push(
            handle
                .await
                .unwrap_or_else(|e| panic!("a concurrent task failed: {e}")),
        );
    }
    outputs
}
