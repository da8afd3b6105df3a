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
    // Modifiers may sit inside the name: `timestamp(3) without time zone`.
    let (base, modifiers) = match (head.find('('), head.find(')')) {
        (Some(open), Some(close)) if open < close => (
            format!("{} {}", head[..open].trim(), head[close + 1..].trim()),
            head[open + 1..close].split(',').map(|n| n.trim().parse().ok()).collect::<Option<Vec<u32>>>(),
        ),
        _ => (head.to_owned(), None),
    };
    let base = base.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
    let base = match base.as_str() {
        "character varying" => "varchar".to_owned(),
        "decimal" => "numeric".to_owned(),
        "int" | "int4" => "integer".to_owned(),
        "int8" => "bigint".to_owned(),
        "int2" => "smallint".to_owned(),
        "float8" => "double precision".to_owned(),
        "float4" => "real".to_owned(),
        "timestamp" => "timestamp without time zone".to_owned(),
        "timestamptz" => "timestamp with time zone".to_owned(),
        "bpchar" | "char" => "character".to_owned(),
        _ => base,
    };
    (base, modifiers, arrays)
}

/// Whether every value of type `old` converts to `new` without an error (a widening: a larger
/// integer or number, a longer string, text, a time with a zone). When it can fail, a type
/// change planned as expand and swap checks every row before anything is applied.
pub fn conversion_cannot_fail(old: &str, new: &str) -> bool {
    let (old_base, old_limit, old_arrays) = canonical(old);
    let (new_base, new_limit, new_arrays) = canonical(new);
    if old_arrays != new_arrays {
        return false;
    }
    if (&old_base, &old_limit) == (&new_base, &new_limit) {
        return true;
    }
    // Digits before the point a `numeric(p,s)` holds; unconstrained holds any.
    let integer_digits = |limit: &Option<Vec<u32>>| match limit.as_deref() {
        None => u32::MAX,
        Some([precision]) => *precision,
        Some([precision, scale]) => precision.saturating_sub(*scale),
        Some(_) => 0,
    };
    let holds = |digits: u32| new_base == "numeric" && integer_digits(&new_limit) >= digits;
    match (old_base.as_str(), new_base.as_str()) {
        (_, "text") => true,
        ("varchar" | "character", "varchar") => match (&old_limit, &new_limit) {
            (_, None) => true,
            (Some(old), Some(new)) => new[0] >= old[0],
            (None, Some(_)) => false,
        },
        ("smallint", "integer" | "bigint" | "real" | "double precision") => true,
        ("integer", "bigint" | "double precision") => true,
        ("smallint", _) => holds(5),
        ("integer", _) => holds(10),
        ("bigint", _) => holds(19),
        ("real", "double precision") => true,
        ("date", "timestamp without time zone" | "timestamp with time zone") => true,
        (
            "timestamp without time zone" | "timestamp with time zone",
            "timestamp without time zone" | "timestamp with time zone",
        ) => true,
        _ => false,
    }
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

/// `value` converted to `new_type` as a column of that type stores it: a value that does not fit
/// its length is refused, never cut. An explicit cast to a length-limited string or bit type
/// (`'abcdef'::varchar(3)`) truncates silently, while storing into the column (an in-place
/// `ALTER COLUMN ... TYPE` without `USING`, an `INSERT`) fails; so the cast goes to the
/// unlimited type and the column's own assignment checks the length.
pub fn conversion(value: &str, new_type: &str) -> String {
    match unlimited(new_type) {
        Some((base, arrays)) => format!("{value}::{base}{arrays}"),
        None => format!("{value}::{new_type}"),
    }
}

/// Whether an explicit cast to `new_type` cuts a value that does not fit instead of refusing it
/// (a length-limited string or bit type, or an array of one): [`conversion`] then stops at the
/// unlimited type, and what follows must assign the value to `new_type` for its length to be
/// checked.
pub fn cast_cuts(new_type: &str) -> bool {
    unlimited(new_type).is_some()
}

/// For a length-limited string or bit type (or an array of one): the same type without a limit,
/// and the array brackets.
fn unlimited(new_type: &str) -> Option<(&'static str, &str)> {
    let text = new_type.trim();
    let (head, arrays) = match text.find('[') {
        Some(at) => (text[..at].trim_end(), &text[at..]),
        None => (text, ""),
    };
    let (base, _) = head.split_once('(')?;
    let base = match base.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase().as_str() {
        "character varying" | "varchar" => "character varying",
        "character" | "char" | "bpchar" => "bpchar",
        "bit varying" | "varbit" | "bit" => "bit varying",
        _ => return None,
    };
    Some((base, arrays))
}

#[cfg(test)]
mod tests {
    use super::{conversion, type_change_rewrites};

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
            ("timestamp(3) without time zone", "timestamp(3) with time zone"),
        ] {
            assert!(type_change_rewrites(old, new), "{old} -> {new}");
        }
    }

    #[test]
    fn conversions_that_cannot_fail() {
        use super::conversion_cannot_fail as safe;
        for (old, new) in [
            ("integer", "bigint"),
            ("smallint", "numeric(6,0)"),
            ("bigint", "numeric"),
            ("character varying(10)", "text"),
            ("uuid", "text"),
            ("timestamp(3) without time zone", "timestamp(3) with time zone"),
            ("date", "timestamp with time zone"),
            ("integer[]", "integer[]"),
        ] {
            assert!(safe(old, new), "{old} -> {new}");
        }
        for (old, new) in [
            ("bigint", "integer"),
            ("text", "integer"),
            ("character varying(20)", "character varying(10)"),
            ("integer", "numeric(5,2)"),
            ("numeric", "integer"),
            ("json", "jsonb"),
            ("integer[]", "bigint"),
        ] {
            assert!(!safe(old, new), "{old} -> {new}");
        }
    }

    #[test]
    fn conversions_never_cut_to_a_length() {
        for (new, expected) in [
            ("character varying(8)", "v::character varying"),
            ("varchar(8)[]", "v::character varying[]"),
            ("character(3)", "v::bpchar"),
            ("bit(4)", "v::bit varying"),
            ("bigint", "v::bigint"),
            ("numeric(10,2)", "v::numeric(10,2)"),
            ("timestamp(3) without time zone", "v::timestamp(3) without time zone"),
        ] {
            assert_eq!(conversion("v", new), expected, "{new}");
        }
    }
}
