//! Taking the migration lock by polling, never by blocking.

use std::time::{Duration, Instant};

use haste_driver::Connection;

use crate::budget::jittered;
use crate::{Error, Observer, RunEvent};

const FIRST_POLL: Duration = Duration::from_millis(100);
const LONGEST_POLL: Duration = Duration::from_secs(2);
const HOLDER_REPORT_EVERY: Duration = Duration::from_secs(2);

/// Polls the try-lock with growing, jittered pauses until it succeeds or `wait` is over,
/// naming the holder while it waits. Between polls the session is idle and holds no snapshot,
/// so the holder's `CREATE INDEX CONCURRENTLY` never waits for us.
pub(crate) fn acquire(
    connection: &mut dyn Connection,
    wait: Duration,
    observer: &mut dyn Observer,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut pause = FIRST_POLL;
    let mut last_report: Option<Instant> = None;
    loop {
        if connection.try_lock().map_err(Error::database("taking the migration lock"))? {
            observer.event(&RunEvent::LockAcquired { waited_ms: started.elapsed().as_millis() });
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= wait {
            let holder = connection.lock_holder().ok().flatten();
            return Err(Error::LockTimeout { waited, holder });
        }
        if last_report.is_none_or(|at| at.elapsed() >= HOLDER_REPORT_EVERY) {
            let holder = connection.lock_holder().map_err(Error::database("looking up the lock holder"))?;
            observer.event(&RunEvent::LockWaiting { holder, waited_ms: waited.as_millis() });
            last_report = Some(Instant::now());
        }
        std::thread::sleep(jittered(pause).min(wait - waited));
        pause = (pause * 2).min(LONGEST_POLL);
    }
}
