//! The query library's SQL, as `tests/templates/fixtures/cur_queries.json` keeps it for the
//! Trino parse check (`tests/templates/test_cur_sql.py`, sqlglot's trino dialect): the file must
//! be what the code generates today.

#[test]
fn the_exported_sql_is_current() {
    let path = costradar_tests::repo_root().join("tests/templates/fixtures/cur_queries.json");
    let want = serde_json::to_string_pretty(&costradar_core::cur::queries::library_json()).unwrap() + "\n";
    if std::env::var_os("COSTRADAR_REGENERATE").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run `COSTRADAR_REGENERATE=1 cargo test --workspace --locked --test cur_sql` (or `costradar cur queries --json`)",
        path.display()
    );
}
