//! The lock budget: a statement, transaction or data step runs in short attempts (each under
//! the lock timeout, the longest the application queues behind it), retried after a lock
//! timeout or deadlock after growing, jittered pauses, until the time spent blocked reaches the
//! deadline. The one retry loop of deploy, its data steps and `migrate down`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use haste_driver::{Autovacuum, Connection, DbError, Limits, LockHolder};
use haste_sql::{Dialect, Lock, StatementKind};

use crate::error::{GaveUp, GaveUpBy};
use crate::waits::{add_sessions, locked_tables, waits_by_design};
use crate::{MAX_BACKOFF, Observer, RunEvent, Settings};

/// The lock budget of one unit of work: a statement, a transaction (haste's or the file's own),
/// or a whole data step, whose batches share it.
///
/// The deadline bounds the time spent blocked: cancelled attempts and the pauses after them.
/// It is never overshot (each attempt's lock timeout is cut to what remains), and the budget
/// is never given up early: when the next pause would reach past the deadline, it is shortened
/// so that one last attempt ends at the deadline.
pub(crate) struct Budget {
    limits: Limits,
    deadline: Duration,
    backoff: Duration,
    retries: Option<u32>,
    /// Time spent blocked so far: cancelled attempts and the pauses after them.
    spent: Duration,
    /// Attempts cancelled by a lock timeout or deadlock (a data step's batches that got
    /// through are not counted).
    cancelled: u32,
    /// Attempts cancelled in a row (the pause grows with them; a batch done starts again).
    in_a_row: u32,
    /// The last attempt, at the deadline, was granted.
    last_granted: bool,
    /// The next attempt waits at least this long for its lock (to outwait an autovacuum the
    /// server cancels only for a waiter past `deadlock_timeout`).
    outwait: Option<Duration>,
    /// An attempt has outwaited an autovacuum already: once per budget.
    outwaited: bool,
    /// The lock timeout of the latest attempt (`None`: none), reported with its outcome.
    attempt_lock_timeout: Option<Duration>,
}

/// What to do after a cancelled attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Pause this long, then try again.
    Pause(Duration),
    /// Stop: the budget is spent.
    GiveUp(GaveUpBy),
}

impl Budget {
    /// The budget of `settings` for attempts under `limits`, with `retries` (the migration's
    /// own, else the run's) as a cap on retries.
    pub(crate) fn new(settings: &Settings, limits: Limits, retries: Option<u32>) -> Budget {
        Budget {
            limits,
            deadline: settings.lock_deadline,
            backoff: settings.backoff,
            retries,
            spent: Duration::ZERO,
            cancelled: 0,
            in_a_row: 0,
            last_granted: false,
            outwait: None,
            outwaited: false,
            attempt_lock_timeout: None,
        }
    }

    /// Shares each attempt's lock timeout between the `relations` an attempt locks
    /// ([`per_lock`]).
    pub(crate) fn share_lock_timeout(&mut self, relations: usize) {
        self.limits.lock_timeout = per_lock(self.limits.lock_timeout, relations);
    }

    /// Starts an attempt: its limits, the lock timeout cut to what remains of the deadline.
    pub(crate) fn attempt(&mut self) -> Limits {
        let mut limits = self.limits;
        if let (Some(outwait), Some(timeout)) = (self.outwait.take(), limits.lock_timeout) {
            limits.lock_timeout = Some(timeout.max(outwait));
        }
        let limits = within_deadline(limits, self.deadline, self.spent);
        self.attempt_lock_timeout = limits.lock_timeout.filter(|timeout| !timeout.is_zero());
        limits
    }

    /// Attempts made so far, the one under way (or that got through) included.
    pub(crate) fn attempts(&self) -> u32 {
        self.cancelled + 1
    }

    /// An attempt went through: the next blocked one starts its pauses small again. The time
    /// spent stays spent: a data step's batches share one deadline.
    pub(crate) fn passed(&mut self) {
        self.in_a_row = 0;
    }

