//! The one place where names and values become SQL text.

/// Quotes an identifier for PostgreSQL and SQLite: always double-quoted, inner quotes doubled,
/// so no name is ever folded to lower case or read as a keyword.
pub fn quote_ident(name: &str) -> String {
    // Built in one buffer: a plan at 1,000 tables quotes tens of thousands of names, and a
    // `replace` and a `format!` per name were a tenth of a diff's client time.
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    let mut rest = name;
    while let Some(at) = rest.find('"') {
        quoted.push_str(&rest[..=at]);
        quoted.push('"');
        rest = &rest[at + 1..];
    }
    quoted.push_str(rest);
    quoted.push('"');
    quoted
}

/// Quotes a string literal for PostgreSQL (with `standard_conforming_strings` on, the default
/// since 9.1) and SQLite: single-quoted, inner quotes doubled.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Quotes a string literal for PostgreSQL whatever its `standard_conforming_strings`: a value
/// holding a backslash is written `E'...'` with each backslash doubled, which PostgreSQL reads
/// the same under either setting (a plain literal's backslashes are escapes where the setting is
/// off: a history row's JSON, `\"` in every quoted name of an error message, failed to write);
/// any other as [`quote_literal`] writes it.
pub fn quote_literal_escaped(value: &str) -> String {
    match value.contains('\\') {
        true => format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''")),
        false => quote_literal(value),
    }
}

/// Quotes a function or `DO` body as a dollar-quoted string: `$haste$…$haste$`, or, when the
/// body holds that tag (a quoted name such as `"a$haste$b"` does), `$haste1$`, `$haste2$`… until
/// the closing tag is the first place the tag occurs, so no name can end the body early. Every
/// body haste generates goes through here.
pub fn dollar_quote(body: &str) -> String {
    (0..)
        .map(|n: u32| match n {
            0 => "$haste$".to_owned(),
            n => format!("$haste{n}$"),
        })
        .find_map(|tag| {
            let quoted = format!("{tag}{body}{tag}");
            // The body's end and the closing tag together must not spell the tag sooner either.
            (quoted[tag.len()..].find(&tag) == Some(body.len())).then_some(quoted)
        })
        .expect("a tag the body does not hold")
}

/// The longest name PostgreSQL keeps: `NAMEDATALEN - 1` bytes. It cuts longer ones (with a
/// notice), so a name haste makes up must be cut the same way to be found again.
pub const MAX_IDENT_BYTES: usize = 63;

/// `stem` followed by `suffix`, as PostgreSQL keeps the name: at most [`MAX_IDENT_BYTES`] bytes,
/// cut at the last character boundary that fits (as PostgreSQL's `pg_mbcliplen` does), never
/// inside a multi-byte character. The suffix is kept whole and the stem cut to make room for
/// it, as Prisma names constraints (`<table>_pkey`); with an empty suffix this is PostgreSQL's
/// own truncation. The only place names are cut.
pub fn truncate_ident(stem: &str, suffix: &str) -> String {
    let room = MAX_IDENT_BYTES.saturating_sub(suffix.len());
    let name = format!("{}{suffix}", &stem[..stem.floor_char_boundary(room)]);
    name[..name.floor_char_boundary(MAX_IDENT_BYTES)].to_owned()
}

/// A name haste makes up from `stem` and `suffix` ([`truncate_ident`]) that `taken` says is
/// free: `stem` + `suffix`, else `suffix` followed by 2, 3… (the stem cut to make room), so a
/// user's own `<column>_haste_new`, or two long names that cut to the same bytes, never meet
/// the name of what haste adds.
pub fn unused_ident(stem: &str, suffix: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n: u32| match n {
            1 => truncate_ident(stem, suffix),
            n => truncate_ident(stem, &format!("{suffix}{n}")),
        })
        .find(|name| !taken(name))
        .expect("a free name")
}

/// The name PostgreSQL gives an object it names itself from two names and a label
/// (`<table>_<column>_seq` for a `serial` column's sequence): `name1_name2_label`, and when that
/// is longer than [`MAX_IDENT_BYTES`], the longer of the two names is shortened a byte at a
/// time until it fits, each then cut at a character boundary (PostgreSQL's `makeObjectName`).
pub fn object_name(name1: &str, name2: &str, label: &str) -> String {
    let room = MAX_IDENT_BYTES.saturating_sub(label.len() + 2);
    let (mut keep1, mut keep2) = (name1.len(), name2.len());
    while keep1 + keep2 > room {
        if keep1 > keep2 { keep1 -= 1 } else { keep2 -= 1 }
    }
    let first = &name1[..name1.floor_char_boundary(keep1)];
    let second = &name2[..name2.floor_char_boundary(keep2)];
    format!("{first}_{second}_{label}")
}

