//! Which column type changes PostgreSQL makes without rewriting the table: one judgement for
//! the planner, the linter and the impact report.

/// A type's base name in one spelling, whether written by a person (`varchar(10)`, `decimal`)
/// or printed by PostgreSQL (`character varying(10)`, `numeric`), and its modifiers.
fn canonical(type_text: &str) -> (String, Option<Vec<u32>>, &str) {
    let text = type_text.trim();
    let (head, arrays) = match text.find('[') {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    };
    let (base, modifiers) = match head.split_once('(') {
        Some((base, rest)) => {
            let inner = rest.trim_end().strip_suffix(')').unwrap_or(rest);
            (base, inner.split(',').map(|n| n.trim().parse().ok()).collect::<Option<Vec<u32>>>())
        }
        None => (head, None),
    };
    let base = base.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
    let base = match base.as_str() {
        "character varying" => "varchar".to_owned(),
        "decimal" => "numeric".to_owned(),
        _ => base,
    };
    (base, modifiers, arrays)
}

/// Whether changing a column from `old` to `new` rewrites its table: everything except the
/// changes PostgreSQL knows to be free (`varchar(n)` to a longer or unlimited `varchar` or to
/// `text`, `numeric(p,s)` to a larger precision with the same scale or to unconstrained
/// `numeric`). Unknown cases count as rewrites.
pub fn type_change_rewrites(old: &str, new: &str) -> bool {
    let (old_base, old_limit, old_arrays) = canonical(old);
    let (new_base, new_limit, new_arrays) = canonical(new);
    if (&old_base, &old_limit, old_arrays) == (&new_base, &new_limit, new_arrays) {
        return false;
    }
    if old_arrays != new_arrays || !old_arrays.is_empty() {
        return true;
    }
    let free = match (old_base.as_str(), new_base.as_str()) {
        ("varchar", "text") => true,
        ("varchar", "varchar") => match (&old_limit, &new_limit) {
            (_, None) => true,
            (Some(old), Some(new)) => new[0] >= old[0],
            (None, Some(_)) => false,
        },
        ("numeric", "numeric") => match (&old_limit, &new_limit) {
            (_, None) => true,
            (Some(old), Some(new)) => {
                old.len() == 2 && new.len() == 2 && new[0] >= old[0] && new[1] == old[1]
            }
            (None, Some(_)) => false,
        },
        _ => false,
    };
    !free
}

#[cfg(test)]
mod tests {
    use super::type_change_rewrites;

    #[test]
    fn free_changes_in_either_spelling() {
        for (old, new) in [
            ("character varying(10)", "character varying(20)"),
            ("varchar(10)", "text"),
            ("character varying(10)", "character varying"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
            ("decimal(10, 2)", "numeric(12,2)"),
            ("integer", "integer"),
        ] {
            assert!(!type_change_rewrites(old, new), "{old} -> {new}");
        }
    }

    #[test]
    fn rewriting_changes() {
        for (old, new) in [
            ("integer", "bigint"),
            ("int4", "int8"),
            ("character varying(20)", "character varying(10)"),
            ("text", "character varying(10)"),
            ("character varying", "character varying(10)"),
            ("numeric(10,2)", "numeric(12,3)"),
            ("numeric", "numeric(10,2)"),
            ("text", "integer"),
            ("character varying(10)[]", "text[]"),
            ("timestamp without time zone", "timestamp with time zone"),
        ] {
            assert!(type_change_rewrites(old, new), "{old} -> {new}");
        }
    }
}
