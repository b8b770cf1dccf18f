//! Reading JUnit XML reports, as pytest, Django's paraclone runner and many
//! other tools write them.

use std::time::Duration;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// What a report says of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// One `<testcase>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) classname: String,
    pub(crate) name: String,
    pub(crate) time: Duration,
    pub(crate) verdict: Verdict,
    /// The failure's message (one line, usually), for failures and errors.
    pub(crate) message: String,
    /// The failure's text (the traceback), for failures and errors.
    pub(crate) text: String,
}

/// Every test case in `xml`.
pub(crate) fn parse(xml: &str) -> Result<Vec<Case>, quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    let mut in_problem = false;
    let mut text = String::new();
    loop {
        match reader.read_event()? {
            Event::Eof => break,
            Event::Start(e) => match e.name().as_ref() {
                b"testcase" => current = Some(case_from(&e)),
                b"failure" | b"error" => {
                    if let Some(c) = current.as_mut() {
                        problem(c, &e);
                        in_problem = true;
                    }
                }
                b"skipped" => {
                    if let Some(c) = current.as_mut() {
                        c.verdict = Verdict::Skipped;
                    }
                }
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases.push(case_from(&e)),
                b"failure" | b"error" => {
                    if let Some(c) = current.as_mut() {
                        problem(c, &e);
                    }
                }
                b"skipped" => {
                    if let Some(c) = current.as_mut() {
                        c.verdict = Verdict::Skipped;
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_problem => {
                text.push_str(&t.decode().map(|s| s.into_owned()).unwrap_or_default());
            }
            Event::GeneralRef(r) if in_problem => {
                // Entities arrive on their own: `&gt;` between two texts.
                let name = r.decode().map(|s| s.into_owned()).unwrap_or_default();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => text.push_str(
                        quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""),
                    ),
                }
            }
            Event::CData(t) if in_problem => text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(e) => match e.name().as_ref() {
                b"testcase" => cases.extend(current.take()),
                b"failure" | b"error" => {
                    in_problem = false;
                    if let Some(c) = current.as_mut() {
                        push_line(&mut c.text, text.trim_end());
                    }
                    text.clear();
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(cases)
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

fn case_from(e: &BytesStart<'_>) -> Case {
    let time = attr(e, b"time")
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .unwrap_or(0.0);
    Case {
        classname: attr(e, b"classname"),
        name: attr(e, b"name"),
        time: Duration::from_secs_f64(time),
        verdict: Verdict::Passed,
        message: String::new(),
        text: String::new(),
    }
}

fn problem(case: &mut Case, e: &BytesStart<'_>) {
    case.verdict = if e.name().as_ref() == b"error" {
        Verdict::Error
    } else {
        Verdict::Failed
    };
    case.message = attr(e, b"message");
}

fn push_line(out: &mut String, line: &str) {
    if line.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(line);
}

/// Whether `case` reports the test `id`. Ids are matched as tools write
/// them: the bare name, `classname.name`, `classname::name`, and pytest's
/// node ids (`dir/test_x.py::Class::test_y` is reported as classname
/// `dir.test_x.Class`, name `test_y`).
pub(crate) fn matches(case: &Case, id: &str) -> bool {
    if id == case.name
        || id == format!("{}.{}", case.classname, case.name)
        || id == format!("{}::{}", case.classname, case.name)
    {
        return true;
    }
    match id.split_once("::") {
        Some((path, rest)) => {
            let module = path.strip_suffix(".py").unwrap_or(path).replace('/', ".");
            let dotted = format!("{module}.{}", rest.replace("::", "."));
            dotted == format!("{}.{}", case.classname, case.name)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4">
<testcase classname="tests.test_orders" name="test_total" time="0.012" />
<testcase classname="tests.test_orders.TestCancel" name="test_twice[a-1]" time="0.5"><failure message="AssertionError: assert 1 == 2">def test():
&gt;       assert 1 == 2
E       AssertionError</failure></testcase>
<testcase classname="tests.test_orders" name="test_skip" time="0"><skipped type="pytest.skip" message="later">skip</skipped></testcase>
<testcase classname="tests.test_orders" name="test_err" time="0.1"><error message="fixture &apos;db&apos; failed"/></testcase>
</testsuite></testsuites>"#;

    #[test]
    fn pytest_reports_are_read() {
        let cases = parse(PYTEST).unwrap();
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[0].verdict, Verdict::Passed);
        assert_eq!(cases[0].time, Duration::from_millis(12));
        assert_eq!(cases[1].verdict, Verdict::Failed);
        assert_eq!(
            format!("{}\n{}", cases[1].message, cases[1].text),
            "AssertionError: assert 1 == 2\ndef test():\n>       assert 1 == 2\nE       AssertionError"
        );
        assert_eq!(cases[2].verdict, Verdict::Skipped);
        assert_eq!(cases[3].verdict, Verdict::Error);
        assert_eq!(cases[3].message, "fixture 'db' failed");
    }

    #[test]
    fn ids_match_in_every_form() {
        let cases = parse(PYTEST).unwrap();
        assert!(matches(&cases[0], "tests/test_orders.py::test_total"));
        assert!(matches(
            &cases[1],
            "tests/test_orders.py::TestCancel::test_twice[a-1]"
        ));
        assert!(!matches(
            &cases[1],
            "tests/test_orders.py::TestCancel::test_twice[a-2]"
        ));
        let django = Case {
            classname: "shop.tests.OrderTests".to_owned(),
            name: "test_total".to_owned(),
            time: Duration::ZERO,
            verdict: Verdict::Passed,
            message: String::new(),
            text: String::new(),
        };
        assert!(matches(&django, "shop.tests.OrderTests.test_total"));
        assert!(!matches(&django, "shop.tests.OrderTests.test_other"));
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(
            parse("<testsuite><testcase name=\"a\"></testsuite>").is_err()
                || parse("<testsuite><testcase name=\"a\"></testsuite>").is_ok()
        );
        assert!(parse("<<<").is_err());
    }
}
