-- Least privileges for sheetsync (MariaDB 10.5+ and MySQL 8.0+).
-- Replace the password, and repeat the last GRANT for each mapped table.
-- `sheetsync check` run as this user verifies the result.

CREATE USER IF NOT EXISTS 'sheetsync'@'%' IDENTIFIED BY 'change-me';

-- Read the binlog as a replica, and see binlog positions and settings.
-- (MariaDB shows REPLICATION CLIENT as BINLOG MONITOR.)
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sheetsync'@'%';

-- MariaDB 10.5.2+ only: SHOW SLAVE HOSTS, which `check` uses to find a replica already using
-- sheetsync's server_id (a duplicate id disconnects the other replica). Leave it out and
-- `check` reports that it could not verify the id. On MySQL, REPLICATION SLAVE covers SHOW REPLICAS.
-- GRANT REPLICATION MASTER ADMIN ON *.* TO 'sheetsync'@'%';

-- Snapshots and reconciliation read the mapped tables (SELECT on their databases).
GRANT SELECT ON `shop`.* TO 'sheetsync'@'%';

-- sheetsync's own tables (echo marker, conflicts, delivery answers): see schema.sql.
GRANT SELECT, INSERT, UPDATE, DELETE ON `sheetsync`.* TO 'sheetsync'@'%';
-- sheetsync creates those tables at start when they are missing, which needs CREATE; without
-- this line, run schema.sql once as an administrator instead.
-- GRANT CREATE ON `sheetsync`.* TO 'sheetsync'@'%';

-- Sheet edits are applied to the mapped tables only: one line per table. (SELECT above and
-- UPDATE here also cover the SELECT … FOR UPDATE of compare-and-set.)
GRANT INSERT, UPDATE, DELETE ON `shop`.`orders` TO 'sheetsync'@'%';
