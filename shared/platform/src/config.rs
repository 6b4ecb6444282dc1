//! Configuration from environment variables.
//!
//! Table and queue names always come from here (the SAM template sets them); no crate hard-codes one.

use std::collections::HashMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

/// A snapshot of the environment; tests build one from a map instead of mutating the process env.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A non-empty value, or [`ConfigError::Missing`].
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    /// A non-empty value, if set.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    /// A value parsed with `FromStr`, or `default` when unset.
    pub fn parsed_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_reports_the_missing_name() {
        let env = Env::from_pairs([("EMPTY", " ")]);
        assert_eq!(
            env.required("TABLE_NAME"),
            Err(ConfigError::Missing("TABLE_NAME".into()))
        );
        assert_eq!(
            env.required("EMPTY"),
            Err(ConfigError::Missing("EMPTY".into()))
        );
    }

    #[test]
    fn parsed_or_defaults_and_rejects_garbage() {
        let env = Env::from_pairs([("TTL", "30"), ("BAD", "x")]);
        assert_eq!(env.parsed_or("TTL", 5_u64), Ok(30));
        assert_eq!(env.parsed_or("UNSET", 5_u64), Ok(5));
        assert!(matches!(
            env.parsed_or("BAD", 5_u64),
            Err(ConfigError::Invalid { .. })
        ));
    }
}
