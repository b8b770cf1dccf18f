//! `cargo xtask bench` in its smallest mode, so that the bench cannot rot:
//! every section must come out with positive numbers. Speed is never
//! asserted, only that everything was measured.
//!
//! SQLite always; PostgreSQL too under `CI=true`, where CI starts the server.

use std::path::Path;
use std::process::Command;

#[test]
fn smoke_bench_measures_every_section() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-smoke");
    let _ = std::fs::remove_dir_all(&out);
    let mut backends = vec!["sqlite"];
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        backends.push("postgres");
    }
    let db = backends.join(",");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "bench", "--db", &db, "--quick", "--rounds", "1", "--sizes", "tiny", "--debug",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("xtask starts");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "xtask bench failed:\n{text}");

    let json = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    let results = json::parse(&json).unwrap_or_else(|e| panic!("results.json: {e}\n{json}"));
    assert_eq!(results.get("mode").str(), "quick");
    assert_eq!(results.get("sizes").str(), "tiny");
    assert!(results.get("errors").arr().is_empty(), "{json}");
    assert!(results.get("machine").get("cores").num() >= 1.0);

    let clone = results.get("clone").arr();
    assert_eq!(clone.len(), backends.len(), "one clone section per backend");
    for (section, backend) in clone.iter().zip(&backends) {
        assert_eq!(section.get("backend").str(), *backend);
        let methods = section.get("methods").arr();
        let keys: Vec<&str> = methods.iter().map(|m| m.get("key").str()).collect();
        for key in [
            "paraclone_1",
            "paraclone_4",
            "paraclone_8",
            "django",
            "replay",
        ] {
            assert!(keys.contains(&key), "{backend}: no {key} in {keys:?}");
        }
        for m in methods {
            positive_stats(m.get("seconds"), "clone seconds");
            positive_stats(m.get("drop_seconds"), "drop seconds");
        }
        let ratios = section.get("ratios");
        assert!(ratios.get("vs_django").num() > 0.0);
        assert!(ratios.get("vs_replay").num() > 0.0);
        assert!(section.get("template").get("build_seconds").num() > 0.0);
    }

    let whole = results.get("whole_run").arr();
    assert_eq!(
        whole.len(),
        backends.len(),
        "one whole-run section per backend"
    );
    for section in whole {
        assert!(section.get("tests").num() > 0.0);
        let runs = section.get("runs").arr();
        assert!(runs.len() >= 2, "serial and parallel");
        for run in runs {
            positive_stats(run.get("wall_seconds"), "whole-run wall");
            assert!(run.get("speedup").num() > 0.0);
            positive_stats(run.get("phases").get("run"), "run phase");
        }
    }

    let overhead = results.get("overhead");
    positive_stats(overhead.get("nextest_seconds"), "nextest");
    positive_stats(overhead.get("paraclone_seconds"), "paraclone");
    assert!(overhead.get("ratio").num() > 0.0);

    let points = results.get("memory").get("points").arr();
    assert!(!points.is_empty());
    for p in points {
        assert!(p.get("tests").num() > 0.0);
        positive_stats(p.get("max_rss_kib"), "max RSS");
    }

    let md = std::fs::read_to_string(out.join("BENCHMARKS.md")).expect("the Markdown section");
    let (begin, end) = (
        md.find("<!-- bench:begin -->").expect("begin marker"),
        md.find("<!-- bench:end -->").expect("end marker"),
    );
    assert!(
        begin < end && md[begin..end].contains("Headline ratios"),
        "{md}"
    );
}

fn positive_stats(stats: &json::Value, what: &str) {
    for key in ["median", "min", "max"] {
        let v = stats.get(key).num();
        assert!(v > 0.0, "{what}: {key} = {v}");
    }
    assert!(!stats.get("samples").arr().is_empty(), "{what}: no samples");
}

/// Just enough JSON to read results.json (xtask depends on anyhow only).
mod json {
    #[derive(Debug)]
    pub(crate) enum Value {
        /// `true`, `false` or `null`: nothing checks them.
        Literal,
        Num(f64),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
    }

