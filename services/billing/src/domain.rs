//! Invoices, payments, validation and server-side totals.
//!
//! Totals: each line's `subtotal = quantity × unit_price`; its `tax = subtotal × tax_rate_bps / 10 000`
//! rounded **per line, half to even** to the currency's minor unit; the invoice's subtotal and tax are
//! the sums of the lines', `total = subtotal + tax`.
//!
//! The bounds of a line ([`MAX_QUANTITY`], [`MAX_UNIT_PRICE`], [`MAX_TAX_BPS`], [`MAX_LINES`]) are chosen so
//! that no valid invoice overflows: 100 lines × 10^5 × 10^8 × 2 (tax at most 100 %) = 2 × 10^15, below
//! [`money::MAX_AMOUNT`] (2^53 − 1). The document states them, so a client can check an invoice before sending
//! it. Every step is still checked: a result above the maximum would be a 422 `overflow`, never a wrapped number.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{BillingError, FieldError};
use crate::money::{self, MAX_AMOUNT};

pub const MAX_LINES: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 500;
pub const MAX_QUANTITY: i64 = 100_000;
/// Largest unit price, in minor units (1 000 000.00 of a two-digit currency).
pub const MAX_UNIT_PRICE: i64 = 100_000_000;
pub const MAX_TAX_BPS: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Not fully paid yet.
    Open,
    /// `amount_paid == total`; no further payments are accepted.
    Paid,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(Self::Open),
            "paid" => Some(Self::Paid),
            _ => None,
        }
    }
}

/// One requested invoice line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"description": "Consulting (hours)", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900}))]
pub struct NewLine {
    /// 1–500 characters, not blank.
    #[schema(schema_with = openapi_rules::description)]
    pub description: String,
    /// 1 to 100 000.
    #[schema(minimum = 1, maximum = 100_000)]
    pub quantity: i64,
    /// Price of one unit, in minor units, 0 to 100 000 000.
    #[schema(schema_with = openapi_rules::unit_price)]
    pub unit_price: i64,
    /// Tax rate in basis points (1900 = 19 %), 0–10 000.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub tax_rate_bps: i64,
}

/// `POST /invoices` body. Totals are computed by the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"currency": "EUR", "lines": [{"description": "Consulting (hours)", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900}]}))]
pub struct NewInvoice {
    /// ISO 4217 code, upper case.
    #[schema(schema_with = openapi_rules::currency)]
    pub currency: String,
    /// 1–100 lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<NewLine>,
}

