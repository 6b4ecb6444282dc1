//! `GET /convert?from=&to=&amount=`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use money::{CurrencyCode, CurrencyRecord, MoneyError};
use platform::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ConvertError;

/// The rounding rule, named in every response: the exact result is rounded once to the nearest minor unit of
/// `to`; a tie (exactly half a minor unit) goes to the even neighbour (banker's rounding), so 0.5 → 0,
/// 1.5 → 2, 2.5 → 2.
pub const ROUNDING: &str = "half-even";

/// Largest accepted `amount`: 2^53 − 1, the largest integer every JSON client reads exactly.
const AMOUNT_MAX: i64 = platform::schema::MAX_SAFE_INTEGER;
/// Longest accepted significant `amount` text (2^53 − 1 has 16 digits); longer input is refused before parsing.
const AMOUNT_MAX_DIGITS: usize = 16;
/// Rule: the converted amount fits in 64-bit minor units of `to` (it depends on the two rates: 422 otherwise).
pub const RULE_CONVERTED_FITS: &str = "converted-amount-fits-int64";

/// Query parameters. Kept as text so that every malformed value gets a problem naming the parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConvertQuery {
    /// Source currency: ISO 4217 code (case-insensitive).
    #[param(value_type = String, required = true, pattern = "^[A-Za-z]{3}$", example = "USD")]
    pub from: Option<String>,
    /// Target currency: ISO 4217 code (case-insensitive).
    #[param(value_type = String, required = true, pattern = "^[A-Za-z]{3}$", example = "JPY")]
    pub to: Option<String>,
    /// Amount in minor units of `from` (cents for USD, yen for JPY, fils for KWD): an integer from 0 to
    /// 2^53 − 1. The result must fit in 64-bit minor units of `to` (422 otherwise, which only extreme rates reach).
    #[param(value_type = AmountDoc, inline, required = true, example = 12345)]
    pub amount: Option<String>,
}

/// `amount` in the document: an int64 from 0 to 2^53 − 1, and the rule that its result fits.
pub struct AmountDoc;

impl utoipa::PartialSchema for AmountDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let builder = utoipa::openapi::schema::ObjectBuilder::from(platform::schema::integer(
            0,
            AMOUNT_MAX,
            "Amount in minor units of `from`",
        ));
        platform::schema::schema(
            platform::schema::with_rules(builder, &[RULE_CONVERTED_FITS.to_owned()]).build(),
        )
    }
}

impl ToSchema for AmountDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "ConvertAmount".into()
    }
}

/// A rate the conversion used, with the read-model version it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RateUsed {
    #[schema(example = "USD")]
    pub code: String,
    /// One major unit of this currency in base-currency major units (decimal string).
    #[schema(example = "1.0825")]
    pub rate_to_base: String,
    /// ISO 4217 minor-unit digits.
    pub minor_units: u8,
    /// The read model's version of this rate: the order key (acceptance time, µs since the epoch) of
    /// the currency command that set it.
    pub version: u64,
    /// When the projector applied that version (RFC 3339).
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rates {
    pub from: RateUsed,
    pub to: RateUsed,
}

/// The result of a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "USD", "to": "JPY", "amount": 12345, "converted": 18425,
    "rates": {
        "from": {"code": "USD", "rate_to_base": "1", "minor_units": 2, "version": 1_767_225_599_900_000_u64, "updated_at": "2026-01-01T00:00:00Z"},
        "to": {"code": "JPY", "rate_to_base": "0.0067", "minor_units": 0, "version": 1_767_225_599_950_000_u64, "updated_at": "2026-01-01T00:00:00Z"}
    },
    "rounding": "half-even"
}))]
pub struct Conversion {
    pub from: String,
    pub to: String,
    /// The requested amount, in minor units of `from`.
    pub amount: i64,
    /// The amount in minor units of `to`, rounded half to even.
    pub converted: i64,
    pub rates: Rates,
    /// Always `half-even` (banker's rounding to the minor unit of `to`).
    #[schema(example = "half-even")]
    pub rounding: String,
}

