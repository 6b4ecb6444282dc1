//! Configuration from the environment (names come from the template, never from code).

use std::time::Duration;

use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};

/// A state built by `from_env` out of only `pairs` fails for want of the variable `name`.
fn assert_missing<T>(
    from_env: impl Fn(&Env, &SdkConfig) -> Result<T, ConfigError>,
    pairs: &[(&str, &str)],
    name: &str,
) {
    let result = from_env(&Env::from_pairs(pairs.iter().copied()), &sdk());
    assert!(
        matches!(&result, Err(ConfigError::Missing(missing)) if missing == name),
        "{name}: {:?}",
        result.err()
    );
}

fn sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .build()
}

#[test]
fn read_needs_the_table_and_bounds_the_cache_ttl() {
    assert_missing(
        currency::read_state_from_env,
        &[("X", "y")],
        "CURRENCIES_TABLE",
    );
    let default =
        currency::read_state_from_env(&Env::from_pairs([("CURRENCIES_TABLE", "t")]), &sdk())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(default.cache.ttl(), Duration::from_millis(250));
    let custom = currency::read_state_from_env(
        &Env::from_pairs([("CURRENCIES_TABLE", "t"), ("CURRENCY_CACHE_TTL_MS", "0")]),
        &sdk(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(custom.cache.ttl(), Duration::ZERO);
    for bad in ["300001", "-1", "soon"] {
        let env = Env::from_pairs([("CURRENCIES_TABLE", "t"), ("CURRENCY_CACHE_TTL_MS", bad)]);
        assert!(
            matches!(
                currency::read_state_from_env(&env, &sdk()),
                Err(ConfigError::Invalid { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn projector_needs_both_tables_and_reads_the_receive_count() {
    assert_missing(
        currency::projector_state_from_env,
        &[("CURRENCIES_TABLE", "c")],
        "COMMANDS_TABLE",
    );
    let env = Env::from_pairs([("CURRENCIES_TABLE", "c"), ("COMMANDS_TABLE", "k")]);
    let state = currency::projector_state_from_env(&env, &sdk()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.max_receive_count, 5);
    let env = Env::from_pairs([
        ("CURRENCIES_TABLE", "c"),
        ("COMMANDS_TABLE", "k"),
        ("COMMANDS_MAX_RECEIVE_COUNT", "3"),
    ]);
    let state = currency::projector_state_from_env(&env, &sdk()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.max_receive_count, 3);
}

#[test]
fn write_needs_the_table_and_the_queue() {
    assert_missing(
        currency::write_state_from_env,
        &[("COMMANDS_TABLE", "k")],
        "COMMANDS_QUEUE_URL",
    );
}
