use serde_json::json;

use super::*;

fn key(parts: &[&str]) -> RowKey {
    RowKey(parts.iter().map(|part| part.to_string()).collect())
}

fn hash(parts: &[&str]) -> KeyHash {
    KeyHash::of(&key(parts))
}

#[test]
fn header_names_are_trimmed_and_the_first_of_two_wins() {
    let header = [
        json!(" id "),
        json!(""),
        json!("name"),
        json!(null),
        json!("name"),
        json!(2024),
    ];
    let layout = TabLayout::from_values(7, "Orders", 100, 26, &header, &[]);
    assert_eq!(layout.column("id"), Some(0));
    assert_eq!(layout.column(" id"), Some(0));
    assert_eq!(layout.column("name"), Some(2));
    assert_eq!(layout.column("2024"), Some(5));
    assert_eq!(layout.column("total"), None);
    assert_eq!(layout.header_end(), 6);
    assert_eq!((layout.grid_rows, layout.grid_columns), (100, 26));
}

#[test]
fn keys_are_canonical_and_blank_rows_have_none() {
    let header = [json!("order"), json!("line")];
    let orders = vec![
        json!(42.0),
        json!(""),
        json!("A-1"),
        json!(7),
        json!(null),
        json!(true),
    ];
    let lines = vec![
        json!(1),
        json!(null),
        json!(2),
        json!(null),
        json!(null),
        json!(0.5),
    ];
    let layout = TabLayout::from_values(7, "Lines", 1000, 2, &header, &[orders, lines]);
    assert_eq!(layout.row_of(&key(&["42", "1"])), Some(1));
    assert_eq!(
        layout.key_at(2),
        None,
        "a row with every key cell empty has no key"
    );
    assert_eq!(layout.row_of(&key(&["A-1", "2"])), Some(3));
    assert_eq!(
        layout.row_of(&key(&["7", ""])),
        Some(4),
        "a partial key is a key"
    );
    assert_eq!(layout.key_at(5), None);
    assert_eq!(layout.key_at(3), Some(KeyHash::of(&key(&["A-1", "2"]))));
    assert_eq!(layout.row_of(&key(&["TRUE", "0.5"])), Some(6));
    assert_eq!(layout.key_at(0), None, "the header has no key");
    assert_eq!(layout.used_rows(), 7);
    let keys: Vec<KeyHash> = layout.keys().collect();
    assert_eq!(keys.len(), 4);
    assert_eq!(keys[0], hash(&["42", "1"]));
    assert!(layout.duplicate_keys().is_empty());
}

#[test]
fn trailing_blank_rows_are_not_data_and_a_stale_grid_size_is_corrected() {
    let ids = vec![json!(1), json!(2), json!(""), json!(null)];
    let layout = TabLayout::from_values(7, "T", 2, 1, &[json!("id"), json!("x")], &[ids]);
    assert_eq!(layout.used_rows(), 3, "header + two keyed rows");
    assert_eq!(
        layout.grid_rows, 3,
        "the sheet holds three rows whatever the size said"
    );
    assert_eq!(layout.grid_columns, 2);
}

#[test]
fn a_copied_row_is_reported_and_the_first_one_is_used() {
    let ids = vec![json!(1), json!(2), json!(1), json!(3), json!(2), json!(2)];
    let layout = TabLayout::from_values(7, "T", 10, 1, &[json!("id")], &[ids]);
    assert_eq!(layout.row_of(&key(&["1"])), Some(1));
    assert_eq!(layout.row_of(&key(&["2"])), Some(2));
    assert_eq!(layout.duplicate_keys(), vec![hash(&["1"]), hash(&["2"])]);
    // The later copies, by 0-based grid row: what a load removes.
    assert_eq!(layout.copy_rows(), vec![3, 5, 6]);
    let keys: Vec<KeyHash> = layout.keys().collect();
    assert_eq!(keys, vec![hash(&["1"]), hash(&["2"]), hash(&["3"])]);
}