/// Converts an amount between two currencies of the read model.
#[utoipa::path(
    get,
    path = "/convert",
    tag = "convert",
    params(ConvertQuery),
    responses(
        (status = 200, description = "Converted through the base currency, rounded half to even once", body = Conversion),
        (status = 400, description = "A parameter is missing or malformed (named in `parameter`)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "A currency is not ISO 4217 or not in the read model", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "The result does not fit in 64-bit minor units", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The rate store is temporarily unavailable", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn convert(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ConvertQuery>, QueryRejection>,
) -> Result<Json<Conversion>, ConvertError> {
    let Query(query) = query.map_err(|rejection| {
        ConvertError::bad(
            "query",
            format!("The query string is malformed: {rejection}"),
        )
    })?;
    let from = parse_code("from", query.from.as_deref())?;
    let to = parse_code("to", query.to.as_deref())?;
    let amount = parse_amount(query.amount.as_deref())?;

    let (from_record, to_record) = tokio::join!(state.rates.get(from), state.rates.get(to));
    let from_record = from_record?.ok_or(ConvertError::UnknownCurrency(from.to_string()))?;
    let to_record = to_record?.ok_or(ConvertError::UnknownCurrency(to.to_string()))?;

    let converted = money::Exchange::new(&from_record, &to_record)
        .convert(amount)
        .map_err(|e| match e {
            MoneyError::Overflow => ConvertError::Overflow,
            other => ConvertError::BadRecord(other),
        })?;
    Ok(Json(Conversion {
        from: from.to_string(),
        to: to.to_string(),
        amount,
        converted,
        rates: Rates {
            from: rate_used(&from_record),
            to: rate_used(&to_record),
        },
        rounding: ROUNDING.to_owned(),
    }))
}

fn parse_code(parameter: &'static str, raw: Option<&str>) -> Result<CurrencyCode, ConvertError> {
    let raw = raw.ok_or_else(|| {
        ConvertError::bad(
            parameter,
            format!("`{parameter}` is required: an ISO 4217 code such as USD."),
        )
    })?;
    CurrencyCode::parse(raw).map_err(|e| match e {
        MoneyError::UnknownCurrency(code) => ConvertError::UnknownCurrency(code),
        other => ConvertError::bad(parameter, format!("`{parameter}`: {other}.")),
    })
}

fn parse_amount(raw: Option<&str>) -> Result<i64, ConvertError> {
    let raw = raw.ok_or_else(|| {
        ConvertError::bad(
            "amount",
            "`amount` is required: an integer number of minor units of `from`.",
        )
    })?;
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConvertError::bad(
            "amount",
            "`amount` must be a non-negative integer number of minor units (e.g. 1050 for 10.50 USD).",
        ));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > AMOUNT_MAX_DIGITS {
        return Err(too_large());
    }
    let value = if significant.is_empty() {
        0
    } else {
        significant.parse::<i64>().map_err(|_| too_large())?
    };
    if value > AMOUNT_MAX {
        return Err(too_large());
    }
    Ok(value)
}

fn too_large() -> ConvertError {
    ConvertError::bad(
        "amount",
        format!("`amount` must be at most {AMOUNT_MAX} minor units (2^53 − 1)."),
    )
}

fn rate_used(record: &CurrencyRecord) -> RateUsed {
    RateUsed {
        code: record.code.to_string(),
        rate_to_base: record.rate_to_base.normalize().to_string(),
        minor_units: record.minor_units,
        version: record.version,
        updated_at: money::record::format_time(record.updated_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_accepts_plain_non_negative_integers_only() {
        assert_eq!(parse_amount(Some("0")).ok(), Some(0));
        assert_eq!(parse_amount(Some("000123")).ok(), Some(123));
        assert_eq!(parse_amount(Some("+5")).ok(), Some(5));
        assert_eq!(
            parse_amount(Some("9007199254740991")).ok(),
            Some(AMOUNT_MAX)
        );
        assert_eq!(
            parse_amount(Some("00000000009007199254740991")).ok(),
            Some(AMOUNT_MAX)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "1e3",
            " 1",
            "abc",
            "+",
            "9007199254740992",
            "9223372036854775807",
            "9223372036854775808",
            "99999999999999999999999",
            "１",
        ] {
            assert!(
                matches!(
                    parse_amount(Some(bad)),
                    Err(ConvertError::BadParameter {
                        parameter: "amount",
                        ..
                    })
                ),
                "{bad:?} must be refused"
            );
        }
        assert!(parse_amount(None).is_err());
    }

    #[test]
    fn codes_distinguish_malformed_from_unknown() {
        assert!(matches!(
            parse_code("from", Some("usd")),
            Ok(code) if code.as_str() == "USD"
        ));
        assert!(matches!(
            parse_code("from", Some("US")),
            Err(ConvertError::BadParameter {
                parameter: "from",
                ..
            })
        ));
        assert!(matches!(
            parse_code("to", Some("QQQ")),
            Err(ConvertError::UnknownCurrency(code)) if code == "QQQ"
        ));
        assert!(matches!(
            parse_code("to", None),
            Err(ConvertError::BadParameter {
                parameter: "to",
                ..
            })
        ));
    }
}
