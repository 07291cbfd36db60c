//! The layering of ARCHITECTURE.md, checked: which top-level module may use
//! which. A module may use only modules of a lower layer, so no two modules
//! can depend on each other (no import cycles). Read from the source text:
//! every `crate::<module>` a file names outside comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layers, lowest first. Within a layer, modules don't use each other.
const LAYERS: &[&[&str]] = &[
    // Pure leaves: no other herald module.
    &[
        "clock",
        "error",
        "glob",
        "keyspace_events",
        "printf",
        "protocol",
        "rdb",
        "stats",
    ],
    // State holders, each behind its own locks.
    &["store", "clients"],
    &["pubsub", "blocking", "config", "scripting"],
    // The one layer that sees protocol types and the store together.
    &["commands"],
    // Every `.await`: listeners, connection loops, cron.
    &["server"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` has no layer in tests/architecture.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module of a file under src/ (`src/store/table.rs` -> `store`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.as_str() {
        "bin" | "main.rs" | "lib.rs" => None,
        _ => Some(first.trim_end_matches(".rs").to_string()),
    }
}

/// Code of a file without comments and without its `#[cfg(test)]` tail.
fn code(text: &str) -> String {
    let text = text.split("\n#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = code(&std::fs::read_to_string(&file).unwrap());
        let used = deps.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::commands::Flags` in macros, `crate::flags!` itself.
            if !name.is_empty() && name != "flags" && name != module {
                used.insert(name);
            }
        }
    }
    deps
}

#[test]
fn every_module_uses_only_lower_layers() {
    let mut violations = Vec::new();
    for (module, used) in dependencies() {
        for dep in used {
            if layer_of(&dep) >= layer_of(&module) {
                violations.push(format!("{module} -> {dep}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "arrows ARCHITECTURE.md does not allow: {violations:?}"
    );
}

#[test]
fn named_rules_hold() {
    let deps = dependencies();
    let uses = |a: &str, b: &str| deps.get(a).is_some_and(|d| d.contains(b));
    assert!(!uses("config", "commands"));
    assert!(!uses("blocking", "commands"));
    assert!(!uses("store", "commands") && !uses("store", "server"));
    assert!(!uses("pubsub", "commands") && !uses("pubsub", "server"));
    // The pub/sub registry carries bytes: no RESP framing written there.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pubsub");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = code(&std::fs::read_to_string(&file).unwrap());
        for literal in ["\\r\\n", "b'*'", "b'>'", "b\"*", "b\">"] {
            assert!(
                !text.contains(literal),
                "{} writes RESP ({literal})",
                file.display()
            );
        }
    }
}
