//! The order in which a plan creates new tables, new functions (`LANGUAGE sql`, and those in other
//! languages that no column calls) and the views those need, by a dependency graph: PostgreSQL
//! checks a `sql` body against the catalog when the function is created (and compiles a PL/pgSQL
//! one, whose variables may be of a new table's row type), and a table's default or generated
//! column needs the functions it calls.
//! So a table comes after the functions its columns call, a function after the tables, views and
//! functions its body reads or calls, a view after those its definition reads or calls, and a
//! partition or an `INHERITS` child after its parent.
//!
//! What an object reads is taken with PostgreSQL's grammar (`haste_sql::reads`), by name without
//! schema, so a name shared by two objects can only order more. Where nothing depends, the phase
//! order stands: tables (in the order given), then functions (in the order given: the `sql` ones
//! first), and views only where a table or
//! function needs one (the others are created after constraints and indexes, as before). A cycle
//! (which only names matched too widely make) leaves its objects in the phase order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use haste_schema::{Function, Table, View};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

/// An object to create.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Creation<'a> {
    /// `CREATE TABLE`.
    Table(&'a Table),
    /// A function whose body may need the tables.
    Function(&'a Function),
    /// A view some table or function needs.
    View(&'a View),
}

/// `tables` (parents before partitions), `functions` and, of `views` (in dependency order
/// among themselves), those that any table or function needs, each after what it needs.
pub(crate) fn creations<'a>(
    tables: &[&'a Table],
    functions: &[&'a Function],
    views: &[&'a View],
) -> Vec<Creation<'a>> {
    let phase_order =
        || tables.iter().map(|t| Creation::Table(t)).chain(functions.iter().map(|f| Creation::Function(f)));
    // Without functions nothing can be out of the phase order (views read no new function then,
    // and no table or function reads a view): a schema of a thousand tables is not read here.
    if functions.is_empty() {
        return phase_order().collect();
    }
    let nodes: Vec<Creation<'a>> = phase_order().chain(views.iter().map(|v| Creation::View(v))).collect();
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let index: Vec<NodeIndex> = (0..nodes.len()).map(|i| graph.add_node(i)).collect();
    let mut relations: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut callables: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        match node {
            Creation::Table(table) => relations.entry(&table.name).or_default().push(i),
            Creation::View(view) => relations.entry(&view.name).or_default().push(i),
            Creation::Function(function) => callables.entry(&function.name).or_default().push(i),
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        let mut reads = haste_sql::Reads::default();
        match node {
            Creation::Table(table) => {
                let expressions = table.columns.iter().flat_map(|c| c.default.iter().chain(&c.generated));
                for expression in expressions {
                    if let Some(read) = haste_sql::reads(&format!("SELECT {expression}")) {
                        reads.functions.extend(read.functions);
                    }
                }
                // Its parent, partitioned or by `INHERITS`, first: the graph, not the names,
                // decides.
                let inherits = |parent: &Table| {
                    table
                        .inherits
                        .iter()
                        .any(|(schema, name)| *schema == parent.schema && *name == parent.name)
                };
                let has_parent = table.partition_of.is_some() || !table.inherits.is_empty();
                for (j, parent) in tables.iter().enumerate().filter(|_| has_parent) {
                    if table.is_partition_of(parent) || inherits(parent) {
                        graph.update_edge(index[j], index[i], ());
                    }
                }
            }
            Creation::Function(function) => {
                reads = haste_sql::reads(&function.definition).unwrap_or_default()
            }
            Creation::View(view) => reads = haste_sql::reads(&view.definition).unwrap_or_default(),
        }
        let named = |names: &BTreeMap<&str, Vec<usize>>, name: &String| names.get(name.as_str()).cloned();
        let needed = reads.relations.iter().filter_map(|name| named(&relations, name));
        let called = reads.functions.iter().filter_map(|name| named(&callables, name));
        for j in needed.chain(called).flatten().filter(|&j| j != i) {
            graph.update_edge(index[j], index[i], ());
        }
    }
    // The views something other than a view needs, at any depth.
    let mut wanted: Vec<bool> = nodes.iter().map(|node| !matches!(node, Creation::View(_))).collect();
    let mut stack: Vec<NodeIndex> = (0..nodes.len()).filter(|&i| wanted[i]).map(|i| index[i]).collect();
    while let Some(node) = stack.pop() {
        for needed in graph.neighbors_directed(node, Direction::Incoming) {
            if !wanted[graph[needed]] {
                wanted[graph[needed]] = true;
                stack.push(needed);
            }
        }
    }
    // Kahn's algorithm, the earliest object in the phase order first among those ready.
    let mut waiting: Vec<usize> = index
        .iter()
        .map(|&node| {
            graph.neighbors_directed(node, Direction::Incoming).filter(|n| wanted[graph[*n]]).count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..nodes.len()).filter(|&i| wanted[i] && waiting[i] == 0).map(Reverse).collect();
    let mut placed = vec![false; nodes.len()];
    let mut order = Vec::new();
    while let Some(Reverse(i)) = ready.pop() {
        placed[i] = true;
        order.push(nodes[i]);
        for dependent in graph.neighbors_directed(index[i], Direction::Outgoing) {
            let j = graph[dependent];
            if wanted[j] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push(Reverse(j));
                }
            }
        }
    }
    order.extend((0..nodes.len()).filter(|&i| wanted[i] && !placed[i]).map(|i| nodes[i]));
    order
}

#[cfg(test)]
mod tests {
    use haste_schema::{Column, Function, View};

    use super::{Creation, creations};
    use crate::fixtures::{column, table};

    fn function(name: &str, body: &str) -> Function {
        Function {
            schema: "crm".into(),
            name: name.into(),
            signature: format!("crm.{name}()"),
            language: "sql".into(),
            definition: format!(
                "CREATE OR REPLACE FUNCTION crm.{name}()\n RETURNS bigint\n LANGUAGE sql\nAS $function${body}$function$\n"
            ),
            row_types: Vec::new(),
            arguments: String::new(),
            result: Some("bigint".into()),
            range_types: Vec::new(),
        }
    }

    fn names(order: &[Creation]) -> Vec<String> {
        order
            .iter()
            .map(|creation| match creation {
                Creation::Table(table) => table.name.clone(),
                Creation::Function(function) => format!("{}()", function.name),
                Creation::View(view) => format!("view {}", view.name),
            })
            .collect()
    }

    #[test]
    fn what_is_needed_comes_first_and_the_phase_order_stands_elsewhere() {
        let mut ledger =
            table(vec![Column { default: Some("crm.next_no()".into()), ..column("no", "bigint") }]);
        ledger.name = "ledger".into();
        let mut tickets = table(vec![column("id", "bigint")]);
        tickets.name = "tickets".into();
        let mut zones = table(vec![column("id", "bigint")]);
        zones.name = "zones".into();
        let next_no = function("next_no", "SELECT count(*) FROM crm.tickets");
        let untouched = function("untouched", "SELECT 1");
        let tables = [&ledger, &tickets, &zones];
        assert_eq!(
            names(&creations(&tables, &[&untouched, &next_no], &[])),
            ["tickets", "zones", "untouched()", "next_no()", "ledger"]
        );
        // A function reading a view over a function: the view comes between them; a view
        // nothing needs is left for later.
        let total = function("total", "SELECT count(*) FROM crm.tickets");
        let totals = View {
            schema: "crm".into(),
            name: "totals".into(),
            materialized: false,
            definition: " SELECT crm.total() AS total;".into(),
            options: Vec::new(),
            with_no_data: Default::default(),
            column_defaults: Vec::new(),
        };
        let alone = View { name: "alone".into(), definition: " SELECT 1;".into(), ..totals.clone() };
        let reported = function("reported", "SELECT total FROM crm.totals");
        assert_eq!(
            names(&creations(&[&tickets], &[&reported, &total], &[&totals, &alone])),
            ["tickets", "total()", "view totals", "reported()"]
        );
        // Nothing depends: the phase order.
        assert_eq!(names(&creations(&[&tickets, &zones], &[], &[&alone])), ["tickets", "zones"]);
    }
}
