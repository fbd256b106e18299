-- sheetsync's own schema (MariaDB 10.5+ and MySQL 8.0+). Idempotent: sheetsync applies it at
-- start when a table is missing (`apply::schema::ensure`), and it may be run by hand instead.
-- Creating it needs CREATE on `sheetsync`.* (or run it once as an administrator); using it needs
-- only SELECT, INSERT, UPDATE, DELETE on `sheetsync`.* (see grants.sql).

CREATE DATABASE IF NOT EXISTS `sheetsync` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- One row per (origin, connection), upserted inside every transaction sheetsync writes for a
-- sheet edit. The binlog reader drops the changes that `cells` lists (table, key, columns and a
-- fingerprint of each value written), so nothing sheetsync writes echoes back to the sheet,
-- while columns the database changed itself in the same transaction (ON UPDATE
-- CURRENT_TIMESTAMP, triggers) still reach it. One row per connection means concurrent
-- transactions never wait on each other's marker row.
CREATE TABLE IF NOT EXISTS `sheetsync`.`echo_marker` (
  `origin` VARCHAR(64) CHARACTER SET ascii NOT NULL,
  `connection_id` BIGINT UNSIGNED NOT NULL,
  `delivery_id` VARCHAR(128) CHARACTER SET ascii NOT NULL,
  `written_at` DATETIME(6) NOT NULL,
  `cells` LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (`origin`, `connection_id`)
) ENGINE=InnoDB;

-- Every conflict (DESIGN §3.5): a sheet edit whose old value no longer matched the database.
CREATE TABLE IF NOT EXISTS `sheetsync`.`conflicts` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `detected_at` DATETIME(6) NOT NULL,
  `origin` VARCHAR(64) CHARACTER SET ascii NOT NULL,
  `mapping` VARCHAR(255) NOT NULL,
  `table_name` VARCHAR(200) NOT NULL,
  `row_key` TEXT NOT NULL,
  `column_name` VARCHAR(64) NOT NULL,
  `sheet_row` INT UNSIGNED NOT NULL,
  `sheet_value` LONGTEXT NULL,
  `sheet_old_value` LONGTEXT NULL,
  `db_value` LONGTEXT NULL,
  `sheet_edited_at` DATETIME(3) NOT NULL,
  `db_committed_at` DATETIME NULL,
  `policy` VARCHAR(32) CHARACTER SET ascii NOT NULL,
  `winner` VARCHAR(16) CHARACTER SET ascii NOT NULL,
  `delivery_id` VARCHAR(128) CHARACTER SET ascii NOT NULL,
  `editor` VARCHAR(1000) NULL,
  PRIMARY KEY (`id`),
  KEY `by_mapping_time` (`mapping`, `detected_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The answer to each webhook delivery, written in the same transaction as its changes: a
-- delivery retried after a restart (or after a commit whose acknowledgement was lost) gets the
-- first answer again instead of being applied twice. Rows older than a day are pruned.
CREATE TABLE IF NOT EXISTS `sheetsync`.`deliveries` (
  `delivery_id` VARCHAR(128) CHARACTER SET ascii NOT NULL,
  `mapping` VARCHAR(255) NOT NULL,
  `received_at` DATETIME(6) NOT NULL,
  `response` LONGTEXT NOT NULL,
  PRIMARY KEY (`delivery_id`),
  KEY `by_time` (`received_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
