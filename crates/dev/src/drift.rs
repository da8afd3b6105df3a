//! Drift: the development database no longer matches its migration history, because someone
//! ran DDL by hand or edited a migration after it was applied. Either way a migration generated
//! from the history would not fit the database, so `migrate dev` stops and says what differs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use haste_diff::Change;
use haste_driver::DatabaseUrl;
use haste_migrations::MigrationsDir;
use haste_postgres::PgConnection;
use haste_runner::{Settings, State};
use haste_schema::Schema;
use serde::Serialize;

use crate::Error;
use crate::source::{Loaded, replay};

/// An applied migration whose file no longer matches what ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditedMigration {
    /// Its folder name.
    pub name: String,
    /// `modified` (edited after it was applied) or `missing` (its folder is gone).
    pub state: State,
}

/// What differs between a database and the replay of the migrations applied to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Applied migrations edited or removed since.
    pub migrations: Vec<EditedMigration>,
    /// Objects that differ: `added` exist only in the database, `removed` only in the history.
    pub changes: Vec<Change>,
}

impl Drift {
    /// Whether the database matches its history.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty() && self.changes.is_empty()
    }
}

/// Where the development database stands, and the history it claims replayed on a shadow.
pub(crate) struct Checked {
    pub(crate) drift: Drift,
    /// The shadow at the applied migrations.
    pub(crate) history: Loaded,
}

/// Compares the database at `url` with the migrations of `dir` applied to it, replayed on a
/// shadow database on `server`.
pub fn drift(
    url: &DatabaseUrl,
    dir: &MigrationsDir,
    server: &DatabaseUrl,
    settings: &Settings,
) -> Result<Drift, Error> {
    Ok(check(url, dir, server, settings)?.drift)
}

pub(crate) fn check(
    url: &DatabaseUrl,
    dir: &MigrationsDir,
    server: &DatabaseUrl,
    settings: &Settings,
) -> Result<Checked, Error> {
    // The shadow must also offer what the pending migrations need: `migrate dev` runs them there next.
    let mut needs = crate::source::history_needs(dir);
    // With owners compared, the migration `migrate dev` writes next may give objects to other
    // roles (`OWNER TO`), which a role of the shadow's own may not.
    if settings.owners && needs.other_role.is_none() {
        needs.other_role = Some("owners are compared (--owners): OWNER TO another role".to_owned());
    }
    let (drift, history) = compare(url, dir, settings, |claimed| replay(claimed, &needs, server, settings))?;
    Ok(Checked { drift, history })
}

/// The replays of a migration history that many databases are compared with (a fleet's
/// `status --drift`, `deploy --verify`): each point of the history the databases stand at is
/// replayed on one shadow database, once, and its schema kept for every database at that point.
pub struct SharedHistories<'a> {
    dir: &'a MigrationsDir,
    server: &'a DatabaseUrl,
    /// By history schema and applied migrations: the replayed schema, once one thread built it.
    replays: Mutex<HashMap<ReplayKey, Arc<Replay>>>,
}

type ReplayKey = (Option<String>, Vec<String>);

/// One history point's schema, filled by the first thread that replays it; the others wait on
/// its lock and share the result.
type Replay = Mutex<Option<Arc<Schema>>>;

impl<'a> SharedHistories<'a> {
    /// Replays of `dir` on shadow databases made on `server`.
    pub fn new(dir: &'a MigrationsDir, server: &'a DatabaseUrl) -> SharedHistories<'a> {
        SharedHistories { dir, server, replays: Mutex::new(HashMap::new()) }
    }

    /// [`drift`] of the database at `url`, compared with the shared replay of what it applied.
    pub fn drift(&self, url: &DatabaseUrl, settings: &Settings) -> Result<Drift, Error> {
        let needs = crate::source::history_needs(self.dir);
        let (drift, _) = compare(url, self.dir, settings, |claimed| {
            let names = claimed.migrations.iter().map(|m| m.name.clone()).collect();
            let slot = Arc::clone(
                self.replays
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry((settings.history.schema.clone(), names))
                    .or_default(),
            );
            // Held while the replay runs: another database at the same point waits for it.
            let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(schema) = slot.as_ref() {
                return Ok(Arc::clone(schema));
            }
            let schema = Arc::new(replay(claimed, &needs, self.server, settings)?.schema);
            *slot = Some(Arc::clone(&schema));
            Ok(schema)
        })?;
        Ok(drift)
    }
}

/// Compares the database at `url` with `history`'s schema of the migrations applied to it
/// (those `history` is given), read at the same time as the database's own.
fn compare<H: AsRef<Schema> + Send>(
    url: &DatabaseUrl,
    dir: &MigrationsDir,
    settings: &Settings,
    history: impl FnOnce(&MigrationsDir) -> Result<H, Error> + Send,
) -> Result<(Drift, H), Error> {
    let scope = settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
    let mut database = PgConnection::connect(url, "haste/dev", &scope)?;
    let report = haste_runner::status(&mut database, dir, settings)?;
    if let Some(stuck) =
        report.migrations.iter().find(|m| matches!(m.state, State::Failed | State::Interrupted))
    {
        return Err(Error::Runner(haste_runner::Error::Blocked {
            name: stuck.name.clone(),
            state: if stuck.state == State::Failed { "failed" } else { "running" },
            statements_done: stuck.statements_done.unwrap_or(0),
            statements_total: stuck.statements_total.unwrap_or(0),
            down_statements_done: stuck.down_statements_done,
            recorded_by: stuck.recorded_by.unwrap_or(haste_runner::RecordedBy::Haste),
        }));
    }
    let applied: HashSet<&str> = report
        .migrations
        .iter()
        .filter(|m| !matches!(m.state, State::Pending))
        .map(|m| m.name.as_str())
        .collect();
    let claimed = MigrationsDir {
        migrations: dir.migrations.iter().filter(|m| applied.contains(m.name.as_str())).cloned().collect(),
        ..dir.clone()
    };
    // The replay and the database's own schema are read at the same time.
    let (history, actual) = std::thread::scope(|scope| {
        let history = scope.spawn(|| history(&claimed));
        let actual = database.introspect_with_owners(settings.owners).map_err(Error::reading);
        (history.join().expect("a replay does not panic"), actual)
    });
    let (history, actual) = (history?, actual?);
    let migrations = report
        .migrations
        .iter()
        .filter(|m| matches!(m.state, State::Modified | State::Missing))
        .map(|m| EditedMigration { name: m.name.clone(), state: m.state })
        .collect();
    let drift = Drift { migrations, changes: haste_diff::changes(history.as_ref(), &actual) };
    Ok((drift, history))
}
