//! How `paraclone list` prints the tests: for people (groups, then their
//! tests) or as one JSON document (`--format json`).

use std::fmt::Write as _;

use serde_json::json;

use crate::list::TestList;
use crate::reporter::color::Style;
use crate::reporter::json::{self, FORMAT_VERSION};
use crate::reporter::{Reporter, plural};

impl Reporter {
    /// Prints the list of tests; `json`: as one JSON document.
    pub fn report_list(&mut self, list: &TestList, json: bool) {
        let text = if json {
            let doc = json!({
                "format_version": FORMAT_VERSION,
                "source": list.source,
                "selected": list.selected(),
                "groups": list.groups.iter().map(|g| g.iter().map(json::test).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "ignored": list.ignored.iter().map(json::test).collect::<Vec<_>>(),
                "filtered_out": list.filtered_out,
                "partition": list.partition.map(|p| p.to_string()),
                "other_shards": list.other_shards,
            });
            format!("{doc}\n")
        } else {
            let mut text = String::new();
            for (n, group) in list.groups.iter().enumerate() {
                let _ = writeln!(
                    text,
                    "{} {} ({} test{})",
                    self.paint(Style::Good, &format!("group {}", n + 1)),
                    group.first().map_or("", |t| t.binary.as_str()),
                    group.len(),
                    plural(group.len())
                );
                for test in group {
                    let _ = writeln!(text, "    {test}");
                }
            }
            for test in &list.ignored {
                let _ = writeln!(text, "{} {test}", self.paint(Style::Warn, "ignored"));
            }
            let shard = match list.partition {
                Some(p) => format!(", {} in the other shards of {p}", list.other_shards),
                None => String::new(),
            };
            let _ = writeln!(
                text,
                "{} test{} from {} in {} group{}; {} ignored, {} filtered out{shard}",
                list.selected(),
                plural(list.selected()),
                list.source,
                list.groups.len(),
                plural(list.groups.len()),
                list.ignored.len(),
                list.filtered_out,
            );
            text
        };
        self.print(&text);
    }
}
