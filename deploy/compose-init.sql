-- First start of the compose MariaDB: a sample table to map, and sheetsync's own schema.
-- (mysql-conf/grants.sql runs after this and grants on these.) Replace with your own tables.
CREATE DATABASE IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.orders (
  id INT PRIMARY KEY AUTO_INCREMENT,
  customer VARCHAR(100) NOT NULL,
  total DECIMAL(10, 2) NOT NULL DEFAULT 0,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);
CREATE DATABASE IF NOT EXISTS sheetsync;
