//! Embeds every advice file in `advice/` and refuses to build when one is malformed.
//!
//! Each `advice/<check-id>.toml` becomes one `(id, include_str!(path))` entry of a table in
//! `OUT_DIR/advice_files.rs`. A file with an unknown or missing key, or an empty text, stops
//! the build with the file's name, so a typo in the catalogue can never ship.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const KEYS: &[&str] = &["action", "found", "why", "small", "medium"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("advice");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every advice file, keyed by check id, embedded when the crate was built.\n\
         pub(crate) static FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("{}: file name is not UTF-8", path.display()));
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        validate(path, &text);
        writeln!(
            out,
            "    ({id:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("advice_files.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}

fn validate(path: &Path, text: &str) {
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for key in table.keys() {
        if !KEYS.contains(&key.as_str()) {
            panic!(
                "{}: unknown key `{key}` (allowed: {})",
                path.display(),
                KEYS.join(", ")
            );
        }
    }
    for key in KEYS {
        match table.get(*key) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => panic!("{}: `{key}` must be non-empty text", path.display()),
            None => panic!("{}: missing key `{key}`", path.display()),
        }
    }
}
