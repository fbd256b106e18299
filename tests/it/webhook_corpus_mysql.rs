//! The bad-request corpus of `webhook_security` against the real thing: the signed router with
//! `MysqlApply` on a real MariaDB, on the pool `sheetsync run` gives it
//! (`apply::session::pool`). Each case gets its exact status and message, and nothing is
//! written: the mapped tables, and this test's rows of the echo marker, conflicts and deliveries
//! tables, are the same before and after. The good message then applies and changes them, so
//! the comparison can fail. Also: the pool's connections keep sheetsync's session settings
//! across uses, and a connection whose isolation level was changed comes back reset.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use serde_json::Value;
use sheetsync::apply::{ApplyOptions, MysqlApply, RowClock};
use sheetsync::config::{MappingConfig, Secret};
use sheetsync::sync::StructureNotifier;
use sheetsync::webhook::signature::sign;
use sheetsync::webhook::{router, WebhookState};
use sheetsync_testbed::MariaDb;

use crate::webhook_security::{corpus, Request};
use crate::webhook_support::{
    edit_message, error_message, mapping, TestClock, BODY_LIMIT_BYTES, NOW, SECRET,
};

/// The one delivery id of the corpus's messages.
const DELIVERY: &str = "bad-1";

struct Bed {
    url: String,
    pool: mysql_async::Pool,
    database: String,
    origin: String,
    client: reqwest::Client,
    /// The writers' end, kept open as the pipeline keeps it.
    _write_backs: tokio::sync::mpsc::Receiver<sheetsync::sync::WriteBack>,
}

/// The corpus's mappings (`Orders` with a column list, `Notes` without) on tables of a fresh
/// database, served with the real apply.
async fn start() -> Bed {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MariaDb::shared();
    let database = server.create_database("webhook_corpus").await;
    let pool = sheetsync::apply::session::pool(&server.root_url()).expect("pool");
    let mut connection = pool.get_conn().await.expect("connect");
    for statement in [
        format!("CREATE TABLE `{}`.orders (id INT PRIMARY KEY, customer VARCHAR(50), total DECIMAL(10,2))", database.name),
        format!("INSERT INTO `{}`.orders VALUES (1, 'ann', 10.00), (2, 'bob', 20.00)", database.name),
        format!("CREATE TABLE `{}`.notes (id INT PRIMARY KEY, body TEXT)", database.name),
        format!("INSERT INTO `{}`.notes VALUES (1, 'first')", database.name),
    ] {
        connection.query_drop(&statement).await.expect("set up");
    }
    drop(connection);
    sheetsync::apply::schema::ensure(&pool)
        .await
        .expect("the sheetsync schema");
    let mappings: Vec<MappingConfig> = [
        mapping("Orders", Some(&["id", "customer", "total"])),
        mapping("Notes", None),
    ]
    .into_iter()
    .map(|mut mapping| {
        mapping.table = mapping
            .table
            .replace("shop.", &format!("{}.", database.name));
        mapping
    })
    .collect();
    let origin = format!("it-{}", database.name);
    let (write_back, write_backs) = tokio::sync::mpsc::channel(16);
    let apply = MysqlApply::new(
        pool.clone(),
        &mappings,
        ApplyOptions {
            origin: origin.clone(),
            write_back,
            structure: StructureNotifier::default(),
            row_clock: RowClock::default(),
            sheets: None,
            cells: Default::default(),
        },
    )
    .await
    .expect("MysqlApply::new");
    let state = WebhookState::new(Secret::new(SECRET.into()), &mappings, Arc::new(apply))
        .with_clock(Arc::new(TestClock(AtomicI64::new(NOW))))
        .with_body_limit_bytes(BODY_LIMIT_BYTES);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/webhook", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router(state)).await.expect("serve") });
    Bed {
        url,
        pool,
        database: database.name,
        origin,
        client: reqwest::Client::new(),
        _write_backs: write_backs,
    }
}

