//! Reading the server's errors: which privilege is missing, which object failed.

use cloner::BoxError;

/// `ER_DB_CREATE_EXISTS`: the database exists already.
pub(crate) const DB_CREATE_EXISTS: u16 = 1007;
/// `ER_DBACCESS_DENIED_ERROR`: no privilege on a database.
const DBACCESS_DENIED: u16 = 1044;
/// `ER_ACCESS_DENIED_ERROR`: the login was refused.
pub(crate) const ACCESS_DENIED: u16 = 1045;
/// `ER_BAD_DB_ERROR`: unknown database.
pub(crate) const BAD_DB: u16 = 1049;
/// `ER_EMPTY_QUERY`: a script that holds only comments.
pub(crate) const EMPTY_QUERY: u16 = 1065;
/// `ER_TABLEACCESS_DENIED_ERROR`: `<COMMAND> command denied … for table`.
const TABLEACCESS_DENIED: u16 = 1142;
/// `ER_COLUMNACCESS_DENIED_ERROR`: `<COMMAND> command denied … for column`.
const COLUMNACCESS_DENIED: u16 = 1143;
/// `ER_SPECIFIC_ACCESS_DENIED_ERROR`: `you need (at least one of) the X privilege(s)`.
const SPECIFIC_ACCESS_DENIED: u16 = 1227;
/// `ER_PROCACCESS_DENIED_ERROR`: `<command> command denied … for routine`.
const PROCACCESS_DENIED: u16 = 1370;
/// `ER_BINLOG_CREATE_ROUTINE_NEED_SUPER`: binary logging is on and the
/// login may not create functions or triggers.
const BINLOG_CREATE_ROUTINE_NEED_SUPER: u16 = 1419;
/// `ER_ACCESS_DENIED_NO_PASSWORD_ERROR` (MariaDB): the login was refused.
pub(crate) const ACCESS_DENIED_NO_PASSWORD: u16 = 1698;

/// One object or step of an operation that failed, and why: the link in an
/// error chain that says *what* was being done (`create trigger
/// `orders_audit``), between the operation and the server's message.
#[derive(Debug, thiserror::Error)]
#[error("{object}")]
pub(crate) struct ObjectError {
    /// What was being done, e.g. ``create table `orders` ``.
    pub(crate) object: String,
    /// The privilege to name when the server only says "access denied" for
    /// a database (`ER_DBACCESS_DENIED_ERROR` does not say which).
    pub(crate) privilege: &'static str,
    /// Whether the failure is known to be a missing `privilege` although
    /// the server reported no error (it hid something instead).
    pub(crate) denied: bool,
    /// The client's error.
    #[source]
    pub(crate) source: BoxError,
}

impl ObjectError {
    /// An error of the server or the client while doing `object`.
    pub(crate) fn new(
        object: impl Into<String>,
        privilege: &'static str,
        source: impl Into<BoxError>,
    ) -> ObjectError {
        let source: BoxError = source.into();
        let source = match source.downcast::<mysql_async::Error>() {
            Ok(error) => innermost(*error),
            Err(other) => other,
        };
        ObjectError {
            object: object.into(),
            privilege,
            denied: false,
            source,
        }
    }

    /// `object` could not be done for want of `privilege`, as `why` says.
    pub(crate) fn denied(
        object: impl Into<String>,
        privilege: &'static str,
        why: &str,
    ) -> ObjectError {
        ObjectError {
            denied: true,
            ..ObjectError::new(object, privilege, why)
        }
    }

    /// The server's error code, if the server refused the statement.
    pub(crate) fn code(&self) -> Option<u16> {
        self.source
            .downcast_ref::<mysql_async::ServerError>()
            .map(|e| e.code)
    }

    /// The privilege the login lacks, if that is why it failed.
    pub(crate) fn missing_privilege(&self) -> Option<String> {
        if self.denied {
            return Some(self.privilege.to_owned());
        }
        let error = self.source.downcast_ref::<mysql_async::ServerError>()?;
        server_missing_privilege(error, self.privilege)
    }
}

/// Why a step of an operation failed: the cloner could not open a
/// session, or a statement failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Opening a session failed (already a complete error).
    Cloner(cloner::ClonerError),
    /// A statement failed.
    Object(ObjectError),
}

