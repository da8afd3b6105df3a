//! The code map's rules that the compiler does not hold (ARCHITECTURE.md): within a crate,
//! modules form layers (no two files import each other, nor do longer circles form), and the
//! CLI reaches the schema engine only through `haste-dev`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The code of a file without its test module (tests may reach anywhere in their crate).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The crate's modules (a file of `src/`, or a folder of it as one module) with the modules
/// each names through `crate::` or `super::`.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                files.push((name.clone(), inner.unwrap().path()));
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            files.push((name, path));
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|(name, _)| name.clone()).collect();
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let code = without_tests(&text);
        let named = imports.entry(module.clone()).or_default();
        for prefix in ["crate::", "super::"] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                // `crate::{a, b::c}` names each of a group's first segments.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(group.len())]
                        .split(',')
                        .map(|item| item.trim().split("::").next().unwrap_or_default())
                        .collect(),
                    None => vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap()],
                };
                named.extend(
                    names
                        .into_iter()
                        .filter(|name| modules.contains(*name) && name != module)
                        .map(str::to_owned),
                );
            }
        }
    }
    imports
}

/// A circle of imports among `imports`, if there is one.
fn circle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut found = path[at..].to_vec();
            found.push(module.to_owned());
            return Some(found);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in imports.get(module).into_iter().flatten() {
            if let Some(found) = visit(next, imports, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    imports.keys().find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_of_each_crate_form_layers() {
    let mut circles = Vec::new();
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir()
            && let Some(found) = circle(&module_imports(&src))
        {
            circles.push(format!("{}: {}", src.display(), found.join(" -> ")));
        }
    }
    assert!(circles.is_empty(), "modules importing each other:\n{}", circles.join("\n"));
}

#[test]
fn a_circle_of_imports_is_found() {
    let imports: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_owned(), BTreeSet::from([to.to_owned()])))
        .collect();
    assert_eq!(circle(&imports), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let layered: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c")]
        .into_iter()
        .map(|(f, t)| (f.to_owned(), BTreeSet::from([t.to_owned()])))
        .collect();
    assert_eq!(circle(&layered), None);
}

#[test]
fn the_cli_reaches_the_schema_engine_only_through_haste_dev() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let dependencies = manifest["dependencies"].as_table().unwrap();
    assert!(dependencies.contains_key("haste-dev"));
    for engine in ["haste-diff", "haste-schema", "haste-prisma"] {
        assert!(!dependencies.contains_key(engine), "the CLI depends on {engine}");
    }
}
