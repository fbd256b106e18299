//! Schema changes while streaming (DESIGN §2.8): ADD COLUMN appears as a new header at the
//! right and syncs; DROP COLUMN leaves its sheet column in place and stops updating it; RENAME
//! COLUMN renames the header and keeps syncing; TRUNCATE stops that mapping with a clear error
//! (logged, and its checkpoint stays before the TRUNCATE) while another mapping in the same
//! spreadsheet keeps flowing — and `sheetsync snapshot` of the stopped mapping reloads it.

use std::time::Duration;

use sheetsync::config::Config;
use sheetsync::sync::pipeline::{Extensions, RunOptions};

use crate::sync_support::{
    execute, execute_returning_gtid, stored_checkpoint, tab_columns, table_rows, wait_for,
    wait_for_tab_to_equal_table, CapturedLog, RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(20);

/// Waits until the tab, projected onto `columns`, equals the table's `columns`.
async fn wait_for_columns(bed: &SyncBed, columns: &[&str]) {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let expected = table_rows(&bed.database.url, "people", &columns.join(", ")).await;
        let actual = tab_columns(&bed.tab("People"), columns);
        if expected == actual {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "people tab did not converge on {columns:?}\n table: {expected:?}\n tab:   {actual:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn add_drop_rename_and_truncate_while_streaming() {
    let log = CapturedLog::default();
    let _capture = log.install();
    let bed = SyncBed::start(
        "sync_schema",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT, extra VARCHAR(20))",
            "CREATE TABLE tags (id INT PRIMARY KEY, label VARCHAR(20))",
            "INSERT INTO people VALUES (1, 'ada', 1, 'e1'), (2, 'grace', 2, 'e2'), (3, 'linus', 3, 'e3')",
            "INSERT INTO tags VALUES (1, 'red')",
        ],
    )
    .await;
    let url = bed.database.url.clone();
    // A second mapping of `people` with its own column list: a new column is not synced there.
    let config_text = bed.config_text(&[("people", "People"), ("tags", "Tags")], "")
        + &format!(
            "[[mapping]]\nname = \"people_names\"\ntable = \"{}.people\"\nspreadsheet_id = \"{}\"\nsheet = \"Names\"\ncolumns = [\"id\", \"name\"]\n",
            bed.database.name, bed.spreadsheet_id
        );
    let config = Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config);
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty, extra", LIMIT).await;

    // ADD COLUMN: a new header at the right, then its values.
    execute(
        &url,
        &[
            "ALTER TABLE people ADD COLUMN note VARCHAR(20)",
            "UPDATE people SET note = 'first' WHERE id = 1",
            "INSERT INTO people VALUES (4, 'barbara', 4, 'e4', 'new')",
        ],
    )
    .await;
    wait_for_columns(&bed, &["id", "name", "qty", "extra", "note"]).await;
    assert_eq!(bed.tab("People")[0], ["id", "name", "qty", "extra", "note"]);
    wait_for_tab_to_equal_table(&bed, "Names", "people", "id, name", LIMIT).await;
    assert_eq!(
        bed.tab("Names")[0],
        ["id", "name"],
        "not a column of that mapping"
    );

    // DROP COLUMN: the sheet column stays, with its old values, and stops updating.
    let extra_before = tab_columns(&bed.tab("People"), &["id", "extra"]);
    execute(
        &url,
        &[
            "ALTER TABLE people DROP COLUMN extra",
            "INSERT INTO people VALUES (5, 'edsger', 5, 'five')",
            "UPDATE people SET name = 'Ada' WHERE id = 1",
        ],
    )
    .await;
    wait_for_columns(&bed, &["id", "name", "qty", "note"]).await;
    let tab = bed.tab("People");
    assert_eq!(tab[0], ["id", "name", "qty", "extra", "note"]);
    let mut extra_after = tab_columns(&tab, &["id", "extra"]);
    extra_after.retain(|row| row[0] != "5");
    assert_eq!(
        extra_after, extra_before,
        "the dropped column keeps its cells"
    );
    assert!(
        tab_columns(&tab, &["id", "extra"]).contains(&vec!["5".to_string()]),
        "a new row leaves the dropped column empty"
    );

    // RENAME COLUMN: the header follows, and values keep landing under it.
    execute(
        &url,
        &[
            "ALTER TABLE people RENAME COLUMN qty TO amount",
            "UPDATE people SET amount = amount + 10",
        ],
    )
    .await;
    wait_for_columns(&bed, &["id", "name", "amount", "note"]).await;
    assert_eq!(
        bed.tab("People")[0],
        ["id", "name", "amount", "extra", "note"]
    );

    // RENAME COLUMN of a column a mapping lists by name: that mapping follows the rename too
    // (its header, and later values keep landing under it).
    execute(
        &url,
        &[
            "ALTER TABLE people RENAME COLUMN name TO full_name",
            "UPDATE people SET full_name = CONCAT(full_name, '!') WHERE id <= 2",
        ],
    )
    .await;
    wait_for_columns(&bed, &["id", "full_name", "amount", "note"]).await;
    wait_for_tab_to_equal_table(&bed, "Names", "people", "id, full_name", LIMIT).await;
    assert_eq!(bed.tab("Names")[0], ["id", "full_name"]);

    // TRUNCATE: the mapping stops with a clear error; the other mapping keeps flowing.
    let people_before = bed.tab("People");
    execute(&url, &["TRUNCATE TABLE people"]).await;
    let gtid = execute_returning_gtid(
        &url,
        &[
            "INSERT INTO people VALUES (6, 'after', 6, NULL)",
            "INSERT INTO tags VALUES (2, 'blue')",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "Tags", "tags", "id, label", LIMIT).await;
    wait_for(LIMIT, "the tags checkpoint to pass the TRUNCATE", || {
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id)
            .and_then(|checkpoint| checkpoint.mappings.get("tags").cloned())
            .is_some_and(|position| position.covers(Some(&gtid), &position))
    })
    .await;
    let checkpoint = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("checkpoint");
    let people_position = checkpoint.mappings.get("people").expect("people position");
    assert!(
        !people_position.covers(Some(&gtid), people_position),
        "the stopped mapping's checkpoint stays before the TRUNCATE: {people_position}"
    );
    assert_eq!(
        bed.tab("People"),
        people_before,
        "the stopped tab is left alone"
    );
    let text = log.text();
    assert!(
        text.contains("table of mapping `people` was truncated")
            && text.contains("sheetsync snapshot --mapping people"),
        "the log says which mapping stopped and how to reload it:\n{text}"
    );
    sync.stop().await.expect("graceful stop");

    // The advice works: `sheetsync snapshot --mapping people` reloads the tab. (The config
    // names the renamed column by its new name now, as docs/operations.md tells.)
    let renamed = config_text.replace(
        r#"columns = ["id", "name"]"#,
        r#"columns = ["id", "full_name"]"#,
    );
    assert_ne!(renamed, config_text);
    let load = RunningSync::start_with(
        Config::from_toml(&renamed).expect("config"),
        RunOptions {
            snapshot: vec!["people".into()],
            load_only: true,
            ..RunOptions::default()
        },
        Extensions::default(),
    );
    tokio::time::timeout(LIMIT, load.task)
        .await
        .expect("the snapshot finishes")
        .expect("task")
        .expect("snapshot succeeds");
    wait_for_columns(&bed, &["id", "full_name", "amount", "note"]).await;
}