    impl Value {
        /// The member `key` of an object; panics naming the key otherwise.
        pub(crate) fn get(&self, key: &str) -> &Value {
            match self {
                Value::Obj(members) => members
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("no {key:?} in {self:?}")),
                other => panic!("{key:?} of a non-object {other:?}"),
            }
        }

        pub(crate) fn num(&self) -> f64 {
            match self {
                Value::Num(n) => *n,
                other => panic!("not a number: {other:?}"),
            }
        }

        pub(crate) fn str(&self) -> &str {
            match self {
                Value::Str(s) => s,
                other => panic!("not a string: {other:?}"),
            }
        }

        pub(crate) fn arr(&self) -> &[Value] {
            match self {
                Value::Arr(a) => a,
                other => panic!("not an array: {other:?}"),
            }
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }

        fn eat(&mut self, lit: &str) -> bool {
            if self.s[self.i..].starts_with(lit.as_bytes()) {
                self.i += lit.len();
                true
            } else {
                false
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            let c = *self.s.get(self.i).ok_or("unexpected end")?;
            match c {
                b'{' => {
                    self.i += 1;
                    let mut members = Vec::new();
                    self.ws();
                    if self.eat("}") {
                        return Ok(Value::Obj(members));
                    }
                    loop {
                        self.ws();
                        let Value::Str(key) = self.value()? else {
                            return Err(format!("object key expected at byte {}", self.i));
                        };
                        self.ws();
                        if !self.eat(":") {
                            return Err(format!("':' expected at byte {}", self.i));
                        }
                        members.push((key, self.value()?));
                        self.ws();
                        if self.eat("}") {
                            return Ok(Value::Obj(members));
                        }
                        if !self.eat(",") {
                            return Err(format!("',' expected at byte {}", self.i));
                        }
                    }
                }
                b'[' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.eat("]") {
                        return Ok(Value::Arr(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        if self.eat("]") {
                            return Ok(Value::Arr(items));
                        }
                        if !self.eat(",") {
                            return Err(format!("',' expected at byte {}", self.i));
                        }
                    }
                }
                b'"' => {
                    self.i += 1;
                    let mut out = String::new();
                    loop {
                        let c = *self.s.get(self.i).ok_or("unterminated string")?;
                        self.i += 1;
                        match c {
                            b'"' => return Ok(Value::Str(out)),
                            b'\\' => {
                                let e = *self.s.get(self.i).ok_or("bad escape")?;
                                self.i += 1;
                                match e {
                                    b'n' => out.push('\n'),
                                    b't' => out.push('\t'),
                                    b'r' => out.push('\r'),
                                    b'b' => out.push('\u{8}'),
                                    b'f' => out.push('\u{c}'),
                                    b'u' => {
                                        let hex = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                            .map_err(|e| e.to_string())?;
                                        let code = u32::from_str_radix(hex, 16)
                                            .map_err(|e| e.to_string())?;
                                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                        self.i += 4;
                                    }
                                    other => out.push(other as char),
                                }
                            }
                            _ => {
                                // Copy a whole UTF-8 sequence at once.
                                let start = self.i - 1;
                                let mut end = self.i;
                                while end < self.s.len() && (self.s[end] & 0xC0) == 0x80 {
                                    end += 1;
                                }
                                out.push_str(
                                    std::str::from_utf8(&self.s[start..end])
                                        .map_err(|e| e.to_string())?,
                                );
                                self.i = end;
                            }
                        }
                    }
                }
                b't' | b'f' | b'n' if self.eat("true") || self.eat("false") || self.eat("null") => {
                    Ok(Value::Literal)
                }
                _ => {
                    let start = self.i;
                    while self.i < self.s.len()
                        && matches!(
                            self.s[self.i],
                            b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                        )
                    {
                        self.i += 1;
                    }
                    std::str::from_utf8(&self.s[start..self.i])
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .map(Value::Num)
                        .ok_or_else(|| format!("bad value at byte {start}"))
                }
            }
        }
    }
}
