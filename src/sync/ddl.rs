//! DDL statements from the binlog → the schema changes a writer acts on (DESIGN §2.8).
//!
//! Consumes the text of a query event and its default database; produces the changes to
//! mapped tables sheetsync cares about: a column renamed (the header follows), a column added
//! (a header cell appears at the right), a column dropped (it stops syncing; the sheet column
//! stays), TRUNCATE, DROP TABLE and RENAME TABLE (the mapping stops with a clear error).
//! Guarantees: never fails — a statement it does not understand yields nothing (the stream
//! never halts on unknown DDL); identifiers are read with MySQL's quoting rules (backticks,
//! doubled backticks, `db.table`).

use crate::binlog::TableName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaChange {
    AddColumn(String),
    DropColumn(String),
    RenameColumn { from: String, to: String },
    Truncate,
    DropTable,
    RenameTable { to: TableName },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDdl {
    pub table: TableName,
    pub change: SchemaChange,
}

/// Words and identifiers of a statement; backtick-quoted identifiers keep their case and
/// characters, bare words are upper-cased for keyword matching (`raw` keeps the original).
#[derive(Debug, Clone, PartialEq)]
struct Token {
    upper: String,
    raw: String,
    quoted: bool,
}

fn tokenize(statement: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut characters = statement.chars().peekable();
    while let Some(&character) = characters.peek() {
        if character.is_whitespace() {
            characters.next();
        } else if character == '`' {
            characters.next();
            let mut identifier = String::new();
            while let Some(character) = characters.next() {
                if character == '`' {
                    if characters.peek() == Some(&'`') {
                        characters.next();
                        identifier.push('`');
                    } else {
                        break;
                    }
                } else {
                    identifier.push(character);
                }
            }
            tokens.push(Token {
                upper: identifier.clone(),
                raw: identifier,
                quoted: true,
            });
        } else if character.is_alphanumeric() || character == '_' || character == '$' {
            let mut word = String::new();
            while let Some(&character) = characters.peek() {
                if character.is_alphanumeric() || character == '_' || character == '$' {
                    word.push(character);
                    characters.next();
                } else {
                    break;
                }
            }
            tokens.push(Token {
                upper: word.to_ascii_uppercase(),
                raw: word,
                quoted: false,
            });
        } else {
            characters.next();
            tokens.push(Token {
                upper: character.to_string(),
                raw: character.to_string(),
                quoted: false,
            });
        }
    }
    tokens
}

struct Cursor {
    tokens: Vec<Token>,
    index: usize,
}

impl Cursor {
    fn keyword(&mut self, word: &str) -> bool {
        match self.tokens.get(self.index) {
            Some(token) if !token.quoted && token.upper == word => {
                self.index += 1;
                true
            }
            _ => false,
        }
    }

    fn identifier(&mut self) -> Option<String> {
        let token = self.tokens.get(self.index)?;
        if !token.quoted
            && !token
                .raw
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            return None;
        }
        self.index += 1;
        Some(token.raw.clone())
    }

    /// `name` or `database.name`.
    fn table(&mut self, default_database: &str) -> Option<TableName> {
        let first = self.identifier()?;
        if self.keyword(".") {
            let name = self.identifier()?;
            return Some(TableName {
                database: first,
                name,
            });
        }
        Some(TableName {
            database: default_database.to_string(),
            name: first,
        })
    }

    /// Skips to just after the next top-level comma; false at the end.
    fn next_clause(&mut self) -> bool {
        let mut depth = 0i32;
        while let Some(token) = self.tokens.get(self.index) {
            self.index += 1;
            if token.quoted {
                continue;
            }
            match token.upper.as_str() {
                "(" => depth += 1,
                ")" => depth -= 1,
                "," if depth == 0 => return true,
                _ => {}
            }
        }
        false
    }
}

