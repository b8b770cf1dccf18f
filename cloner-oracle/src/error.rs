//! Turning the Oracle client's errors into [`ClonerError`]s: redacted,
//! typed, and with advice where the user has something to do (the Oracle
//! client library missing, no listener, an unknown service, a refused
//! login).

use cloner::ClonerError;
use cloner::redact::Redactor;

use crate::server::Server;

/// An Oracle or ODPI-C error as the cloner reports it: the client's message
/// with every password the cloner knows hidden, and its code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct OracleError {
    message: String,
    /// The `ORA-` number, if the server raised it.
    pub(crate) ora: Option<i32>,
    /// The `DPI-` number, if the client library layer raised it.
    pub(crate) dpi: Option<i32>,
}

impl OracleError {
    /// `error`, with what `redactor` knows hidden.
    pub(crate) fn new(error: &oracle::Error, redactor: &Redactor) -> OracleError {
        OracleError {
            message: redactor.redact(&error.to_string()),
            ora: error.oci_code(),
            dpi: error.dpi_code(),
        }
    }

    /// A message of the cloner's own (already free of passwords).
    pub(crate) fn message(message: impl Into<String>) -> OracleError {
        OracleError {
            message: message.into(),
            ora: None,
            dpi: None,
        }
    }

    /// `context: error`, for errors of one statement among many.
    pub(crate) fn context(mut self, context: &str) -> OracleError {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

/// ORA- codes the cloner acts on.
pub(crate) mod ora {
    /// Insufficient privileges.
    pub(crate) const INSUFFICIENT_PRIVILEGES: i32 = 1031;
    /// Invalid username/password; logon denied.
    pub(crate) const INVALID_LOGIN: i32 = 1017;
    /// Null password given; logon denied.
    pub(crate) const NULL_PASSWORD: i32 = 1005;
    /// User … does not exist.
    pub(crate) const NO_SUCH_USER: i32 = 1918;
    /// User name conflicts with another user or role name.
    pub(crate) const NAME_CONFLICT: i32 = 1920;
    /// Cannot drop a user that is currently connected.
    pub(crate) const USER_CONNECTED: i32 = 1940;
    /// Tablespace … does not exist.
    pub(crate) const NO_SUCH_TABLESPACE: i32 = 959;
    /// Invalid common user or role name (a local user made in CDB$ROOT).
    pub(crate) const COMMON_USER_NAME: i32 = 65096;
    /// Success with compilation error.
    pub(crate) const COMPILATION_ERROR: i32 = 24344;
    /// Table or view does not exist (a dictionary view not granted).
    pub(crate) const NO_SUCH_TABLE: i32 = 942;
    /// The account is locked.
    pub(crate) const ACCOUNT_LOCKED: i32 = 28000;
    /// The password has expired.
    pub(crate) const PASSWORD_EXPIRED: i32 = 28001;
    /// Listener does not currently know of the service.
    pub(crate) const UNKNOWN_SERVICE: i32 = 12514;
    /// No listener, host unreachable, timed out, lost contact, unknown host.
    pub(crate) const UNREACHABLE: [i32; 8] =
        [12541, 12543, 12545, 12170, 12537, 12547, 12560, 3113];
}

/// The DPI- code of a missing Oracle client library.
pub(crate) const DPI_NO_CLIENT: i32 = 1047;
/// The DPI- code of an Oracle client library too old for ODPI-C.
pub(crate) const DPI_OLD_CLIENT: i32 = 1072;

/// What to do when the Oracle client library cannot be loaded (DPI-1047).
pub(crate) fn missing_client_hint() -> String {
    "paraclone's oracle backend needs the Oracle client library (libclntsh), and it is not \
     installed or not found. Install Oracle Instant Client, the \"Basic\" or \"Basic Light\" \
     package (19c or later): download it from Oracle \
     (https://www.oracle.com/database/technologies/instant-client/downloads.html) and unzip it, \
     e.g. to /opt/oracle/instantclient_23_x (on Linux it also needs libaio: `apt-get install \
     libaio1t64` or `libaio1`, `dnf install libaio`). Then point to it: on Linux \
     `export LD_LIBRARY_PATH=/opt/oracle/instantclient_23_x:$LD_LIBRARY_PATH`, or for the whole \
     machine `echo /opt/oracle/instantclient_23_x > /etc/ld.so.conf.d/oracle-instantclient.conf \
     && ldconfig`; on macOS DYLD_LIBRARY_PATH is not honored (System Integrity Protection drops \
     it), so link libclntsh.dylib into ~/lib (`ln -s /opt/oracle/instantclient_23_x/libclntsh.dylib \
     ~/lib/`); on Windows add the Instant Client directory to PATH. Until then the oracle backend \
     cannot run and paraclone exits with \"could not run\" (exit code 2)."
        .to_owned()
}

/// Why the cloner could not open a session on `server`, with advice.
pub(crate) fn connect_error(
    server: &Server,
    error: &oracle::Error,
    redactor: &Redactor,
) -> ClonerError {
    let source = OracleError::new(error, redactor);
    let hint = match (source.dpi, source.ora) {
        (Some(DPI_NO_CLIENT), _) => Some(missing_client_hint()),
        (Some(DPI_OLD_CLIENT), _) => Some(
            "the Oracle client library found is too old: install Oracle Instant Client 19c or \
             later (\"Basic\" or \"Basic Light\") and put it first on the library path"
                .to_owned(),
        ),
        (_, Some(ora::INVALID_LOGIN | ora::NULL_PASSWORD)) => Some(format!(
            "the server refused the login: check the user and password of the server URL (url \
             under [backends.oracle] in paraclone.toml, or {}); percent-encode special \
             characters in the password (@ as %40)",
            crate::URL_ENV
        )),
        (_, Some(ora::ACCOUNT_LOCKED | ora::PASSWORD_EXPIRED)) => Some(
            "the login's account is locked or its password expired: `ALTER USER … ACCOUNT \
             UNLOCK` / `ALTER USER … IDENTIFIED BY …` as a DBA"
                .to_owned(),
        ),
        (_, Some(ora::UNKNOWN_SERVICE)) => Some(format!(
            "the listener at {} does not know the service {:?}: name the pluggable database as the \
             URL's path (FREEPDB1 for Oracle Database Free, XEPDB1 for XE, ORCLPDB1 for many \
             installs); `lsnrctl status` lists the services",
            server.address(),
            server.service()
        )),
        (_, Some(code)) if ora::UNREACHABLE.contains(&code) => Some(start_hint(server)),
        _ => None,
    };
    ClonerError::Connect {
        server: server.label().to_owned(),
        hint,
        source: Box::new(source),
    }
}

/// What to do when no Oracle listener answers at the server's address.
pub(crate) fn start_hint(server: &Server) -> String {
    format!(
        "is Oracle running at {}? Start it (for example the Oracle Database Free container, \
         whose pluggable database is FREEPDB1), or point paraclone at a running server with url \
         under [backends.oracle] in paraclone.toml or the {} environment variable",
        server.address(),
        crate::URL_ENV
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_client_hint_says_what_how_where_and_what_then() {
        let hint = missing_client_hint();
        for part in [
            "Instant Client",
            "\"Basic\" or \"Basic Light\"",
            "download it from Oracle",
            "/opt/oracle/instantclient_23_x",
            "LD_LIBRARY_PATH",
            "ldconfig",
            "DYLD_LIBRARY_PATH is not honored",
            "~/lib",
            "PATH",
            "could not run",
        ] {
            assert!(hint.contains(part), "the hint lacks {part:?}: {hint}");
        }
    }

    #[test]
    fn oracle_messages_are_redacted() {
        let mut redactor = Redactor::new();
        redactor.add("PcSecret7");
        let error = oracle::Error::new(
            oracle::ErrorKind::Other,
            "bad password PcSecret7 near oracle://u:pw@h/s",
        );
        let reported = OracleError::new(&error, &redactor);
        assert_eq!(
            reported.to_string(),
            "bad password *** near oracle://u:***@h/s"
        );
        assert_eq!(
            reported.context("table \"T\"").to_string(),
            "table \"T\": bad password *** near oracle://u:***@h/s"
        );
    }
}