#[test]
fn removing_rows_shifts_the_rows_below_and_a_copy_takes_over() {
    let ids = vec![
        json!(1),
        json!(2),
        json!(1),
        json!(null),
        json!(3),
        json!(null),
        json!(4),
    ];
    let mut layout = TabLayout::from_values(7, "T", 10, 1, &[json!("id")], &[ids]);
    layout.remove_grid_rows(&[1, 5, 5]);
    assert_eq!(layout.grid_rows, 8);
    assert_eq!(layout.row_of(&key(&["2"])), Some(1));
    assert_eq!(
        layout.row_of(&key(&["1"])),
        Some(2),
        "the copy is now the row of key 1"
    );
    assert_eq!(layout.row_of(&key(&["3"])), None);
    assert_eq!(layout.row_of(&key(&["4"])), Some(5));
    assert!(layout.duplicate_keys().is_empty());
    layout.remove_grid_rows(&[5]);
    assert_eq!(
        layout.used_rows(),
        5,
        "keyless rows stay data: they may hold a person's draft"
    );
    assert_eq!(
        layout.trimmed().used_rows(),
        3,
        "a fresh read does not see them"
    );
    assert_eq!(layout.push_row(key(&["9"])), 5);
    assert_eq!(layout.row_of(&key(&["9"])), Some(5));
}

#[test]
fn known_used_rows_below_the_last_key_push_new_rows_down() {
    let layout = TabLayout::from_values(7, "T", 4, 1, &[json!("id")], &[vec![json!(1)]]);
    let mut layout = layout.with_used_rows(6);
    assert_eq!((layout.used_rows(), layout.grid_rows), (6, 6));
    assert_eq!(layout.push_row(key(&["2"])), 6);
    let smaller = TabLayout::from_values(7, "T", 4, 1, &[json!("id")], &[vec![json!(1), json!(2)]]);
    assert_eq!(
        smaller.clone().with_used_rows(2),
        smaller,
        "never below the keys"
    );
}

#[test]
fn a_key_set_from_outside_is_found_and_moves_the_first_row() {
    let ids = vec![json!(1), json!(null), json!(3)];
    let mut layout = TabLayout::from_values(7, "T", 4, 1, &[json!("id")], &[ids]);
    layout.set_key_at(2, Some(key(&["3"])));
    assert_eq!(
        layout.row_of(&key(&["3"])),
        Some(2),
        "the upper copy is now the first"
    );
    assert_eq!(layout.duplicate_keys(), vec![hash(&["3"])]);
    layout.set_key_at(9, Some(key(&["8"])));
    assert_eq!(
        (
            layout.row_of(&key(&["8"])),
            layout.grid_rows,
            layout.used_rows()
        ),
        (Some(9), 10, 10)
    );
    layout.set_key_at(2, None);
    assert_eq!(layout.row_of(&key(&["3"])), Some(3));
    layout.set_key_at(3, Some(key(&[""])));
    assert_eq!(layout.row_of(&key(&["3"])), None, "an empty key is no key");
    layout.set_key_at(0, Some(key(&["header"])));
    assert_eq!(layout.row_of(&key(&["header"])), None);
}

#[test]
fn an_empty_tab_has_no_header_and_no_rows() {
    let layout = TabLayout::empty(3, "New", 1000, 26);
    assert_eq!(layout.header_end(), 0);
    assert_eq!(layout.used_rows(), 1);
    assert_eq!(layout.keys().count(), 0);
    assert_eq!(layout.row_of(&key(&["1"])), None);
}

#[test]
fn a_key_hash_tells_apart_keys_whose_parts_join_to_the_same_text() {
    let distinct = [
        hash(&["1"]),
        hash(&["1", ""]),
        hash(&["", "1"]),
        hash(&["ab", "c"]),
        hash(&["a", "bc"]),
        hash(&["abc"]),
        hash(&["a,b"]),
        hash(&["a", "b"]),
    ];
    for (index, first) in distinct.iter().enumerate() {
        for second in &distinct[index + 1..] {
            assert_ne!(first, second);
        }
    }
    assert_eq!(
        hash(&["a", "b"]),
        hash(&["a", "b"]),
        "the same key, the same hash"
    );
}
