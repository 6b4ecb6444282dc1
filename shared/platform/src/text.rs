//! Text hygiene for user-supplied text that other people read (titles, bodies, comments, invoice line
//! descriptions, display names).
//!
//! Refused: the bidirectional embeddings and overrides U+202A–U+202E, the bidirectional isolates
//! U+2066–U+2069, and the zero-width and directional marks U+200B–U+200F. They render as nothing, so they
//! can make text read differently from what it is ("Trojan Source", CVE-2021-42574: a reversed invoice
//! line, a spoofed author name, a link that is not what it shows). Services map a refusal to 422
//! problem+json naming the field.

/// Whether `c` is one of the refused invisible formatting characters.
pub fn is_refused(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}')
}

/// `None` when `value` is clean; else the message for the field's validation error, naming the first
/// refused character.
pub fn check(value: &str) -> Option<String> {
    value.chars().find(|c| is_refused(*c)).map(|c| {
        format!(
            "must not contain bidirectional-control or zero-width characters (found U+{:04X}; \
             U+200B–U+200F, U+202A–U+202E and U+2066–U+2069 are refused)",
            u32::from(c)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_exactly_the_three_ranges() {
        for cp in (0x200B..=0x200F)
            .chain(0x202A..=0x202E)
            .chain(0x2066..=0x2069)
        {
            let c = char::from_u32(cp).unwrap_or_default();
            let message = check(&format!("ab{c}cd")).unwrap_or_default();
            assert!(
                message.contains(&format!("U+{cp:04X}")),
                "{cp:04X}: {message}"
            );
        }
        for cp in [0x200A, 0x2010, 0x2029, 0x202F, 0x2065, 0x206A] {
            let c = char::from_u32(cp).unwrap_or_default();
            assert_eq!(check(&format!("a{c}b")), None, "{cp:04X}");
        }
        assert_eq!(check("Grüße, 東京 — ok"), None);
    }
}