/// The schema changes one statement makes to tables (empty for anything else).
pub fn parse(default_database: &str, statement: &str) -> Vec<ParsedDdl> {
    let mut cursor = Cursor {
        tokens: tokenize(statement),
        index: 0,
    };
    let mut changes = Vec::new();
    if cursor.keyword("TRUNCATE") {
        cursor.keyword("TABLE");
        if let Some(table) = cursor.table(default_database) {
            changes.push(ParsedDdl {
                table,
                change: SchemaChange::Truncate,
            });
        }
    } else if cursor.keyword("DROP") {
        cursor.keyword("TEMPORARY");
        if cursor.keyword("TABLE") {
            if cursor.keyword("IF") {
                cursor.keyword("EXISTS");
            }
            while let Some(table) = cursor.table(default_database) {
                changes.push(ParsedDdl {
                    table,
                    change: SchemaChange::DropTable,
                });
                if !cursor.keyword(",") {
                    break;
                }
            }
        }
    } else if cursor.keyword("RENAME") && cursor.keyword("TABLE") {
        while let Some(from) = cursor.table(default_database) {
            if !cursor.keyword("TO") {
                break;
            }
            let Some(to) = cursor.table(default_database) else {
                break;
            };
            changes.push(ParsedDdl {
                table: from,
                change: SchemaChange::RenameTable { to },
            });
            if !cursor.keyword(",") {
                break;
            }
        }
    } else if cursor.keyword("ALTER") {
        cursor.keyword("ONLINE");
        cursor.keyword("IGNORE");
        if !cursor.keyword("TABLE") {
            return changes;
        }
        let Some(table) = cursor.table(default_database) else {
            return changes;
        };
        loop {
            if let Some(change) = alter_clause(&mut cursor, &table, default_database) {
                changes.push(ParsedDdl {
                    table: table.clone(),
                    change,
                });
            }
            if !cursor.next_clause() {
                break;
            }
        }
    }
    changes
}

fn alter_clause(
    cursor: &mut Cursor,
    table: &TableName,
    default_database: &str,
) -> Option<SchemaChange> {
    if cursor.keyword("ADD") {
        let explicit = cursor.keyword("COLUMN");
        if !explicit
            && [
                "INDEX",
                "KEY",
                "PRIMARY",
                "UNIQUE",
                "CONSTRAINT",
                "FOREIGN",
                "FULLTEXT",
                "SPATIAL",
                "CHECK",
                "PARTITION",
                "(",
            ]
            .iter()
            .any(|word| {
                cursor
                    .tokens
                    .get(cursor.index)
                    .is_some_and(|token| !token.quoted && token.upper == *word)
            })
        {
            return None;
        }
        if cursor.keyword("IF") {
            cursor.keyword("NOT");
            cursor.keyword("EXISTS");
        }
        return cursor.identifier().map(SchemaChange::AddColumn);
    }
    if cursor.keyword("DROP") {
        let explicit = cursor.keyword("COLUMN");
        if !explicit
            && [
                "INDEX",
                "KEY",
                "PRIMARY",
                "FOREIGN",
                "CONSTRAINT",
                "CHECK",
                "PARTITION",
            ]
            .iter()
            .any(|word| {
                cursor
                    .tokens
                    .get(cursor.index)
                    .is_some_and(|token| !token.quoted && token.upper == *word)
            })
        {
            return None;
        }
        if cursor.keyword("IF") {
            cursor.keyword("EXISTS");
        }
        return cursor.identifier().map(SchemaChange::DropColumn);
    }
    if cursor.keyword("RENAME") {
        if cursor.keyword("COLUMN") {
            let from = cursor.identifier()?;
            cursor.keyword("TO").then_some(())?;
            let to = cursor.identifier()?;
            return Some(SchemaChange::RenameColumn { from, to });
        }
        if cursor.keyword("INDEX") || cursor.keyword("KEY") {
            return None;
        }
        cursor.keyword("TO");
        cursor.keyword("AS");
        let to = cursor
            .table(&table.database)
            .or_else(|| cursor.table(default_database))?;
        return Some(SchemaChange::RenameTable { to });
    }
    if cursor.keyword("CHANGE") {
        cursor.keyword("COLUMN");
        if cursor.keyword("IF") {
            cursor.keyword("EXISTS");
        }
        let from = cursor.identifier()?;
        let to = cursor.identifier()?;
        return (from != to).then_some(SchemaChange::RenameColumn { from, to });
    }
    None
}

#[cfg(test)]
mod tests;