impl Bed {
    async fn send(
        &self,
        timestamp: Option<String>,
        signature: Option<String>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(timestamp) = timestamp {
            request = request.header("x-sheetsync-timestamp", timestamp);
        }
        if let Some(signature) = signature {
            request = request.header("x-sheetsync-signature", signature);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    async fn send_signed(&self, body: Vec<u8>) -> (u16, Value) {
        let timestamp = NOW.to_string();
        let signature = sign(SECRET.as_bytes(), &timestamp, &body);
        self.send(Some(timestamp), Some(signature), body).await
    }

    /// Everything a bad request could have written: the mapped tables whole, and this test's
    /// rows of sheetsync's tables (other tests share the server and the `sheetsync` schema).
    async fn dump(&self) -> Vec<(String, Vec<mysql_async::Row>)> {
        let database = &self.database;
        let origin = &self.origin;
        let queries = [
            format!("SELECT * FROM `{database}`.orders ORDER BY id"),
            format!("SELECT * FROM `{database}`.notes ORDER BY id"),
            format!("SELECT * FROM sheetsync.echo_marker WHERE origin = '{origin}'"),
            format!(
                "SELECT * FROM sheetsync.conflicts WHERE origin = '{origin}' OR delivery_id = '{DELIVERY}' \
                 OR table_name LIKE '{database}.%'"
            ),
            format!("SELECT * FROM sheetsync.deliveries WHERE delivery_id = '{DELIVERY}'"),
        ];
        let mut connection = self.pool.get_conn().await.expect("connect");
        let mut dump = Vec::new();
        for query in queries {
            let rows: Vec<mysql_async::Row> = connection
                .query(&query)
                .await
                .unwrap_or_else(|error| panic!("{query}: {error}"));
            dump.push((query, rows));
        }
        dump
    }
}

/// Rows as text, to compare and to print.
fn text(dump: &[(String, Vec<mysql_async::Row>)]) -> Vec<(String, Vec<Vec<String>>)> {
    dump.iter()
        .map(|(query, rows)| {
            let rows = rows
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|index| {
                            row.as_ref(index)
                                .map(|value| value.as_sql(true))
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .collect();
            (query.clone(), rows)
        })
        .collect()
}

#[tokio::test]
async fn every_bad_request_gets_its_status_from_the_real_apply_and_writes_nothing() {
    let bed = start().await;
    let before = text(&bed.dump().await);
    let cases = corpus();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let (status, body) = match case.request {
            Request::Signed(body) => bed.send_signed(body).await,
            Request::Raw(timestamp, signature, body) => bed.send(timestamp, signature, body).await,
        };
        let message = error_message(&body);
        if status != case.status
            || body["error"]["status"].as_u64() != Some(u64::from(case.status))
            || !message.contains(case.message)
        {
            failures.push(format!(
                "{}: got {status} {body}, expected {} containing {:?}",
                case.name, case.status, case.message
            ));
        }
        assert!(
            !message.contains(SECRET),
            "{}: the secret leaked",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after = text(&bed.dump().await);
    assert_eq!(before, after, "a bad request wrote to the database");

    // The comparison sees a write: the corpus's good message applies and changes the dump.
    let (status, answer) = bed
        .send_signed(edit_message(DELIVERY).to_string().into_bytes())
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    let applied = text(&bed.dump().await);
    for (index, name) in [(0, "orders"), (2, "echo marker"), (4, "deliveries")] {
        assert_ne!(
            before[index], applied[index],
            "the good message left {name} unchanged"
        );
    }
}

/// The session settings of a connection as text: time zone, SQL mode, isolation level.
async fn session_settings(connection: &mut mysql_async::Conn) -> (String, String, String) {
    connection
        .query_first("SELECT @@session.time_zone, @@session.sql_mode, @@session.tx_isolation")
        .await
        .expect("session settings")
        .expect("a row")
}

#[tokio::test]
async fn pooled_connections_keep_the_session_settings_and_a_changed_one_is_reset() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MariaDb::shared();
    // One connection, so every checkout is the same session.
    let url = format!("{}?pool_min=1&pool_max=1", server.root_url());
    let pool = sheetsync::apply::session::pool(&url).expect("pool");
    let mut connection = sheetsync::apply::session::connect(&pool)
        .await
        .expect("connect");
    let first_id = connection.id();
    let (zone, mode, isolation) = session_settings(&mut connection).await;
    assert_eq!(zone, "+00:00");
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    assert_eq!(isolation, "READ-COMMITTED");
    // A change that is not marked survives the return to the pool (no reset: that is the point
    // of this pool, and why code that changes a session must mark it).
    connection
        .query_drop("SET SESSION sql_mode = ''")
        .await
        .expect("set");
    drop(connection);
    let mut connection = sheetsync::apply::session::connect(&pool)
        .await
        .expect("connect");
    assert_eq!(
        connection.id(),
        first_id,
        "the pool opened another connection"
    );
    assert_eq!(session_settings(&mut connection).await.1, "");
    // Marked for reset: the next checkout has the settings again.
    sheetsync::apply::session::reset_after_use(&mut connection);
    connection
        .query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .expect("set");
    drop(connection);
    let mut connection = sheetsync::apply::session::connect(&pool)
        .await
        .expect("connect");
    assert_eq!(
        connection.id(),
        first_id,
        "the pool opened another connection"
    );
    let (zone, mode, isolation) = session_settings(&mut connection).await;
    assert_eq!(zone, "+00:00");
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    assert_eq!(isolation, "READ-COMMITTED");
    drop(connection);
    pool.disconnect().await.expect("disconnect");
}
