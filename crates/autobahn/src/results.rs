//! The verdicts of a run, counted per server: kept as `autobahn.json`, shown as the table
//! `autobahn.md.txt` that the book includes.
//!
//! Autobahn judges each case twice: `behavior` (did the server do what the RFC asks?) and
//! `behaviorClose` (did the connection end as it should?). The table counts `behavior`, as
//! Autobahn's own report and tungstenite's published results do; a failed `behaviorClose` is
//! listed apart, and fails the check as a failed case does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A whole run: every server's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    /// The kosoku version that ran the cases.
    pub kosoku: String,
    /// The message limit every server was given, in bytes.
    pub max_message: usize,
    /// One row per server, in the table's order.
    pub rows: Vec<Row>,
}

/// One server's verdicts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The server's key (`crate::servers::Server::key`).
    pub key: String,
    /// What the book calls it.
    pub server: String,
    /// Cases run.
    pub cases: usize,
    /// Verdict OK: what the RFC asks.
    pub ok: usize,
    /// NON-STRICT: allowed, but not as strict as it could be.
    pub non_strict: usize,
    /// INFORMATIONAL: behaviour the RFC leaves open, recorded.
    pub informational: usize,
    /// UNIMPLEMENTED: a feature the server does not have (compression, 12.* and 13.*).
    pub unimplemented: usize,
    /// FAILED (or ERROR: the case could not even run).
    pub failed: usize,
    /// The cases that were not OK, by verdict, UNIMPLEMENTED left out.
    pub not_ok: BTreeMap<String, Vec<String>>,
    /// Cases whose `behaviorClose` failed (FAILED, UNCLEAN, WRONG CODE, FAILED BY CLIENT).
    pub close_failed: Vec<String>,
}

#[derive(Deserialize)]
struct Case {
    behavior: String,
    #[serde(rename = "behaviorClose")]
    behavior_close: String,
}

impl Row {
    /// Counts the verdicts in Autobahn's `index.json` (`{agent: {case: {behavior, …}}}`).
    pub fn from_index(key: &str, server: &str, index: &str) -> anyhow::Result<Row> {
        let agents: BTreeMap<String, BTreeMap<String, Case>> = serde_json::from_str(index)?;
        anyhow::ensure!(agents.len() == 1, "index.json should hold one agent, found {}", agents.len());
        let cases = agents.into_values().next().unwrap_or_default();
        let mut row = Row {
            key: key.to_owned(),
            server: server.to_owned(),
            cases: cases.len(),
            ok: 0,
            non_strict: 0,
            informational: 0,
            unimplemented: 0,
            failed: 0,
            not_ok: BTreeMap::new(),
            close_failed: Vec::new(),
        };
        for (id, case) in &cases {
            match case.behavior.as_str() {
                "OK" => row.ok += 1,
                "NON-STRICT" => row.non_strict += 1,
                "INFORMATIONAL" => row.informational += 1,
                "UNIMPLEMENTED" => row.unimplemented += 1,
                _ => row.failed += 1,
            }
            if !matches!(case.behavior.as_str(), "OK" | "UNIMPLEMENTED") {
                row.not_ok.entry(case.behavior.clone()).or_default().push(id.clone());
            }
            if !matches!(case.behavior_close.as_str(), "OK" | "INFORMATIONAL") {
                row.close_failed.push(format!("{id} ({})", case.behavior_close));
            }
        }
        for ids in row.not_ok.values_mut() {
            ids.sort_by_key(|id| case_order(id));
        }
        row.close_failed.sort_by_key(|id| case_order(id));
        Ok(row)
    }

    /// What is wrong with this row, if anything: failed cases, failed closes, and, for a server
    /// with compression, any case left unimplemented.
    pub fn problems(&self, compression: bool) -> Vec<String> {
        let mut problems = Vec::new();
        for verdict in ["FAILED", "ERROR"] {
            if let Some(ids) = self.not_ok.get(verdict) {
                problems.push(format!("{}: {verdict} {}", self.server, ids.join(", ")));
            }
        }
        if !self.close_failed.is_empty() {
            problems.push(format!("{}: the close failed in {}", self.server, self.close_failed.join(", ")));
        }
        if compression && self.unimplemented > 0 {
            problems.push(format!(
                "{}: {} cases UNIMPLEMENTED; with permessage-deflate every case must run",
                self.server, self.unimplemented
            ));
        }
        problems
    }
}

