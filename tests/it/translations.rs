//! Every visible string is translated: each `@tr("…")` in `ui/` has a
//! non-empty German and Spanish translation with the same placeholders.

use std::collections::HashMap;
use std::path::Path;

/// The string literals that follow `@tr(` in a .slint file.
fn tr_strings(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("@tr(\"") {
        let mut literal = String::new();
        let mut chars = rest[at + 5..].chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.push(chars.next().unwrap_or('\\')),
                '"' => break,
                c => literal.push(c),
            }
        }
        rest = &rest[at + 5..];
        found.push(literal);
    }
    found
}

fn slint_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// msgid -> msgstr of a .po file (single-line entries, as ours are).
fn po_entries(text: &str) -> HashMap<String, String> {
    let unquote = |line: &str, key: &str| -> Option<String> {
        let rest = line.strip_prefix(key)?.trim();
        let inner = rest.strip_prefix('"')?.strip_suffix('"')?;
        Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
    };
    let mut entries = HashMap::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(msgid) = unquote(line, "msgid ") {
            id = Some(msgid);
        } else if let (Some(msgstr), Some(msgid)) = (unquote(line, "msgstr "), id.take()) {
            entries.insert(msgid, msgstr);
        }
    }
    entries
}

#[test]
fn every_ui_string_is_translated_into_every_shipped_language() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    slint_files(&root.join("ui"), &mut files);
    let mut strings: Vec<String> = files
        .iter()
        .flat_map(|f| tr_strings(&std::fs::read_to_string(f).unwrap()))
        .collect();
    strings.sort();
    strings.dedup();
    assert!(strings.len() > 20, "found only {} strings", strings.len());
    for language in ["de", "es"] {
        let po = root.join(format!(
            "ui/translations/{language}/LC_MESSAGES/locker-kiosk-ui.po"
        ));
        let entries = po_entries(&std::fs::read_to_string(&po).unwrap());
        for string in &strings {
            let translated = entries
                .get(string)
                .unwrap_or_else(|| panic!("{language}: no translation of {string:?}"));
            assert!(
                !translated.is_empty(),
                "{language}: empty translation of {string:?}"
            );
            assert_eq!(
                translated.matches("{}").count(),
                string.matches("{}").count(),
                "{language}: placeholders differ in {string:?}"
            );
        }
        let unused: Vec<_> = entries
            .keys()
            .filter(|k| !k.is_empty() && !strings.contains(k))
            .collect();
        assert!(
            unused.is_empty(),
            "{language}: translations of strings no longer used: {unused:?}"
        );
    }
}
