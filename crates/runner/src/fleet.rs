//! Many databases at once: one migrations folder deployed to (or compared with) every target of
//! a fleet, a few at a time.
//!
//! Each target is an ordinary deploy ([`deploy`]): its own connection, its own migration lock
//! and its own history, so a fleet run adds no state of its own. A rerun after a failure or a
//! kill is the same command again: each target's history says where it stopped, so finished
//! targets have nothing to apply and the others carry on.
//!
//! The guards a caller runs around each target's deploy (a backup before it, a verify after it)
//! are the caller's ([`TargetGuards`]): the runner only says when they run and keeps their
//! failures apart from its own.
//!
//! Targets run on worker threads (the runner and drivers are synchronous), each opening its
//! connection on the thread that uses it. Which driver serves a URL is the caller's business
//! ([`Connect`]), as for a single deploy.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use haste_driver::{ConnectError, Connection, DatabaseUrl};
use haste_migrations::MigrationsDir;

use crate::{DeployReport, Error, Observer, RunEvent, Settings, StatusReport, deploy, status};

/// One database (or one schema of a database) of a fleet.
#[derive(Debug, Clone)]
pub struct Target {
    /// How the target is named in output: `env:NAME`, or its URL with the password hidden.
    pub name: String,
    /// Where it is.
    pub url: DatabaseUrl,
    /// How it is deployed: history in the URL's schema, the fleet's lock budget and run id.
    pub settings: Settings,
}

/// Opens a connection to a target; called on the worker thread that then uses it.
pub type Connect<'a> = dyn Fn(&Target) -> Result<Box<dyn Connection>, ConnectError> + Sync + 'a;

/// How a fleet deploy proceeds.
#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// Targets deployed at the same time (at least one).
    pub jobs: usize,
    /// After the first failure, start no other target (those running finish).
    pub fail_fast: bool,
    /// Deploy the first `canary` targets before any other; if one of them fails, start none
    /// of the others.
    pub canary: usize,
}

/// Why a target failed; `G` is the caller's guard failure ([`TargetGuards::Failure`]).
#[derive(Debug)]
pub enum TargetError<G> {
    /// It could not be reached.
    Connect(ConnectError),
    /// The runner stopped (a failed migration, a lock held elsewhere, a history that does not
    /// fit the folder, ...).
    Run(Error),
    /// A guard before the deploy failed (a backup): nothing was applied.
    GuardBefore(G),
}

/// Steps run around each target's deploy, on its worker thread: the per-database guards of a
/// single deploy (a backup before anything is applied, a verify after), applied to every target.
pub trait TargetGuards: Sync {
    /// Why a guard failed.
    type Failure: Send;
    /// Runs on the target's connection before its deploy; a failure fails the target, nothing
    /// applied.
    fn before(&self, target: usize, connection: &mut dyn Connection) -> Result<(), Self::Failure>;
    /// Runs after the target deployed; a failure fails the target, its migrations applied.
    fn after(&self, target: usize, report: &DeployReport) -> Result<(), Self::Failure>;
}

/// Why a target was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A canary target failed.
    CanaryFailed,
    /// Another target failed and `fail_fast` was asked.
    FailFast,
}

/// What became of one target; `G` is the caller's guard failure.
#[derive(Debug)]
pub enum Outcome<G> {
    /// Deployed: every pending migration applied (or nothing was pending).
    Deployed(DeployReport),
    /// Stopped with an error; its history says where, and a rerun carries on from there.
    Failed(TargetError<G>),
    /// Deployed, then the guard after the deploy failed (a verify found differences).
    GuardAfterFailed(DeployReport, G),
    /// Never started.
    Skipped(SkipReason),
}

impl<G> Outcome<G> {
    /// Whether the target is at the newest migration (as far as this run could tell).
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Deployed(_))
    }
}

/// Receives a fleet's progress as it happens, from every worker thread.
pub trait FleetObserver<G>: Sync {
    /// Target `target` (an index into the targets) starts.
    fn started(&self, target: usize);
    /// Something happened in target `target`'s deploy.
    fn event(&self, target: usize, event: &RunEvent<'_>);
    /// Target `target` is done (called once for each target that started).
    fn finished(&self, target: usize, outcome: &Outcome<G>);
}

/// What a fleet deploy did: one outcome per target, in the targets' order.
#[derive(Debug)]
pub struct FleetReport<G> {
    /// Index-aligned with the targets.
    pub outcomes: Vec<Outcome<G>>,
}

impl<G> FleetReport<G> {
    /// Whether every target succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcomes.iter().all(Outcome::succeeded)
    }
}

