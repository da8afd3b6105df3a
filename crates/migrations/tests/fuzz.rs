//! Arbitrary input never panics the folder reader, the directive parser, the `data.sql` header
//! parser or the duration parser; what they accept keeps their promises. The corpus
//! (`tests/fuzz-corpus/`) is replayed first; then `HASTE_FUZZ_CASES` random cases per property
//! (a short run by default).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use haste_migrations::{
    Checksum, DataStep, Directives, MAX_DURATION, MigrationsDir, SqlFile, parse_duration,
};
use proptest::prelude::*;
use proptest::sample::select;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("HASTE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Pieces of migration headers: directive names in every case, numbers at and past the
/// bounds, units, `data.sql` settings, line endings, multi-byte text, NUL.
const TOKENS: &[&str] = &[
    "-- ",
    "--",
    "haste:",
    "HASTE:",
    "Haste:",
    "haste",
    "transaction",
    " on",
    " off",
    "lock-timeout",
    "statement-timeout",
    "retries",
    "after",
    "allow",
    "allow-file",
    "data",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\u{feff}",
    "0",
    "1",
    "9",
    ".",
    "18446744073709551615",
    "99999999999999999999",
    "2147483647",
    "2147483648",
    "ms",
    "s",
    "sec",
    "min",
    "m",
    "h",
    "é",
    "日",
    "🦀",
    "\0",
    "=",
    "table=",
    "key=",
    "batch=",
    "target=",
    "max-rate=",
    "t.x",
    ":range",
    ":end",
    "SELECT 1;",
    "UPDATE t SET a = 1 WHERE :range;",
    "1_a",
    "2_b",
    "/*",
    "*/",
    "'",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(TOKENS), 0..30).prop_map(|tokens| tokens.concat()),
    ]
}

fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[0-9.]{0,30}(ms|s|sec|min|m|h| s|x|)"]
}

fn sql_file(sql: &str) -> SqlFile {
    SqlFile { path: "data.sql".into(), sql: sql.to_owned(), checksum: Checksum::of(sql) }
}

fn check_duration(text: &str) {
    if let Ok(duration) = parse_duration(text) {
        assert!(duration <= MAX_DURATION, "{text}: {duration:?}");
        assert_eq!(duration.subsec_nanos() % 1_000_000, 0, "{text}: {duration:?}");
    }
}

fn check_header(text: &str) {
    let _ = Directives::parse(Path::new("migration.sql"), text);
    if let Ok(step) = DataStep::parse(sql_file(text)) {
        assert!(step.batch_size >= 1 && step.target <= MAX_DURATION, "{step:?}");
    }
}

/// Reads `dir` the way commands do; whatever it accepts holds text only, in byte order.
fn check_folder(dir: &Path) {
    let Ok(folder) = MigrationsDir::load(dir) else { return };
    assert!(folder.migrations.windows(2).all(|pair| pair[0].name < pair[1].name));
    for migration in &folder.migrations {
        assert!(!migration.up.sql.contains('\0'), "{}", migration.name);
        let _ = migration.read_down();
        let _ = migration.read_data_down();
        if let Some(after) = &migration.directives.after {
            assert!(folder.get(after).is_some(), "{after}");
        }
    }
}

/// A fresh folder per case (removed by the case, so nothing is left behind).
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let case = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("haste-fuzz-migrations-{}-{case}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

const FILES: &[&str] = &["migration.sql", "down.sql", "data.sql", "data.down.sql", "notes.txt", ".hidden"];

/// What a case writes into its folder.
#[derive(Debug, Clone)]
enum Entry {
    /// `<folder>/<file>` with these bytes (`folder` empty: the top of the migrations folder).
    File { folder: String, file: &'static str, bytes: Vec<u8> },
    /// `migration_lock.toml`.
    LockFile(Vec<u8>),
    /// A symbolic link named `link` to `target` (another folder, a file, or nothing).
    Link { link: String, target: String },
}

fn folder_name() -> impl Strategy<Value = String> {
    prop_oneof![
        // `.` and `..` name the case's folder and the one above it, not an entry in it.
        "[0-9a-z_ .é日-]{1,12}".prop_filter("an entry", |name| name != "." && name != ".."),
        select(&["1_a", "2_b", "3_c", ".git", "migration_lock.toml"][..]).prop_map(String::from),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..64), text().prop_map(String::into_bytes)]
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        4 => (prop_oneof![Just(String::new()), folder_name()], select(FILES), bytes())
            .prop_map(|(folder, file, bytes)| Entry::File { folder, file, bytes }),
        1 => bytes().prop_map(Entry::LockFile),
        1 => (folder_name(), folder_name()).prop_map(|(link, target)| Entry::Link { link, target }),
    ]
}

fn write(dir: &Path, entries: &[Entry]) {
    for entry in entries {
        // A name the file system refuses (or a clash between a file and a folder) is not a
        // case: skip it, as a person could not have made it either.
        let _ = match entry {
            Entry::File { folder, file, bytes } => {
                let _ = fs::create_dir_all(dir.join(folder));
                fs::write(dir.join(folder).join(file), bytes)
            }
            Entry::LockFile(bytes) => fs::write(dir.join(haste_migrations::LOCK_FILE), bytes),
            #[cfg(unix)]
            Entry::Link { link, target } => std::os::unix::fs::symlink(dir.join(target), dir.join(link)),
            #[cfg(not(unix))]
            Entry::Link { .. } => Ok(()),
        };
    }
}

#[test]
fn the_corpus_never_panics() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    for line in fs::read_to_string(corpus.join("durations.txt")).unwrap().lines() {
        check_duration(line);
    }
    let mut replayed = 0;
    for entry in fs::read_dir(corpus.join("files")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        check_header(&String::from_utf8_lossy(&bytes));
        // Each file as the migration.sql, down.sql and data.sql of a folder.
        let dir = scratch();
        for file in ["migration.sql", "down.sql", "data.sql"] {
            fs::create_dir_all(dir.join("1_a")).unwrap();
            fs::write(dir.join("1_a").join(file), &bytes).unwrap();
            check_folder(&dir);
        }
        fs::remove_dir_all(&dir).unwrap();
        replayed += 1;
    }
    assert!(replayed > 0);
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn durations_never_panic_and_stay_in_bounds(text in duration_text()) {
        check_duration(&text);
    }

    #[test]
    fn headers_never_panic(text in text()) {
        check_header(&text);
    }

}

proptest! {
    // Each case writes files: fewer of them in the short run.
    #![proptest_config(config(300))]

    #[test]
    fn folders_never_panic(entries in prop::collection::vec(entry(), 0..8)) {
        let dir = scratch();
        write(&dir, &entries);
        check_folder(&dir);
        fs::remove_dir_all(&dir).unwrap();
    }
}
