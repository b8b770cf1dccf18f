//! [`Snapshot`]: what a database looks like, to compare a clone with its template.

use std::fmt::Write as _;

use crate::BoxError;
use crate::conformance::fixture::Section;
use crate::conformance::probe::{Probe, Row};

/// The results of a list of [`Section`] queries in one database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The database the queries ran in.
    pub database: String,
    /// Each section's label and result rows, in query order.
    pub sections: Vec<(String, Vec<Row>)>,
}

/// A section query that failed while taking a [`Snapshot`].
#[derive(Debug, thiserror::Error)]
#[error("run the query for {label} in {database:?}: {sql}")]
pub struct SnapshotError {
    /// The database queried.
    pub database: String,
    /// The section's label.
    pub label: &'static str,
    /// The query.
    pub sql: &'static str,
    /// The probe's error.
    #[source]
    pub source: BoxError,
}

impl Snapshot {
    /// Runs every query of `sections` in `database`.
    pub async fn take(
        probe: &dyn Probe,
        database: &str,
        sections: &[Section],
    ) -> Result<Snapshot, SnapshotError> {
        let mut out = Vec::with_capacity(sections.len());
        for section in sections {
            let rows =
                probe
                    .query(database, section.sql)
                    .await
                    .map_err(|source| SnapshotError {
                        database: database.to_owned(),
                        label: section.label,
                        sql: section.sql,
                        source,
                    })?;
            out.push((section.label.to_owned(), rows));
        }
        Ok(Snapshot {
            database: database.to_owned(),
            sections: out,
        })
    }

    /// `None` when both snapshots hold the same rows in every section,
    /// otherwise a description of the first difference naming both
    /// databases, the section and the rows.
    pub fn difference(&self, other: &Snapshot) -> Option<String> {
        let (a, b) = (&self.database, &other.database);
        if self.sections.len() != other.sections.len() {
            return Some(format!(
                "{a:?} has {} sections, {b:?} has {}",
                self.sections.len(),
                other.sections.len()
            ));
        }
        for ((label, rows_a), (label_b, rows_b)) in self.sections.iter().zip(&other.sections) {
            if label != label_b {
                return Some(format!(
                    "section {label:?} of {a:?} is compared with section {label_b:?} of {b:?}"
                ));
            }
            if rows_a == rows_b {
                continue;
            }
            let mut out = format!(
                "{label} differ: {a:?} has {} rows, {b:?} has {}",
                rows_a.len(),
                rows_b.len()
            );
            let first = (0..rows_a.len().max(rows_b.len()))
                .find(|&i| rows_a.get(i) != rows_b.get(i))
                .expect("unequal row lists differ somewhere");
            let render =
                |row: Option<&Row>| row.map_or_else(|| "no row".to_owned(), |r| render_row(r));
            let _ = write!(
                out,
                "; first difference at row {}:\n  {a:?}: {}\n  {b:?}: {}",
                first + 1,
                render(rows_a.get(first)),
                render(rows_b.get(first)),
            );
            return Some(out);
        }
        None
    }

    /// Every value of the snapshot, for searching it.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .flat_map(|(_, rows)| rows.iter().flatten().flatten().map(String::as_str))
    }
}

/// A row as `(1, 'Ada', NULL)`.
pub fn render_row(row: &[Option<String>]) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|cell| match cell {
            None => "NULL".to_owned(),
            Some(text) => format!("'{}'", text.replace('\'', "''")),
        })
        .collect();
    format!("({})", cells.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[Option<&str>]) -> Row {
        cells.iter().map(|c| c.map(str::to_owned)).collect()
    }

    fn snapshot(database: &str, sections: &[(&str, Vec<Row>)]) -> Snapshot {
        Snapshot {
            database: database.to_owned(),
            sections: sections
                .iter()
                .map(|(l, r)| ((*l).to_owned(), r.clone()))
                .collect(),
        }
    }

    #[test]
    fn equal_snapshots_of_different_databases_have_no_difference() {
        let rows = vec![row(&[Some("1"), Some("Ada")]), row(&[Some("2"), None])];
        let a = snapshot("tpl", &[("rows of customers", rows.clone())]);
        let b = snapshot("w1", &[("rows of customers", rows)]);
        assert_eq!(a.difference(&b), None);
    }

    #[test]
    fn the_first_differing_row_is_named() {
        let a = snapshot(
            "tpl",
            &[
                ("tables", vec![]),
                ("rows", vec![row(&[Some("1")]), row(&[Some("it's")])]),
            ],
        );
        let b = snapshot(
            "w1",
            &[
                ("tables", vec![]),
                ("rows", vec![row(&[Some("1")]), row(&[None])]),
            ],
        );
        assert_eq!(
            a.difference(&b).unwrap(),
            "rows differ: \"tpl\" has 2 rows, \"w1\" has 2; first difference at row 2:\n  \"tpl\": ('it''s')\n  \"w1\": (NULL)"
        );
    }

    #[test]
    fn a_missing_row_is_named() {
        let a = snapshot("tpl", &[("rows", vec![row(&[Some("1")])])]);
        let b = snapshot("w1", &[("rows", vec![])]);
        let d = a.difference(&b).unwrap();
        assert!(
            d.contains("\"tpl\" has 1 rows, \"w1\" has 0") && d.ends_with("\"w1\": no row"),
            "{d}"
        );
    }

    #[test]
    fn mismatched_sections_are_reported() {
        let a = snapshot("a", &[("x", vec![])]);
        let b = snapshot("b", &[("y", vec![])]);
        assert!(a.difference(&b).unwrap().contains("\"x\""));
        assert!(
            a.difference(&snapshot("b", &[]))
                .unwrap()
                .contains("1 sections")
        );
    }

    #[test]
    fn values_flatten_every_cell() {
        let a = snapshot(
            "a",
            &[
                ("x", vec![row(&[Some("1"), None])]),
                ("y", vec![row(&[Some("b")])]),
            ],
        );
        assert_eq!(a.values().collect::<Vec<_>>(), ["1", "b"]);
    }
}
