//! The workspace's layout rules, as tests that `cargo test` runs (as rust-analyzer's
//! `tidy` does): no import cycle between modules, a trainer of small files and small
//! functions, and the model families named in the models crate only.
//!
//! The checks read the sources as text, the way a reviewer would: `crate::…` and
//! `super::…` paths are imports, `//` comments are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `text` without `//` comments (string contents are kept as they are).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module path of `file` in the crate whose sources are in `src`: `fit`,
/// `overrides::model`; the crate root is `crate`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    // A package with a library and a binary has two roots in one folder.
    let binary_beside_library = src.join("lib.rs").is_file();
    match parts.as_slice() {
        [] => "crate".into(),
        [one] if one == "lib" => "crate".into(),
        [one] if one == "main" && !binary_beside_library => "crate".into(),
        _ => parts.join("::"),
    }
}

/// Identifiers following `prefix` in `text`, with `{a, b::c}` groups expanded to
/// their first segments.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices(prefix) {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            out.extend(
                inner
                    .split(',')
                    .map(|p| ident(p.trim()))
                    .filter(|p| !p.is_empty()),
            );
        } else {
            out.push(ident(rest));
        }
    }
    out
}

/// The modules of the crate in `src` and the modules each one imports.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    let texts: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            (module_of(src, f), strip_comments(&text))
        })
        .collect();
    // Items the root re-exports, by the module that defines them.
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    if let Some(root) = texts.get("crate") {
        for line in root
            .lines()
            .filter(|l| l.trim_start().starts_with("pub use "))
        {
            let path = line.trim_start().trim_start_matches("pub use ");
            let module: String = path.split("::").next().unwrap_or_default().into();
            let items = path.trim_start_matches(&format!("{module}::"));
            for item in items.split(|c: char| !c.is_alphanumeric() && c != '_') {
                if !item.is_empty() {
                    reexported.insert(item.to_string(), module.clone());
                }
            }
        }
    }
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_string();
    // Beside a library, the binary's modules are those `main.rs` declares; in them
    // `crate` is the binary's root.
    let binary: BTreeSet<String> = texts
        .get("main")
        .map(|main| {
            main.lines()
                .filter_map(|l| l.trim_start().strip_prefix("mod "))
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                })
                .map(|name| name.collect())
                .collect()
        })
        .unwrap_or_default();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &texts {
        let root = if module == "main" || binary.contains(&top(module)) {
            "main"
        } else {
            "crate"
        };
        let mut edges = BTreeSet::new();
        for head in paths_after(text, "crate::") {
            let target = reexported.get(&head).cloned().unwrap_or(head);
            if texts.contains_key(&target) || binary.contains(&target) {
                edges.insert(target);
            } else if module != root {
                edges.insert(root.to_string());
            }
        }
        if module.contains("::") {
            let parent = module.rsplit_once("::").map_or("crate", |(p, _)| p);
            for head in paths_after(text, "super::") {
                let sibling = format!("{parent}::{head}");
                edges.insert(if texts.contains_key(&sibling) {
                    sibling
                } else {
                    parent.to_string()
                });
            }
        }
        if module == "crate" || module == "main" {
            // A root's own uses of its modules, not its `mod` and `use` lines.
            for line in text.lines().map(str::trim_start) {
                if line.starts_with("pub use ") || line.starts_with("use ") || line.contains("mod ")
                {
                    continue;
                }
                let tops: BTreeSet<String> = texts.keys().map(|m| top(m)).collect();
                for m in tops.iter().filter(|m| *m != module) {
                    if !paths_after(line, &format!("{m}::")).is_empty() {
                        edges.insert(m.clone());
                    }
                }
            }
        }
        // A child module and its parent file are one unit for the cycle check.
        edges.retain(|e| e != module && top(e) != *module);
        graph.insert(module.clone(), edges);
    }
    graph
}

/// The cycles of `graph`: its strongly connected components of two or more modules.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for (m, r) in &reaches {
        let mut component: Vec<String> = r
            .iter()
            .filter(|o| reaches.get(o).is_some_and(|back| back.contains(*m)))
            .cloned()
            .collect();
        if component.len() > 1 && !found.contains(&component) {
            component.sort();
            if !found.contains(&component) {
                found.push(component);
            }
        }
    }
    found
}

/// The lines of `text` that are code: no blank line, no comment, no test module.
fn code_lines(text: &str) -> Vec<&str> {
    outside_tests(text)
        .into_iter()
        .map(|(_, line)| line)
        .filter(|l| !l.trim().is_empty() && !l.trim().starts_with("//"))
        .collect()
}

