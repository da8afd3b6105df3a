//! Models for the unit tests: a table `crm.deals` with the columns a test gives it, and its
//! indexes.

use haste_schema::{Column, Index, Table, TableKind};

/// A nullable column without default.
pub(crate) fn column(name: &str, data_type: &str) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        not_null: false,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        comment: None,
        inherited: false,
        settings: Default::default(),
    }
}

/// `crm.deals` with `columns`.
pub(crate) fn table(columns: Vec<Column>) -> Table {
    Table {
        schema: "crm".into(),
        name: "deals".into(),
        kind: TableKind::Regular,
        partition_of: None,
        partition_depth: 0,
        inherits: Vec::new(),
        columns,
        constraints: Vec::new(),
        comment: None,
        row_security: false,
        force_row_security: false,
        storage_parameters: Vec::new(),
        replica_identity: Default::default(),
        clustered_on: None,
    }
}

/// An index of `crm.deals` with `definition`, its parts left for the test to give where it uses
/// them.
pub(crate) fn index(definition: &str) -> Index {
    Index {
        schema: "crm".into(),
        table: "deals".into(),
        name: "deals_id_idx".into(),
        definition: definition.into(),
        unique: false,
        method: "btree".into(),
        elements: String::new(),
        columns: Vec::new(),
        keys: Vec::new(),
        included: Vec::new(),
        predicate: None,
        expressions: false,
        valid: true,
        attached_to: None,
    }
}
