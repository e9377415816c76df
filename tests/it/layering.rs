//! The layering of `src/`, read from the code itself: every `crate::…`
//! path (and every `super::` that climbs out of its top module) in each
//! file is checked against what that file's top module may use.
//!
//! - `domain` uses nothing; `config` the domain; `hardware` the config
//!   and the domain, but none of the domain's flows; `scanning` the
//!   domain; `store` and `notify` the domain and the config; `fleet` the
//!   domain; `speech` nothing of ours;
//! - `app` uses all of those; `ui` only `app` (its views) and `api.slint`;
//! - `cli` and the binary sit on top.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top module may use besides itself.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "domain" => &[],
        "config" => &["domain"],
        "hardware" => &["config", "domain"],
        "scanning" => &["domain"],
        "store" => &["domain", "config"],
        "notify" => &["domain", "config"],
        "fleet" => &["domain"],
        "speech" => &[],
        "app" => &[
            "domain", "config", "hardware", "scanning", "store", "notify", "fleet", "speech",
        ],
        "ui" => &["app"],
        // The command line and the crate root see everything.
        _ => return None,
    })
}

/// The domain's flows, which the door system must not know.
const DOMAIN_FLOWS: [&str; 2] = ["pickup", "dropoff"];

/// The module path of a file under `src/`: `src/app/kiosk/mod.rs` is
/// `app::kiosk`, `src/app/kiosk/pickup.rs` is `app::kiosk::pickup`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Every path a file uses into other top modules: `(module, submodule)`.
fn uses(module: &[String], text: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(start) = rest.find("crate::") {
            let after = &rest[start + "crate::".len()..];
            found.insert(first_two(after));
            rest = after;
        }
        // `super::` chains that climb to the crate root.
        let mut rest = code;
        while let Some(start) = rest.find("super::") {
            let mut after = &rest[start..];
            let mut climbs = 0;
            while let Some(next) = after.strip_prefix("super::") {
                climbs += 1;
                after = next;
            }
            if climbs >= module.len() {
                found.insert(first_two(after));
            }
            rest = &rest[start + "super::".len() * climbs..];
        }
    }
    found
}

/// The first two path segments of `path` (`store::event::Event` gives
/// `("store", "event")`).
fn first_two(path: &str) -> (String, String) {
    let segment = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let top = segment(path);
    let sub = path
        .get(top.len()..)
        .and_then(|rest| rest.strip_prefix("::"))
        .map(segment)
        .unwrap_or_default();
    (top, sub)
}

/// What is wrong with one file's uses, as lines.
fn violations(module: &[String], text: &str) -> Vec<String> {
    let Some(top) = module.first() else {
        return Vec::new();
    };
    let Some(may) = allowed(top) else {
        return Vec::new();
    };
    let mut wrong = Vec::new();
    for (used, sub) in uses(module, text) {
        if used == *top || used.is_empty() || used == "self" {
            continue;
        }
        if !may.contains(&used.as_str()) {
            wrong.push(format!("uses `{used}`, which `{top}` may not"));
        } else if top == "hardware" && used == "domain" && DOMAIN_FLOWS.contains(&sub.as_str()) {
            wrong.push(format!("uses the domain's flow `{sub}`"));
        }
    }
    wrong
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = module_path(relative);
        let text = std::fs::read_to_string(file).unwrap();
        for problem in violations(&module, &text) {
            wrong.push(format!("src/{}: {problem}", relative.display()));
        }
    }
    assert!(files.len() > 50, "the sources were found");
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_what_breaks_a_layer() {
    let module = |path: &str| module_path(Path::new(path));
    assert_eq!(module("ui/maintenance/mod.rs"), ["ui", "maintenance"]);
    assert!(
        violations(&module("ui/courier.rs"), "use crate::store::Recipient;")[0].contains("store")
    );
    assert!(violations(&module("ui/courier.rs"), "use crate::app::kiosk::Input;").is_empty());
    assert!(
        !violations(
            &module("hardware/doors.rs"),
            "use crate::domain::pickup::OpenOutcome;"
        )
        .is_empty()
    );
    assert!(
        violations(
            &module("hardware/doors.rs"),
            "use crate::domain::OpenOutcome;"
        )
        .is_empty()
    );
    assert!(!violations(&module("config/mod.rs"), "    x: crate::hardware::Door,").is_empty());
    // A `super::` out of the top module counts, one inside it does not.
    assert!(!violations(&module("ui/mod.rs"), "use super::store::Store;").is_empty());
    assert!(violations(&module("ui/maintenance/doors.rs"), "use super::Staff;").is_empty());
    assert!(violations(&module("ui/mod.rs"), "// crate::store in a comment").is_empty());
}