impl From<cloner::ClonerError> for Failure {
    fn from(e: cloner::ClonerError) -> Failure {
        Failure::Cloner(e)
    }
}

impl From<ObjectError> for Failure {
    fn from(e: ObjectError) -> Failure {
        Failure::Object(e)
    }
}

/// A shorthand for mapping a client error to an [`ObjectError`].
pub(crate) fn at<E: Into<BoxError>>(
    object: impl Into<String>,
    privilege: &'static str,
) -> impl FnOnce(E) -> ObjectError {
    let object = object.into();
    move |source| ObjectError::new(object, privilege, source)
}

/// The server's error code, if `error` is the server's.
pub(crate) fn code(error: &mysql_async::Error) -> Option<u16> {
    match error {
        mysql_async::Error::Server(e) => Some(e.code),
        _ => None,
    }
}

/// The client's error without the wrappers whose messages only repeat
/// their source's ("Server error: `ERROR 1142 …'", "Input/output error:
/// …"): the server's error or the I/O error itself.
pub(crate) fn innermost(error: mysql_async::Error) -> BoxError {
    match error {
        mysql_async::Error::Server(e) => Box::new(e),
        mysql_async::Error::Io(mysql_async::IoError::Io(e)) => Box::new(e),
        other => Box::new(other),
    }
}

/// The privilege the login lacks, if `error` says one is missing.
/// `fallback` names it when the server's message does not
/// (`ER_DBACCESS_DENIED_ERROR`: "Access denied for user … to database …").
pub(crate) fn missing_privilege(error: &mysql_async::Error, fallback: &str) -> Option<String> {
    match error {
        mysql_async::Error::Server(e) => server_missing_privilege(e, fallback),
        _ => None,
    }
}

fn server_missing_privilege(e: &mysql_async::ServerError, fallback: &str) -> Option<String> {
    match e.code {
        DBACCESS_DENIED => Some(fallback.to_owned()),
        TABLEACCESS_DENIED | COLUMNACCESS_DENIED | PROCACCESS_DENIED => Some(
            e.message
                .split_once(" command denied")
                .map(|(command, _)| command.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| fallback.to_owned()),
        ),
        SPECIFIC_ACCESS_DENIED => Some(
            e.message
                .split_once(" the ")
                .and_then(|(_, rest)| rest.split_once(" privilege"))
                .map(|(privilege, _)| privilege.trim().to_owned())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| fallback.to_owned()),
        ),
        BINLOG_CREATE_ROUTINE_NEED_SUPER => {
            Some("SUPER (or the server setting log_bin_trust_function_creators = 1)".to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, message: &str) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: message.to_owned(),
            state: "42000".to_owned(),
        })
    }

    #[test]
    fn privileges_are_read_from_the_message_or_the_context() {
        let cases = [
            (
                server(
                    1142,
                    "TRIGGER command denied to user 'u'@'localhost' for table `d`.`t`",
                ),
                "TRIGGER",
            ),
            (
                server(
                    1142,
                    "CREATE VIEW command denied to user 'u'@'%' for table `d`.`v`",
                ),
                "CREATE VIEW",
            ),
            (
                server(
                    1370,
                    "alter routine command denied to user 'u'@'%' for routine 'd.p'",
                ),
                "ALTER ROUTINE",
            ),
            (
                server(
                    1227,
                    "Access denied; you need (at least one of) the SUPER privilege(s) for this operation",
                ),
                "SUPER",
            ),
            (
                server(1044, "Access denied for user 'u'@'%' to database 'd'"),
                "CREATE",
            ),
        ];
        for (error, want) in cases {
            assert_eq!(
                missing_privilege(&error, "CREATE").as_deref(),
                Some(want),
                "{error}"
            );
        }
        assert_eq!(
            missing_privilege(&server(1064, "You have an error"), "CREATE"),
            None
        );
        assert!(
            missing_privilege(&server(1419, "You do not have the SUPER privilege"), "X")
                .unwrap()
                .contains("log_bin_trust_function_creators")
        );
    }

    #[test]
    fn object_errors_name_the_object_only() {
        let e = ObjectError::new("create table `t`", "CREATE", server(1050, "exists"));
        assert_eq!(e.to_string(), "create table `t`");
        assert_eq!(e.code(), Some(1050));
        assert_eq!(e.missing_privilege(), None);
    }
}