    /// After an attempt cancelled by a lock timeout or deadlock that took `took`: the pause
    /// before the next attempt (counted as spent), or why to stop. `capped`: the cap on retries
    /// applies (not to history writes, which hold nothing the application waits for).
    pub(crate) fn cancelled(&mut self, took: Duration, capped: bool) -> Next {
        self.spent += took;
        self.in_a_row += 1;
        self.cancelled += 1;
        if capped && self.retries.is_some_and(|retries| self.cancelled > retries) {
            return Next::GiveUp(GaveUpBy::Retries);
        }
        let remaining = self.deadline.saturating_sub(self.spent);
        // A deadline of zero is one attempt; a lock timeout that is off retries deadlocks only,
        // until the deadline, with no attempt to fit in before it.
        let last_attempt = match self.limits.lock_timeout {
            Some(timeout) if !timeout.is_zero() => timeout.min(remaining),
            _ => Duration::ZERO,
        };
        if remaining.is_zero() || self.deadline.is_zero() {
            return Next::GiveUp(GaveUpBy::Deadline);
        }
        let growth = 2u32.saturating_pow(self.in_a_row.min(16) - 1);
        let pause = jittered(self.backoff.saturating_mul(growth).min(MAX_BACKOFF));
        // Room for this pause and two more attempts: an ordinary retry. Otherwise the pause is
        // cut (or stretched by less than an attempt, rather than leave a sliver of the budget
        // for a useless one) to end one lock timeout before the deadline: the last attempt.
        let pause = if pause + 2 * last_attempt <= remaining && pause < remaining {
            pause
        } else if self.last_granted {
            return Next::GiveUp(GaveUpBy::Deadline);
        } else {
            self.last_granted = true;
            remaining - last_attempt
        };
        self.spent += pause;
        Next::Pause(pause)
    }

    /// The give-up of this budget, ended `by`, the last attempt blocked by `blockers`.
    pub(crate) fn gave_up(&self, by: GaveUpBy, blockers: Vec<LockHolder>) -> GaveUp {
        GaveUp { by, deadline_ms: millis(self.deadline.as_millis()), attempts: self.cancelled, blockers }
    }
}

/// What happened to an autovacuum that blocked an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AutovacuumYield {
    /// It was cancelled (`pg_cancel_backend`), as the server itself would cancel it for a
    /// waiter past `deadlock_timeout`; autovacuum comes back to the table later.
    Cancelled {
        /// Its process id.
        pid: i64,
    },
    /// This role may not cancel it: the next attempt waits past `deadlock_timeout`, so that the
    /// server cancels it (once per statement; the application may queue that long behind it).
    Outwaited {
        /// Its process id.
        pid: i64,
        /// The lock timeout of that attempt, in milliseconds.
        lock_timeout_ms: u64,
    },
    /// It runs to prevent transaction id wraparound: nobody can cancel it, the server neither;
    /// the budget waits for it to end.
    Wraparound {
        /// Its process id.
        pid: i64,
    },
}