/// A line with its computed amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax_rate_bps: i64,
    /// `quantity × unit_price`.
    pub subtotal: i64,
    /// `subtotal × tax_rate_bps / 10 000`, half-even.
    pub tax: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "owner_id": "user-1", "currency": "EUR",
    "lines": [{"description": "Consulting (hours)", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900,
               "subtotal": 37500, "tax": 7125, "total": 44625}],
    "subtotal": 37500, "tax": 7125, "total": 44625, "amount_paid": 0, "amount_due": 44625,
    "status": "open", "version": 1,
    "created_at": "2026-11-24T00:00:00Z", "updated_at": "2026-11-24T00:00:00Z"
}))]
pub struct Invoice {
    pub id: String,
    pub owner_id: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    /// Sum of payments applied, in the invoice's currency.
    pub amount_paid: i64,
    /// `total − amount_paid`.
    pub amount_due: i64,
    pub status: InvoiceStatus,
    /// Grows by one with every payment (optimistic concurrency).
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /payments` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"invoice_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "amount": 10000, "currency": "EUR"}))]
pub struct NewPayment {
    pub invoice_id: String,
    /// Minor units of `currency`, 1 to 2^53 − 1.
    #[schema(schema_with = openapi_rules::payment_amount)]
    pub amount: i64,
    /// ISO 4217; when it differs from the invoice's, the amount is converted through the currency
    /// read model and rounded down to the invoice currency's minor unit (a payment worth less than one
    /// minor unit is refused).
    #[schema(schema_with = openapi_rules::currency)]
    pub currency: String,
}

/// The rules of billing's request fields, as schemas (see `platform::schema`).
mod openapi_rules {
    use platform::schema::with_rules;
    use utoipa::openapi::schema::{Object, ObjectBuilder};

    pub fn currency() -> Object {
        platform::schema::currency_code(
            ::money::CurrencyCode::all().map(|c| (c.as_str(), c.minor_units())),
            "An active ISO 4217 code, upper case",
        )
    }

    pub fn description() -> Object {
        platform::schema::visible_text(
            1,
            super::DESCRIPTION_MAX_CHARS,
            true,
            false,
            "1–500 characters, not blank, no bidirectional-control or zero-width characters",
        )
    }

    /// Rule: a payment settles at most what its invoice still owes, in a currency with a stored rate when it is
    /// not the invoice's (422 `overpayment`, `currency_not_supported` or `amount_too_small` otherwise).
    pub const RULE_WITHIN_AMOUNT_DUE: &str = "within-the-amount-due";

    pub fn payment_amount() -> Object {
        let builder = ObjectBuilder::from(platform::schema::integer(
            1,
            super::MAX_AMOUNT,
            "Minor units of `currency`, 1 to 2^53 − 1; at most what the invoice still owes (converted when \
             `currency` is not the invoice's)",
        ));
        with_rules(builder, &[RULE_WITHIN_AMOUNT_DUE.to_owned()]).build()
    }

    pub fn unit_price() -> Object {
        platform::schema::integer(
            0,
            super::MAX_UNIT_PRICE,
            "Price of one unit, in minor units, 0 to 100 000 000 (with at most 100 000 units a line and 100 \
             lines, no invoice's totals can exceed 2^53 − 1)",
        )
    }
}

/// How a payment in another currency was converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    /// Base-currency value of one unit of `from`, as read.
    pub from_rate_to_base: String,
    /// Base-currency value of one unit of `to`, as read.
    pub to_rate_to_base: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f1a3-0000-7000-8000-000000000001", "owner_id": "user-1",
    "invoice_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "amount": 10000, "currency": "EUR",
    "applied_amount": 10000, "invoice_currency": "EUR", "conversion": null,
    "invoice_status": "open", "created_at": "2026-11-24T00:05:00Z"
}))]
pub struct Payment {
    pub id: String,
    pub owner_id: String,
    pub invoice_id: String,
    /// As paid, in `currency` minor units.
    pub amount: i64,
    pub currency: String,
    /// Credited to the invoice, in its currency's minor units: after a conversion, the exact value
    /// rounded **down** (never more than was paid).
    pub applied_amount: i64,
    pub invoice_currency: String,
    pub conversion: Option<Conversion>,
    /// The invoice's status right after this payment.
    pub invoice_status: InvoiceStatus,
    pub created_at: String,
}

fn overflow(what: &str) -> BillingError {
    BillingError::Overflow(format!(
        "{what} exceeds the largest supported amount ({MAX_AMOUNT} minor units)."
    ))
}

fn checked_amount(value: Option<i64>, what: &str) -> Result<i64, BillingError> {
    value
        .filter(|v| (0..=MAX_AMOUNT).contains(v))
        .ok_or_else(|| overflow(what))
}

/// A valid ISO 4217 code, or a 422 field error.
pub fn validate_currency(field: &str, code: &str) -> Result<u8, BillingError> {
    money::minor_units(code).ok_or_else(|| {
        BillingError::Validation(vec![FieldError::new(
            field,
            "must be an active ISO 4217 code in upper case (e.g. EUR)",
        )])
    })
}

/// Validates an invoice request and computes every amount.
pub fn build_invoice(
    input: NewInvoice,
    owner_id: &str,
    id: String,
    now: String,
) -> Result<Invoice, BillingError> {
    let mut errors = Vec::new();
    if money::minor_units(&input.currency).is_none() {
        errors.push(FieldError::new(
            "currency",
            "must be an active ISO 4217 code in upper case (e.g. EUR)",
        ));
    }
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("must hold 1 to {MAX_LINES} lines"),
        ));
    }
    for (i, line) in input.lines.iter().enumerate() {
        let chars = line.description.chars().count();
        if line.description.trim().is_empty() || chars > DESCRIPTION_MAX_CHARS {
            errors.push(FieldError::new(
                &format!("lines[{i}].description"),
                format!("must be 1 to {DESCRIPTION_MAX_CHARS} characters, not blank"),
            ));
        }
        if let Some(message) = platform::text::check(&line.description) {
            errors.push(FieldError::new(&format!("lines[{i}].description"), message));
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.push(FieldError::new(
                &format!("lines[{i}].quantity"),
                format!("must be 1 to {MAX_QUANTITY}"),
            ));
        }
        if !(0..=MAX_UNIT_PRICE).contains(&line.unit_price) {
            errors.push(FieldError::new(
                &format!("lines[{i}].unit_price"),
                format!("must be 0 to {MAX_UNIT_PRICE} minor units"),
            ));
        }
        if !(0..=MAX_TAX_BPS).contains(&line.tax_rate_bps) {
            errors.push(FieldError::new(
                &format!("lines[{i}].tax_rate_bps"),
                format!("must be 0 to {MAX_TAX_BPS} basis points"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(BillingError::Validation(errors));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    let (mut subtotal, mut tax) = (0_i64, 0_i64);
    for (i, line) in input.lines.into_iter().enumerate() {
        let line_subtotal = checked_amount(
            line.quantity.checked_mul(line.unit_price),
            &format!("lines[{i}] quantity × unit_price"),
        )?;
        let bps = u32::try_from(line.tax_rate_bps).map_err(|_| overflow("tax rate"))?;
        let line_tax = checked_amount(money::tax(line_subtotal, bps), &format!("lines[{i}] tax"))?;
        let line_total = checked_amount(
            line_subtotal.checked_add(line_tax),
            &format!("lines[{i}] total"),
        )?;
        subtotal = checked_amount(subtotal.checked_add(line_subtotal), "The subtotal")?;
        tax = checked_amount(tax.checked_add(line_tax), "The tax")?;
        lines.push(InvoiceLine {
            description: line.description,
            quantity: line.quantity,
            unit_price: line.unit_price,
            tax_rate_bps: line.tax_rate_bps,
            subtotal: line_subtotal,
            tax: line_tax,
            total: line_total,
        });
    }
    let total = checked_amount(subtotal.checked_add(tax), "The total")?;
    Ok(Invoice {
        id,
        owner_id: owner_id.to_owned(),
        currency: input.currency,
        lines,
        subtotal,
        tax,
        total,
        amount_paid: 0,
        amount_due: total,
        // A zero-total invoice is settled from the start.
        status: if total == 0 {
            InvoiceStatus::Paid
        } else {
            InvoiceStatus::Open
        },
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: i64, unit_price: i64, bps: i64) -> NewLine {
        NewLine {
            description: "item".into(),
            quantity,
            unit_price,
            tax_rate_bps: bps,
        }
    }

    fn build(currency: &str, lines: Vec<NewLine>) -> Result<Invoice, BillingError> {
        build_invoice(
            NewInvoice {
                currency: currency.into(),
                lines,
            },
            "u",
            "id".into(),
            "now".into(),
        )
    }

    #[test]
    fn totals_round_tax_per_line_half_even() {
        // 25 × 10 % = 2.5 → 2 (even) and 35 × 10 % = 3.5 → 4 (even), per line. Rounding the sum
        // instead would give 25 + 25 → 5.0 = 5, not 2 + 2 = 4: the test tells the two apart.
        let invoice = build(
            "EUR",
            vec![line(1, 25, 1_000), line(1, 35, 1_000), line(1, 25, 1_000)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            invoice.lines.iter().map(|l| l.tax).collect::<Vec<_>>(),
            vec![2, 4, 2]
        );
        assert_eq!((invoice.subtotal, invoice.tax, invoice.total), (85, 8, 93));
        let two = build("EUR", vec![line(1, 25, 1_000), line(1, 25, 1_000)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((two.subtotal, two.tax, two.total), (50, 4, 54));
        assert_eq!(invoice.amount_due, 93);
        assert_eq!(invoice.status, InvoiceStatus::Open);
    }

    #[test]
    fn the_largest_valid_invoice_fits_and_larger_lines_are_invalid_not_wrapped() {
        let largest = vec![line(MAX_QUANTITY, MAX_UNIT_PRICE, MAX_TAX_BPS); MAX_LINES];
        let invoice = build("EUR", largest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            invoice.total,
            2 * MAX_LINES as i64 * MAX_QUANTITY * MAX_UNIT_PRICE
        );
        assert!(invoice.total <= MAX_AMOUNT);
        for lines in [
            vec![line(MAX_QUANTITY + 1, 1, 0)],
            vec![line(1, MAX_UNIT_PRICE + 1, 0)],
            vec![line(i64::MAX, i64::MAX, 0)],
        ] {
            assert!(matches!(
                build("EUR", lines),
                Err(BillingError::Validation(_))
            ));
        }
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let Err(BillingError::Validation(errors)) = build(
            "eur",
            vec![NewLine {
                description: " ".into(),
                quantity: 0,
                unit_price: -1,
                tax_rate_bps: 10_001,
            }],
        ) else {
            panic!("expected validation errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "currency",
                "lines[0].description",
                "lines[0].quantity",
                "lines[0].unit_price",
                "lines[0].tax_rate_bps"
            ]
        );
        assert!(matches!(
            build("EUR", vec![]),
            Err(BillingError::Validation(_))
        ));
    }
}