/// The lines of `text` outside `#[cfg(test)] mod … { … }`, with their 1-based numbers.
fn outside_tests(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let test_module = line == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|l| l.trim().starts_with("mod ") && l.trim().ends_with('{'));
        if test_module {
            let mut depth = 0i64;
            i += 1;
            while i < lines.len() {
                depth +=
                    lines[i].matches('{').count() as i64 - lines[i].matches('}').count() as i64;
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            continue;
        }
        out.push((i + 1, lines[i]));
        i += 1;
    }
    out
}

/// Each function of `text` with its length in lines, signature to closing brace.
fn functions(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "fn") else {
            continue;
        };
        let modifiers = [
            "pub",
            "pub(crate)",
            "pub(super)",
            "const",
            "async",
            "unsafe",
        ];
        if !words[..at].iter().all(|w| modifiers.contains(w)) {
            continue;
        }
        let name: String = words
            .get(at + 1)
            .map(|w| {
                w.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .unwrap_or_default();
        let (mut depth, mut opened) = (0i64, false);
        for (j, l) in lines.iter().enumerate().skip(i) {
            if !opened && l.trim_end().ends_with(';') {
                break;
            }
            for c in code_chars(l) {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth == 0 {
                out.push((name.clone(), j - i + 1));
                break;
            }
        }
    }
    out
}

/// The characters of a line that are code: string and character literals and a
/// trailing comment left out, so that a `'{'` is no brace.
fn code_chars(line: &str) -> Vec<char> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\\') && chars.get(i + 3) == Some(&'\'') => i += 3,
            '/' if chars.get(i + 1) == Some(&'/') => break,
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The crates of the workspace: name and source folder.
fn crates() -> Vec<(String, PathBuf)> {
    let root = root();
    let mut out = vec![("xtask".to_string(), root.join("xtask/src"))];
    for group in ["crates", "examples"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(group))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("src"))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for src in dirs {
            let name = src
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, src));
        }
    }
    out
}