impl Budget {
    /// Makes an autovacuum among `blockers` yield to the next attempt, if one does: cancelled
    /// when this role may (harmless: it starts again later), else outwaited once by an attempt
    /// longer than `deadlock_timeout`, after which the server cancels it; one that prevents
    /// wraparound cannot be made to yield. Says what it did.
    pub(crate) fn yield_autovacuum(
        &mut self,
        connection: &mut dyn Connection,
        blockers: &[LockHolder],
    ) -> Option<AutovacuumYield> {
        let worker = blockers.iter().find(|holder| holder.autovacuum.is_some())?;
        if worker.autovacuum == Some(Autovacuum::ToPreventWraparound) {
            return Some(AutovacuumYield::Wraparound { pid: worker.pid });
        }
        // Only an autovacuum worker (never a user's VACUUM), checked as it is cancelled: the
        // pid may have ended and been reused meanwhile.
        let cancel = format!(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = {} \
             AND backend_type = 'autovacuum worker' AND query NOT LIKE '%to prevent wraparound%'",
            worker.pid
        );
        let cancelled = connection
            .query_row(&cancel)
            .is_ok_and(|row| row.and_then(|row| row.into_iter().next().flatten()).as_deref() == Some("t"));
        match cancelled {
            true => Some(AutovacuumYield::Cancelled { pid: worker.pid }),
            // Not allowed (only a superuser, or from PostgreSQL 18 a member of
            // pg_signal_autovacuum_worker, may; a role that may not see what another role's
            // session is finds no worker to cancel): outwait it once.
            false if !self.outwaited => {
                let deadlock_timeout = connection
                    .query_row(
                        "SELECT CAST(setting AS bigint) FROM pg_settings WHERE name = 'deadlock_timeout'",
                    )
                    .ok()
                    .flatten()
                    .and_then(|row| row.into_iter().next().flatten()?.parse::<u64>().ok())
                    .map_or(Duration::from_secs(1), Duration::from_millis);
                let wait = deadlock_timeout + self.limits.lock_timeout.unwrap_or_default();
                self.outwait = Some(wait);
                self.outwaited = true;
                Some(AutovacuumYield::Outwaited {
                    pid: worker.pid,
                    lock_timeout_ms: millis(wait.as_millis()),
                })
            }
            false => None,
        }
    }
}

/// What a retry loop reports a cancelled attempt under.
pub(crate) struct Attempted<'e> {
    /// The migration.
    pub name: &'e str,
    /// The statement that was cancelled (empty: a history write) and its kind.
    pub statement: &'e str,
    pub kind: StatementKind,
    /// What the database said.
    pub error: &'e DbError,
    /// When the attempt started.
    pub started: Instant,
    /// The cap on retries applies to it.
    pub capped: bool,
}

impl Budget {
    /// After a cancelled attempt: names whom it waited for, makes an autovacuum among them
    /// yield, and pauses before the next attempt (saying so), returning those sessions; or
    /// returns the give-up when the budget is spent.
    pub(crate) fn retry_after(
        &mut self,
        connection: &mut dyn Connection,
        observer: &mut dyn Observer,
        attempted: Attempted<'_>,
    ) -> Result<Vec<LockHolder>, GaveUp> {
        let blockers = blockers(connection, attempted.statement, attempted.kind);
        let pause = match self.cancelled(attempted.started.elapsed(), attempted.capped) {
            Next::GiveUp(by) => return Err(self.gave_up(by, blockers)),
            Next::Pause(pause) => pause,
        };
        let autovacuum = self.yield_autovacuum(connection, &blockers);
        observer.event(&RunEvent::Retrying {
            name: attempted.name,
            attempt: self.cancelled,
            delay_ms: pause.as_millis(),
            lock_timeout_ms: self.attempt_lock_timeout.map(|timeout| millis(timeout.as_millis())),
            error: attempted.error,
            blockers: &blockers,
            autovacuum,
        });
        std::thread::sleep(pause);
        Ok(blockers)
    }
}

/// The limits of an attempt made `elapsed` into a lock budget of `deadline`: its lock timeout
/// shortened to what remains of the deadline, so the last attempt ends at the deadline rather
/// than a whole lock timeout after it. A deadline of zero means exactly one attempt, under the
/// lock timeout as set; so does a lock timeout that is off (the statement then waits as long
/// as it must, and is never retried after a lock timeout).
pub(crate) fn within_deadline(limits: Limits, deadline: Duration, elapsed: Duration) -> Limits {
    let lock_timeout = match limits.lock_timeout {
        Some(timeout) if !timeout.is_zero() && !deadline.is_zero() => {
            // PostgreSQL takes a zero lock timeout as none: the last attempt waits at least 1 ms.
            let remaining = deadline.saturating_sub(elapsed).max(Duration::from_millis(1));
            Some(timeout.min(remaining))
        }
        other => other,
    };
    Limits { lock_timeout, ..limits }
}

