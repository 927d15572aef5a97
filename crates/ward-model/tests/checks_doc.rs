//! `docs/checks.md` documents every check ward can emit: its table lists exactly the ids in
//! [`CheckId::ALL`], once each and in catalogue order. A check added to the catalogue
//! without a row, or a row left behind for a check that is gone, fails here.

use std::collections::BTreeSet;
use ward_model::CheckId;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/checks.md");

/// The check ids of the table's rows: every line that starts a Markdown table row whose
/// first cell is one code span, in the order they appear. Rows elsewhere on the page
/// (there are none today) would count too, which is what we want: one place per id.
fn documented_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('|')?;
            let cell = rest.split('|').next()?.trim();
            let id = cell.strip_prefix('`')?.strip_suffix('`')?;
            (!id.contains('`')).then(|| id.to_owned())
        })
        .collect()
}

#[test]
fn the_checks_page_lists_every_check_id_once_in_catalogue_order() {
    let text = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("reading {DOC}: {e}"));
    let documented = documented_ids(&text);
    let catalogue: Vec<String> = CheckId::ALL.iter().map(|c| c.as_str().to_owned()).collect();

    let doc_set: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    let cat_set: BTreeSet<&str> = catalogue.iter().map(String::as_str).collect();
    let missing: Vec<&str> = cat_set.difference(&doc_set).copied().collect();
    let extra: Vec<&str> = doc_set.difference(&cat_set).copied().collect();
    let mut seen = BTreeSet::new();
    let twice: Vec<&str> = documented
        .iter()
        .map(String::as_str)
        .filter(|id| !seen.insert(*id))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && twice.is_empty(),
        "docs/checks.md and CheckId::ALL differ\n  \
         missing from the page (add a row): {missing:?}\n  \
         on the page but not in CheckId::ALL (remove the row): {extra:?}\n  \
         listed more than once: {twice:?}"
    );
    assert_eq!(
        documented, catalogue,
        "docs/checks.md lists the right ids but not in catalogue order (CheckId::ALL)"
    );
}

#[test]
fn the_row_reader_finds_ids_and_nothing_else() {
    let text = "| check | pass |\n|---|---|\n| `dns.ns` | two |\n  | `spf.all` | x |\n\
                | plain | no |\n| `a` and `b` | no |\n- `dns.caa` in a list\n";
    assert_eq!(documented_ids(text), ["dns.ns", "spf.all"]);
}
