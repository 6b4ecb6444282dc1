//! Invoice line descriptions refuse bidirectional-control and zero-width characters (422 naming the
//! line's field).

use billing::domain::{NewInvoice, NewLine, build_invoice};
use platform::error::ServiceError;

fn invoice(description: &str) -> NewInvoice {
    NewInvoice {
        currency: "EUR".into(),
        lines: vec![NewLine {
            description: description.into(),
            quantity: 1,
            unit_price: 100,
            tax_rate_bps: 0,
        }],
    }
}

#[test]
fn line_descriptions_refuse_invisible_controls() {
    for c in ['\u{202A}', '\u{202E}', '\u{2069}', '\u{200B}', '\u{200D}'] {
        let err = build_invoice(
            invoice(&format!("Consulting{c} (hours)")),
            "u",
            "i".into(),
            "t".into(),
        )
        .err()
        .map(|e| e.problem())
        .unwrap_or_else(|| panic!("U+{:04X} accepted", u32::from(c)));
        assert_eq!(err.status, 422);
        let json = serde_json::to_string(&err).unwrap_or_default();
        assert!(json.contains("lines[0].description"), "{json}");
    }
    assert!(
        build_invoice(
            invoice("Beratung (Stunden) — 東京"),
            "u",
            "i".into(),
            "t".into()
        )
        .is_ok()
    );
}
