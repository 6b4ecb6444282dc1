//! Bidirectional-control and zero-width characters are refused in post titles, bodies and comments
//! (422 problem+json naming the field).

use blog::domain::{validate_comment, validate_post};

const REFUSED: [char; 4] = ['\u{202E}', '\u{2066}', '\u{200B}', '\u{200F}'];

fn field_of(err: &blog::error::BlogError) -> String {
    format!("{err:?}")
}

#[test]
fn titles_bodies_and_comments_refuse_invisible_controls() {
    for c in REFUSED {
        let title = format!("invoice{c}fdp.exe");
        let err = validate_post(&title, "ok").err().map(|e| field_of(&e));
        assert!(
            err.as_deref().is_some_and(|e| e.contains("\"title\"")),
            "{err:?}"
        );
        let err = validate_post("ok", &format!("a{c}b"))
            .err()
            .map(|e| field_of(&e));
        assert!(
            err.as_deref().is_some_and(|e| e.contains("\"body\"")),
            "{err:?}"
        );
        assert!(validate_comment(&format!("a{c}b")).is_err());
    }
    assert!(validate_post("Grüße aus 東京", "fine — really").is_ok());
    assert!(validate_comment("fine").is_ok());
}