/// The sessions holding locks on the tables `statement` (of `kind`) names or their partitions
/// (none when it names none or the database cannot tell), and, for a concurrent build, those
/// holding a snapshot it waits for by design: whom it waited for. Every lock mode counts, not
/// only those conflicting with the statement's table lock: a statement that timed out may have
/// waited for a row another transaction changed, whose session holds only ROW EXCLUSIVE.
pub(crate) fn blockers(
    connection: &mut dyn Connection,
    statement: &str,
    kind: StatementKind,
) -> Vec<LockHolder> {
    let tables = match connection.dialect() {
        Dialect::Postgres => {
            locked_tables(connection, statement).unwrap_or_else(|_| haste_sql::tables_of(statement))
        }
        Dialect::Sqlite => Vec::new(),
    };
    // Only an explanation: failing to get it must not change the outcome.
    let mut holders = connection.lock_holders(&tables, Lock::AccessExclusive).unwrap_or_default();
    let objects = match connection.dialect() {
        Dialect::Postgres => haste_sql::objects_locked(statement),
        Dialect::Sqlite => Vec::new(),
    };
    add_sessions(&mut holders, connection.object_lock_holders(&objects).unwrap_or_default());
    if waits_by_design(kind).is_some_and(|wait| wait.snapshots) {
        add_sessions(&mut holders, connection.snapshot_holders().unwrap_or_default());
    }
    holders
}

/// `pause` scaled by a pseudo-random factor in [0.5, 1.0), so runners that collide spread out.
pub(crate) fn jittered(pause: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let seed = nanos ^ std::process::id().wrapping_mul(0x9e37_79b9);
    let fraction = 0.5 + f64::from(seed % 1000) / 2000.0;
    pause.mul_f64(fraction)
}