/// `9.1.10` sorts after `9.1.2`.
fn case_order(id: &str) -> Vec<u32> {
    id.split('.').map(|part| part.parse().unwrap_or(u32::MAX)).collect()
}

impl Results {
    /// Reads `autobahn.json` from `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<Results> {
        let path = dir.join("autobahn.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Writes `autobahn.json` and the table, `autobahn.md.txt`, into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("autobahn.json"), serde_json::to_string_pretty(self)? + "\n")?;
        std::fs::write(dir.join("autobahn.md.txt"), self.table())?;
        Ok(())
    }

    /// The row of the server with `key`.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.key == key)
    }

    // ANCHOR: table
    /// The book's table: the counts per server, then which cases were not OK.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Autobahn TestSuite cases run by kosoku {}, every server with `--max-message {}`.\n",
            self.kosoku, self.max_message
        );
        out.push_str("| server | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED |\n");
        out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.server, r.cases, r.ok, r.non_strict, r.informational, r.unimplemented, r.failed
            );
        }
        // Which cases, grouped: servers with the same list share a line.
        let mut lists: Vec<(String, Vec<&str>)> = Vec::new();
        for r in &self.rows {
            let list = r
                .not_ok
                .iter()
                .map(|(verdict, ids)| format!("{verdict}: {}", ids.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            match lists.iter_mut().find(|(l, _)| *l == list) {
                Some((_, servers)) => servers.push(&r.server),
                None => lists.push((list, vec![&r.server])),
            }
        }
        out.push('\n');
        for (list, servers) in lists {
            let list = if list.is_empty() { "every case OK".to_owned() } else { list };
            let _ = writeln!(out, "- {}: {list}.", servers.join(", "));
        }
        out
    }
    // ANCHOR_END: table
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"127.0.0.1:41095": {
        "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 0, "remoteCloseCode": 1000, "reportfile": "a.json"},
        "6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK", "duration": 2003, "remoteCloseCode": 1007, "reportfile": "b.json"},
        "7.1.6": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL", "duration": 1, "remoteCloseCode": 1000, "reportfile": "c.json"},
        "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK", "duration": 0, "remoteCloseCode": 1000, "reportfile": "d.json"},
        "9.1.10": {"behavior": "FAILED", "behaviorClose": "UNCLEAN", "duration": 10000, "remoteCloseCode": null, "reportfile": "e.json"},
        "9.1.2": {"behavior": "FAILED", "behaviorClose": "OK", "duration": 10000, "remoteCloseCode": 1009, "reportfile": "f.json"}
    }}"#;

    #[test]
    fn an_index_is_counted_by_behavior_and_the_cases_not_ok_are_listed_in_order() {
        let row = Row::from_index("x", "a server", INDEX).unwrap();
        assert_eq!(
            (row.cases, row.ok, row.non_strict, row.informational, row.unimplemented, row.failed),
            (6, 1, 1, 1, 1, 2)
        );
        assert_eq!(row.not_ok["FAILED"], ["9.1.2", "9.1.10"]);
        assert_eq!(row.close_failed, ["9.1.10 (UNCLEAN)"]);
        assert_eq!(row.problems(false).len(), 2, "{:?}", row.problems(false));
        assert_eq!(row.problems(true).len(), 3, "with compression, UNIMPLEMENTED is a problem too");
    }

    #[test]
    fn the_committed_table_is_the_committed_results() {
        let dir = crate::book_dir();
        let results = Results::read(&dir).unwrap();
        let table = std::fs::read_to_string(dir.join("autobahn.md.txt")).unwrap();
        assert_eq!(
            table,
            results.table(),
            "autobahn.md.txt is made from autobahn.json: re-run `just autobahn` rather than edit either"
        );
    }

    #[test]
    fn in_the_committed_results_no_case_failed_and_the_deflate_server_implements_every_case() {
        let results = Results::read(&crate::book_dir()).unwrap();
        for row in &results.rows {
            let compression = crate::servers::SERVERS.iter().any(|s| s.key == row.key && s.compression);
            assert_eq!(row.problems(compression), Vec::<String>::new());
        }
        assert!(
            results.row("by-hand-deflate").is_some(),
            "the by-hand server with --deflate is in the table"
        );
    }
}
