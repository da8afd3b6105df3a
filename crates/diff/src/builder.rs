//! The plan under construction: statements pushed one by one, each with its lock, hazards and
//! the change it carries out.

use crate::{Hazard, Lock, Options, SchemaChange, Step};

pub(crate) struct Builder {
    pub(crate) steps: Vec<Step>,
    pub(crate) options: Options,
}

impl Builder {
    pub(crate) fn push(
        &mut self,
        source: &SchemaChange,
        sql: impl Into<String>,
        lock: Lock,
        hazards: &[Hazard],
    ) {
        self.add(source, sql.into(), lock, hazards, false);
    }

    /// A statement that must run in its own transaction, after the ones before it committed.
    pub(crate) fn push_alone(
        &mut self,
        source: &SchemaChange,
        sql: impl Into<String>,
        lock: Lock,
        hazards: &[Hazard],
    ) {
        self.add(source, sql.into(), lock, hazards, true);
    }

    fn add(&mut self, source: &SchemaChange, sql: String, lock: Lock, hazards: &[Hazard], alone: bool) {
        self.steps.push(Step { sql, lock, hazards: hazards.to_vec(), alone, source: source.clone() });
    }
}