/// Deploys `dir` to every target, `options.jobs` at a time: the canaries first, then the
/// others. A failing target stops only itself (unless it is a canary, or `fail_fast`). Each
/// target's deploy runs between `guards`' steps.
pub fn deploy_fleet<G: TargetGuards>(
    targets: &[Target],
    dir: &MigrationsDir,
    options: &FleetOptions,
    connect: &Connect<'_>,
    guards: &G,
    observer: &dyn FleetObserver<G::Failure>,
) -> FleetReport<G::Failure> {
    let outcomes: Mutex<Vec<Option<Outcome<G::Failure>>>> =
        Mutex::new(targets.iter().map(|_| None).collect());
    let deploy_one = |index: usize| {
        observer.started(index);
        let outcome = deploy_target(&targets[index], dir, connect, guards, index, observer);
        observer.finished(index, &outcome);
        let failed = !outcome.succeeded();
        outcomes.lock().expect("no worker panics holding the outcomes")[index] = Some(outcome);
        failed
    };
    let canaries = options.canary.min(targets.len());
    let canary_failed = run_parallel(0..canaries, options.jobs, true, &deploy_one);
    let skipped = if canary_failed {
        SkipReason::CanaryFailed
    } else {
        run_parallel(canaries..targets.len(), options.jobs, options.fail_fast, &deploy_one);
        SkipReason::FailFast
    };
    let outcomes = outcomes.into_inner().expect("no worker panics holding the outcomes");
    FleetReport { outcomes: outcomes.into_iter().map(|o| o.unwrap_or(Outcome::Skipped(skipped))).collect() }
}

/// Reads every target's status, `jobs` at a time; one result per target, in order.
pub fn status_fleet(
    targets: &[Target],
    dir: &MigrationsDir,
    jobs: usize,
    connect: &Connect<'_>,
) -> Vec<Result<StatusReport, TargetError<std::convert::Infallible>>> {
    let reports: Mutex<Vec<Option<Result<StatusReport, TargetError<_>>>>> =
        Mutex::new(targets.iter().map(|_| None).collect());
    run_parallel(0..targets.len(), jobs, false, &|index| {
        let target = &targets[index];
        let report = connect(target).map_err(TargetError::Connect).and_then(|mut connection| {
            status(connection.as_mut(), dir, &target.settings).map_err(TargetError::Run)
        });
        reports.lock().expect("no worker panics holding the reports")[index] = Some(report);
        false
    });
    let reports = reports.into_inner().expect("no worker panics holding the reports");
    reports.into_iter().map(|report| report.expect("every target was read")).collect()
}

fn deploy_target<G: TargetGuards>(
    target: &Target,
    dir: &MigrationsDir,
    connect: &Connect<'_>,
    guards: &G,
    index: usize,
    observer: &dyn FleetObserver<G::Failure>,
) -> Outcome<G::Failure> {
    let mut connection = match connect(target) {
        Ok(connection) => connection,
        Err(error) => return Outcome::Failed(TargetError::Connect(error)),
    };
    if let Err(failure) = guards.before(index, connection.as_mut()) {
        return Outcome::Failed(TargetError::GuardBefore(failure));
    }
    let mut forward = Forward { observer, index };
    let report = match deploy(connection.as_mut(), dir, &target.settings, &mut forward) {
        Ok(report) => report,
        Err(error) => return Outcome::Failed(TargetError::Run(error)),
    };
    // The deploy's session (and its lock) is closed before the guard after it looks.
    drop(connection);
    match guards.after(index, &report) {
        Ok(()) => Outcome::Deployed(report),
        Err(failure) => Outcome::GuardAfterFailed(report, failure),
    }
}

/// A target's events, passed on to the fleet's observer with the target's index.
struct Forward<'a, G> {
    observer: &'a dyn FleetObserver<G>,
    index: usize,
}

impl<G> Observer for Forward<'_, G> {
    fn event(&mut self, event: &RunEvent<'_>) {
        self.observer.event(self.index, event);
    }
}

/// Runs `work` for every index of `range` on up to `jobs` threads, in order of index. With
/// `stop_on_failure`, no index starts after `work` returned `true` (a failure) for one; the
/// others in flight finish. Returns whether any failed.
pub fn run_parallel(
    range: std::ops::Range<usize>,
    jobs: usize,
    stop_on_failure: bool,
    work: &(dyn Fn(usize) -> bool + Sync),
) -> bool {
    let next = AtomicUsize::new(range.start);
    let failed = AtomicBool::new(false);
    let workers = jobs.max(1).min(range.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !(stop_on_failure && failed.load(Ordering::SeqCst)) {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= range.end {
                        break;
                    }
                    if work(index) {
                        failed.store(true, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    failed.into_inner()
}