/// The names of a dotted name as PostgreSQL prints it (`format_type`, `::regclass`): each part
/// double-quoted where it must be, inner quotes doubled, a quoted part's dots its own. So
/// `crm."Addr ""x"""` is `crm` and `Addr "x"`: the way back from [`quote_ident`]'s form, or
/// PostgreSQL's, to the names, so a name is compared as the name it is, never as its text with
/// the quotes taken out.
pub fn name_parts(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let part = parts.last_mut().expect("one part at least");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                part.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            c => part.push(c),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_parts_undo_the_quoting_of_each_part() {
        assert_eq!(name_parts("addr"), ["addr"]);
        assert_eq!(name_parts(r#"crm."Stage""#), ["crm", "Stage"]);
        assert_eq!(name_parts(r#""Addr ""x""""#), [r#"Addr "x""#]);
        assert_eq!(name_parts(r#""a.b"."c""d""#), ["a.b", r#"c"d"#]);
        for name in ["plain", "Mixed Case", r#"""#, r#"a"."b"#, "a.b"] {
            let quoted = format!("{}.{}", quote_ident(name), quote_ident(name));
            assert_eq!(name_parts(&quoted), [name, name], "{quoted}");
        }
    }

    #[test]
    fn truncation_keeps_63_bytes_and_never_splits_a_character() {
        assert_eq!(truncate_ident("short", ""), "short");
        assert_eq!(truncate_ident(&"a".repeat(70), ""), "a".repeat(63));
        // 'é' is two bytes: 31 of them are 62 bytes; the 32nd would end at byte 64.
        assert_eq!(truncate_ident(&"é".repeat(40), ""), "é".repeat(31));
        // 'ü' straddles byte 63 after one ASCII byte and 31 two-byte characters.
        assert_eq!(truncate_ident(&format!("x{}", "ü".repeat(40)), ""), format!("x{}", "ü".repeat(31)));
        // Four-byte characters: 15 of them are 60 bytes.
        assert_eq!(truncate_ident(&"🦀".repeat(20), ""), "🦀".repeat(15));
        assert_eq!(truncate_ident(&"日本".repeat(20), "_pkey"), format!("{}_pkey", "日本".repeat(9) + "日"));
        for length in 0..80 {
            let name = truncate_ident(&"ß".repeat(length), "_fkey");
            assert!(name.len() <= MAX_IDENT_BYTES && name.ends_with("_fkey"), "{name}");
        }
        assert_eq!(truncate_ident("", &"s".repeat(70)), "s".repeat(63));
    }

    #[test]
    fn unused_names_count_up_past_the_taken_ones() {
        assert_eq!(unused_ident("n", "_haste_new", |_| false), "n_haste_new");
        assert_eq!(unused_ident("n", "_haste_new", |name| name == "n_haste_new"), "n_haste_new2");
        let long = "a".repeat(63);
        let taken = [truncate_ident(&long, "_haste_new"), truncate_ident(&long, "_haste_new2")];
        let name = unused_ident(&long, "_haste_new", |name| taken.iter().any(|t| t == name));
        assert_eq!(name, format!("{}_haste_new3", "a".repeat(52)));
    }

    #[test]
    fn a_literal_with_a_backslash_reads_the_same_whatever_the_setting() {
        assert_eq!(quote_literal_escaped(r#"{"m": "a \"b\""}"#), r#"E'{"m": "a \\"b\\""}'"#);
        assert_eq!(quote_literal_escaped("it's"), "'it''s'");
        assert_eq!(quote_literal_escaped(r"a\'b"), r"E'a\\''b'");
    }

    #[test]
    fn object_names_shorten_the_longer_name_first() {
        assert_eq!(object_name("User", "id", "seq"), "User_id_seq");
        // 63 - len("_seq") - 1 = 58 bytes for both names: the 70-byte one gives way to 56.
        assert_eq!(object_name(&"t".repeat(70), "id", "seq"), format!("{}_id_seq", "t".repeat(56)));
        assert_eq!(
            object_name(&"t".repeat(40), &"c".repeat(40), "seq"),
            format!("{}_{}_seq", "t".repeat(29), "c".repeat(29))
        );
        // A cut inside a two-byte character keeps the character out.
        let name = object_name(&"é".repeat(40), "id", "seq");
        assert!(name.len() <= MAX_IDENT_BYTES && name.ends_with("_id_seq"), "{name}");
    }

    #[test]
    fn doubles_embedded_quotes() {
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_ident("User"), "\"User\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn dollar_quotes_pick_a_tag_the_body_does_not_hold() {
        assert_eq!(dollar_quote("BEGIN END"), "$haste$BEGIN END$haste$");
        assert_eq!(dollar_quote(r#"NEW."a$haste$b" := 1"#), r#"$haste1$NEW."a$haste$b" := 1$haste1$"#);
        assert_eq!(dollar_quote("$haste$ $haste1$"), "$haste2$$haste$ $haste1$$haste2$");
        // A body ending in a prefix of the tag would close early against the closing tag.
        assert_eq!(dollar_quote("x$haste"), "$haste1$x$haste$haste1$");
    }
}
