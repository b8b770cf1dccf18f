//! What a throwaway server (one a test runner starts for its run alone)
//! is told at start-up, before it takes connections: its superuser's
//! password, for the socket and for TCP from 127.0.0.1, and no anonymous
//! login. Run at every start (`--init-file`), so it may run again on a
//! copy of a data directory it already ran on.

use cloner::quote::{Dialect, quote_literal};

/// The start-up statements for a server whose `root` gets `password`.
/// Written for MariaDB 10.4+ and MySQL 5.7+ alike.
pub fn init_statements(password: &str) -> String {
    let password = quote_literal(Dialect::Mysql, password);
    let mut sql = String::new();
    for host in ["localhost", "127.0.0.1"] {
        sql.push_str(&format!(
            "CREATE USER IF NOT EXISTS 'root'@'{host}' IDENTIFIED BY {password};\n\
             ALTER USER 'root'@'{host}' IDENTIFIED BY {password};\n\
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'{host}' WITH GRANT OPTION;\n"
        ));
    }
    sql.push_str("DROP USER IF EXISTS ''@'localhost';\nFLUSH PRIVILEGES;\n");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_a_quoted_literal_for_both_logins() {
        let sql = init_statements("it's");
        assert_eq!(sql.matches("IDENTIFIED BY 'it''s'").count(), 4, "{sql}");
        assert!(sql.contains("'root'@'127.0.0.1'"));
        assert!(sql.contains("DROP USER IF EXISTS ''@'localhost'"));
    }
}