pub(crate) fn millis(ms: u128) -> u64 {
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// The lock timeout of each lock an attempt waits for: `lock_timeout` shared between the
/// `relations` it locks in modes the application's reads and writes wait behind (a
/// partitioned table and each of its partitions: PostgreSQL locks each on its own).
/// PostgreSQL's `lock_timeout` bounds each wait on its own: a transaction that held one table
/// while it waited for a second would hold up the first's users for the wait on the second
/// too, up to the timeout as many times as it locks relations. Shared, a user of any of them
/// waits at most about one `lock_timeout` in all (and the attempt is retried under the budget
/// as any other). Never below a millisecond (zero is no timeout).
pub(crate) fn per_lock(lock_timeout: Option<Duration>, relations: usize) -> Option<Duration> {
    let Some(timeout) = lock_timeout.filter(|timeout| !timeout.is_zero()) else { return lock_timeout };
    let shares = u32::try_from(relations).unwrap_or(u32::MAX).max(1);
    Some((timeout / shares).max(Duration::from_millis(1)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use haste_driver::Limits;
    use haste_driver::history::HistoryTables;

    use super::{Budget, Next, within_deadline};
    use crate::Settings;
    use crate::error::GaveUpBy;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn lock_timeout(timeout: Option<u64>, deadline: u64, elapsed: u64) -> Option<Duration> {
        let limits = Limits { lock_timeout: timeout.map(ms), statement_timeout: None };
        within_deadline(limits, ms(deadline), ms(elapsed)).lock_timeout
    }

    #[test]
    fn the_last_attempt_waits_only_for_what_remains_of_the_deadline() {
        assert_eq!(lock_timeout(Some(100), 1000, 0), Some(ms(100)), "well within the deadline");
        assert_eq!(lock_timeout(Some(100), 1000, 960), Some(ms(40)), "cut to what remains");
        assert_eq!(lock_timeout(Some(100), 1000, 1000), Some(ms(1)), "never zero, which is no timeout");
        assert_eq!(lock_timeout(Some(100), 0, 0), Some(ms(100)), "a zero deadline: one attempt as set");
        assert_eq!(lock_timeout(None, 1000, 960), None, "no lock timeout stays none");
        assert_eq!(lock_timeout(Some(0), 1000, 960), Some(ms(0)), "nor does one switched off");
    }

    fn budget(lock_timeout: u64, deadline: u64) -> Budget {
        let mut settings = Settings::new(HistoryTables { schema: None }, String::new());
        settings.lock_deadline = ms(deadline);
        let limits = Limits { lock_timeout: Some(ms(lock_timeout)), statement_timeout: None };
        Budget::new(&settings, limits, None)
    }

    /// Runs `budget` against a lock that is never released, each attempt taking its whole lock
    /// timeout: the attempts' lock timeouts and the pauses, until it gives up.
    fn blocked_throughout(budget: &mut Budget) -> (Vec<Duration>, Vec<Duration>, GaveUpBy) {
        let (mut attempts, mut pauses) = (Vec::new(), Vec::new());
        loop {
            let timeout = budget.attempt().lock_timeout.unwrap();
            attempts.push(timeout);
            match budget.cancelled(timeout, true) {
                Next::Pause(pause) => pauses.push(pause),
                Next::GiveUp(by) => return (attempts, pauses, by),
            }
        }
    }

    #[test]
    fn the_budget_is_spent_to_the_deadline_never_past_it() {
        for (lock_timeout, deadline) in [(100, 1000), (100, 5000), (100, 60_000), (2000, 5000), (100, 250)] {
            let mut budget = budget(lock_timeout, deadline);
            let (attempts, pauses, by) = blocked_throughout(&mut budget);
            assert_eq!(by, GaveUpBy::Deadline);
            let spent: Duration = attempts.iter().chain(&pauses).sum();
            // The last pause was cut so that the last attempt, a whole lock timeout, ends at
            // the deadline: not a back-off early, not a moment late.
            assert_eq!(
                spent,
                ms(deadline),
                "{lock_timeout} ms attempts, deadline {deadline} ms: {attempts:?} {pauses:?}"
            );
            assert_eq!(*attempts.last().unwrap(), ms(lock_timeout.min(deadline)), "{attempts:?}");
            assert_eq!(budget.gave_up(by, Vec::new()).attempts as usize, attempts.len());
        }
    }

    #[test]
    fn a_data_steps_batches_share_one_deadline() {
        let mut budget = budget(100, 1000);
        let mut spent = Duration::ZERO;
        // Blocked, then a smaller batch goes through, over and over: the time blocked adds up.
        loop {
            let timeout = budget.attempt().lock_timeout.unwrap();
            spent += timeout;
            match budget.cancelled(timeout, true) {
                Next::Pause(pause) => spent += pause,
                Next::GiveUp(_) => break,
            }
            budget.attempt();
            budget.passed();
        }
        assert_eq!(spent, ms(1000));
    }

    #[test]
    fn a_zero_deadline_is_one_attempt_and_retries_cap_the_attempts() {
        let mut once = budget(100, 0);
        assert_eq!(once.attempt().lock_timeout, Some(ms(100)));
        assert_eq!(once.cancelled(ms(100), true), Next::GiveUp(GaveUpBy::Deadline));
        let mut settings = Settings::new(HistoryTables { schema: None }, String::new());
        settings.lock_deadline = ms(60_000);
        let limits = Limits { lock_timeout: Some(ms(100)), statement_timeout: None };
        let mut capped = Budget::new(&settings, limits, Some(2));
        let mut attempts = 0;
        loop {
            capped.attempt();
            attempts += 1;
            if let Next::GiveUp(by) = capped.cancelled(ms(100), true) {
                assert_eq!(by, GaveUpBy::Retries);
                break;
            }
        }
        assert_eq!(attempts, 3, "the first and two retries");
    }

    #[test]
    fn an_outwaited_autovacuum_lengthens_one_attempt_within_the_deadline() {
        let mut budget = budget(100, 5000);
        budget.outwait = Some(ms(1100));
        assert_eq!(budget.attempt().lock_timeout, Some(ms(1100)));
        assert_eq!(budget.attempt().lock_timeout, Some(ms(100)), "once");
        let mut short = self::budget(100, 500);
        short.outwait = Some(ms(1100));
        assert_eq!(short.attempt().lock_timeout, Some(ms(500)), "never past the deadline");
    }
}