/// The family names as the models crate declares them: the `name` of each
/// `FamilySpec`, each in its family's file.
fn family_names() -> Vec<String> {
    let mut names = Vec::new();
    for file in rust_files(&root().join("crates/models/src")) {
        let text = strip_comments(&std::fs::read_to_string(&file).unwrap_or_default());
        for spec in text.split("FamilySpec {").skip(1) {
            let name = spec
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("name: \""))
                .and_then(|l| l.split('"').next());
            // `FamilySpec::ORDINARY`, the settings a family starts from, names none.
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The features of each package in a build, as `cargo tree ARGS` resolves them
/// (`--offline`: the lock file as it is).
fn build_features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let out = crate::cmd::command()
        .args(["tree", "--offline", "--prefix", "none", "-f", "{p}|{f}"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A package built for the host (a build script's or a macro's dependency) and for
    // the target appears twice, each with its own features.
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((p, f)) = line.trim_end_matches(" (*)").split_once('|') {
            features
                .entry(p.to_string())
                .or_default()
                .insert(f.to_string());
        }
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo run -p trainer` and the examples build every crate they share with
    /// `cargo test --workspace` (dev-dependencies included) with the same features,
    /// so that CI and a user build burn once: a crate with other features is built
    /// again, and below burn that is most of the build (see `crates/workspace-hack`).
    #[test]
    fn the_trainer_and_the_examples_share_the_workspaces_build() {
        let workspace = build_features(&["--workspace", "-e", "normal,build,dev"]);
        for package in ["trainer", "custom-loop", "apply-model"] {
            let alone = build_features(&["-p", package, "-e", "normal,build"]);
            let differ: Vec<String> = alone
                .iter()
                .filter_map(|(p, f)| {
                    let w = workspace.get(p)?;
                    (w != f).then(|| format!("{p}: {f:?} alone, {w:?} in the workspace"))
                })
                .collect();
            assert!(
                differ.is_empty(),
                "`cargo run -p {package}` would build these again with other features:\n{}",
                differ.join("\n")
            );
        }
    }

    #[test]
    fn no_module_imports_a_module_that_imports_it_back() {
        let mut found = Vec::new();
        for (name, src) in crates() {
            for cycle in cycles(&import_graph(&src)) {
                found.push(format!("{name}: {}", cycle.join(" ↔ ")));
            }
        }
        assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
    }

    #[test]
    fn the_trainer_is_small_files_of_small_functions() {
        let src = root().join("crates/trainer/src");
        let files = rust_files(&src);
        assert!(
            files.len() > 20,
            "{} files under {}",
            files.len(),
            src.display()
        );
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let name = file
                .strip_prefix(&src)
                .unwrap_or(&file)
                .display()
                .to_string();
            if name.ends_with("tests.rs") {
                continue;
            }
            let lines = code_lines(&text).len();
            assert!(lines <= 500, "{name}: {lines} lines of code, more than 500");
            for (function, length) in functions(&text) {
                assert!(
                    length <= 100,
                    "{name}: fn {function} has {length} lines, more than 100"
                );
            }
        }
    }

    /// No function of the workspace's own code — its crates, benchmarks and examples,
    /// tests aside — is longer than 100 lines.
    #[test]
    fn no_function_is_longer_than_a_hundred_lines() {
        let root = root();
        let mut dirs: Vec<PathBuf> = crates().into_iter().map(|(_, src)| src).collect();
        dirs.push(root.join("crates/trainer/benches"));
        let mut long = Vec::new();
        for file in dirs.iter().flat_map(|d| rust_files(d)) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let code: Vec<&str> = outside_tests(&text).into_iter().map(|(_, l)| l).collect();
            for (function, length) in functions(&code.join("\n")) {
                if length > 100 {
                    let rel = file
                        .strip_prefix(&root)
                        .unwrap_or(&file)
                        .display()
                        .to_string();
                    long.push(format!("{rel}: fn {function} has {length} lines"));
                }
            }
        }
        assert!(
            long.is_empty(),
            "functions over 100 lines:\n{}",
            long.join("\n")
        );
    }

    /// Outside the models crate no code matches on the families or spells their names,
    /// but the one step that applies each family's flags (`trainer::overrides`).
    #[test]
    fn families_are_known_by_the_models_crate_alone() {
        let names = family_names();
        // Each `Family` constant is one `FamilySpec`, and one line of the table.
        let table =
            std::fs::read_to_string(root().join("crates/models/src/lib.rs")).unwrap_or_default();
        let declared = table
            .split("families! {")
            .nth(1)
            .and_then(|t| t.split("\n}").next())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('[').map(|(_, rest)| rest.split(',').count()))
            .sum::<usize>();
        assert!(
            names.len() >= 13 && names.contains(&"mlp".to_string()),
            "{names:?}"
        );
        assert_eq!(
            names.len(),
            declared,
            "{names:?}: one name per family of the table"
        );
        let root = root();
        let mut found = Vec::new();
        for dir in ["crates/trainer/src", "crates/trainer/benches", "examples"] {
            for file in rust_files(&root.join(dir)) {
                let rel = file
                    .strip_prefix(&root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                if rel.contains("trainer/src/run/overrides") {
                    continue;
                }
                let text = strip_comments(&std::fs::read_to_string(&file).unwrap_or_default());
                // Tests build the families they test; the rule is for the code.
                for (n, line) in outside_tests(&text) {
                    let variant = ["ModelConfig::", "AnyAutoencoder::", "Family::"]
                        .iter()
                        .any(|t| {
                            paths_after(line, t)
                                .iter()
                                .any(|p| p.starts_with(char::is_uppercase) && p != "ALL")
                        });
                    let literal = names.iter().any(|f| line.contains(&format!("\"{f}\"")));
                    if variant || literal {
                        found.push(format!("{rel}:{n}: {}", line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "families named outside the models crate:\n{}",
            found.join("\n")
        );
    }

    /// The checks see what they are for.
    #[test]
    fn the_checks_find_what_they_look_for() {
        let graph: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec!["a"]),
        ]
        .into_iter()
        .map(|(m, e)| (m.to_string(), e.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
        assert_eq!(
            paths_after("use crate::{fit, maps::x}; crate::plot::y", "crate::"),
            ["fit", "maps", "plot"]
        );
        let text = "fn short() {\n    1\n}\n\n// a comment\npub fn two() -> u8 {\n    2\n}\n";
        assert_eq!(
            functions(text),
            [("short".to_string(), 3), ("two".to_string(), 3)]
        );
        assert_eq!(code_lines(text).len(), 6);
        let with_tests = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn t() {}\n}\n";
        assert_eq!(code_lines(with_tests), ["fn a() {}"]);
        let braces = "fn b() {\n    let c = '{';\n    let s = \"}}\"; // }\n}\n";
        assert_eq!(functions(braces), [("b".to_string(), 4)]);
    }
}
