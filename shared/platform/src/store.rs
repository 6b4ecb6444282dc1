//! The failure every store shares: a dependency that is down or throttling (503, retry) or anything else
//! (500, a bug or misconfiguration). A service's own store error wraps it beside its domain outcomes
//! (not found, conflict, …), and [`StoreFailure::problem`] is its one mapping to a response.

use std::sync::{Mutex, MutexGuard};

use crate::Problem;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFailure {
    /// Throttling, timeouts, service errors: retry later (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("store failure: {0}")]
    Internal(String),
}

impl StoreFailure {
    /// What a client sees: 503 (retry) or 500, never the cause.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Unavailable(_) => Problem::unavailable(),
            Self::Internal(_) => Problem::internal(),
        }
    }
}

/// `StoreError::unavailable(..)` / `StoreError::internal(..)` for any store error that wraps a
/// [`StoreFailure`] (and for [`StoreFailure`] itself).
pub trait Failure: From<StoreFailure> {
    fn unavailable(detail: impl Into<String>) -> Self {
        StoreFailure::Unavailable(detail.into()).into()
    }

    fn internal(detail: impl Into<String>) -> Self {
        StoreFailure::Internal(detail.into()).into()
    }
}

impl<E: From<StoreFailure>> Failure for E {}

/// An in-memory store's data under its lock. A poisoned lock (a panic while it was held) is an internal failure
/// of the request, never a panic of the next one.
pub fn locked<T, E: From<StoreFailure>>(data: &Mutex<T>) -> Result<MutexGuard<'_, T>, E> {
    data.lock().map_err(|_| E::internal("poisoned lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_is_503_and_internal_is_500_without_the_cause() {
        let unavailable = StoreFailure::unavailable("ThrottlingException").problem();
        assert_eq!(unavailable.status, 503);
        assert!(
            !unavailable
                .detail
                .unwrap_or_default()
                .contains("Throttling")
        );
        let internal = StoreFailure::internal("ValidationException: table").problem();
        assert_eq!((internal.status, internal.detail), (500, None));
    }
}
