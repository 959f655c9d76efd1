//! `cargo xtask autobahn [--update]`: the Autobahn|Testsuite conformance gate.
//!
//! Installs the fuzzing server with `autobahn/install.sh` (a private Python 2.7, no docker),
//! starts it on a free loopback port with `autobahn/fuzzingserver.py`, runs
//! `ws-client`'s `autobahn_client` example against every case, and compares the per-case
//! verdicts with the committed `autobahn/expected-results.json`. It fails when any case of
//! 1.*–11.* is not OK (INFORMATIONAL allowed), when a 12.*/13.* case is not UNIMPLEMENTED,
//! or when any verdict differs from the committed file. `--update` rewrites that file
//! from the run instead of comparing (the rules above still apply).

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run};

const AGENT: &str = "ws-client";

/// One case's verdict: (behavior, close behavior).
type Verdicts = BTreeMap<CaseId, (String, String)>;

/// A case id ordered numerically ("6.10.1" after "6.9.4").
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CaseId(Vec<u32>);

impl CaseId {
    fn parse(text: &str) -> Result<Self, String> {
        text.split('.')
            .map(|p| p.parse().map_err(|_| format!("bad case id {text:?}")))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn group(&self) -> u32 {
        self.0.first().copied().unwrap_or(0)
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

pub(crate) fn autobahn(args: &[String]) -> Result<(), String> {
    let update = match args {
        [] => false,
        [flag] if flag == "--update" => true,
        other => return Err(format!("autobahn takes only --update, not {other:?}")),
    };
    let root = root();
    let dir = root.join("target").join("autobahn");
    run(&root, "bash", &["autobahn/install.sh"], &[])?;
    let python = dir.join("home").join("bin").join("python2");

    let reports = dir.join("reports");
    let _ = fs::remove_dir_all(&reports);
    fs::create_dir_all(&reports)
        .map_err(|e| format!("cannot create {}: {e}", reports.display()))?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let spec = dir.join("spec.json");
    let spec_text = serde_json::json!({
        "url": format!("ws://127.0.0.1:{port}"),
        "outdir": reports.display().to_string(),
        "cases": ["*"],
        "exclude-cases": [],
        "exclude-agent-cases": {},
    });
    fs::write(&spec, spec_text.to_string()).map_err(|e| format!("cannot write spec: {e}"))?;

    run(
        &root,
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "ws-client",
            "--example",
            "autobahn_client",
        ],
        &[],
    )?;

    eprintln!("\n==> starting the fuzzing server on 127.0.0.1:{port}");
    let log_path = dir.join("server.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("cannot create server.log: {e}"))?;
    let mut server = Command::new(&python)
        .arg("-u")
        .arg(root.join("autobahn").join("fuzzingserver.py"))
        .arg(&spec)
        .stdout(log)
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the fuzzing server: {e}"))?;
    let started = Instant::now();
    loop {
        let text = fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with("ready:")) {
            eprintln!("    {line} (log: {})", log_path.display());
            break;
        }
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!(
                "the fuzzing server exited with {status}; see {}",
                log_path.display()
            ));
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = server.kill();
            return Err(format!(
                "the fuzzing server was not ready in 60 s; see {}",
                log_path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let url = format!("ws://127.0.0.1:{port}");
    let client = root
        .join("target")
        .join("release")
        .join("examples")
        .join("autobahn_client");
    let client = client.display().to_string();
    let result = run(
        &root,
        &client,
        &[],
        &[("AUTOBAHN_URL", &url), ("AUTOBAHN_AGENT", AGENT)],
    );
    let _ = server.kill();
    let _ = server.wait();
    result?;

    let verdicts = read_report(&reports.join("index.json"))?;
    let mut problems = rule_violations(&verdicts);
    let expected_path = root.join("autobahn").join("expected-results.json");
    if update {
        fs::write(&expected_path, render(&verdicts))
            .map_err(|e| format!("cannot write {}: {e}", expected_path.display()))?;
        eprintln!("wrote {}", expected_path.display());
    } else {
        let text = fs::read_to_string(&expected_path)
            .map_err(|e| format!("cannot read {}: {e}", expected_path.display()))?;
        let expected = parse_verdicts(&text)?;
        problems.extend(differences(&expected, &verdicts));
    }
    let count = |group: fn(u32) -> bool, verdict: &str| {
        verdicts
            .iter()
            .filter(|(id, v)| group(id.group()) && v.0 == verdict)
            .count()
    };
    let core = |g: u32| g <= 11;
    eprintln!(
        "autobahn: {} cases; 1-11: OK {}, INFORMATIONAL {}, NON-STRICT {}, FAILED {}; 12-13: UNIMPLEMENTED {}",
        verdicts.len(),
        count(core, "OK"),
        count(core, "INFORMATIONAL"),
        count(core, "NON-STRICT"),
        count(core, "FAILED"),
        count(|g| g >= 12, "UNIMPLEMENTED"),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "autobahn: {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn read_report(path: &std::path::Path) -> Result<Verdicts, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let cases = json
        .get(AGENT)
        .ok_or_else(|| format!("{} has no results for agent {AGENT}", path.display()))?;
    verdicts_of(cases)
}

fn parse_verdicts(text: &str) -> Result<Verdicts, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("expected-results.json: {e}"))?;
    verdicts_of(&json)
}

/// `{"1.1.1": {"behavior": "OK", "behaviorClose": "OK", ...}, ...}` as verdicts.
fn verdicts_of(cases: &serde_json::Value) -> Result<Verdicts, String> {
    let cases = cases
        .as_object()
        .ok_or("case results are not a JSON object")?;
    let mut verdicts = Verdicts::new();
    for (id, case) in cases {
        let field = |name: &str| {
            case.get(name)
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string()
        };
        verdicts.insert(
            CaseId::parse(id)?,
            (field("behavior"), field("behaviorClose")),
        );
    }
    Ok(verdicts)
}

fn render(verdicts: &Verdicts) -> String {
    let lines: Vec<String> = verdicts
        .iter()
        .map(|(id, (behavior, close))| {
            format!(
                "  \"{id}\": {{ \"behavior\": \"{behavior}\", \"behaviorClose\": \"{close}\" }}"
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

fn rule_violations(verdicts: &Verdicts) -> Vec<String> {
    verdicts
        .iter()
        .filter_map(|(id, (behavior, _))| {
            let allowed: &[&str] = if id.group() <= 11 {
                &["OK", "INFORMATIONAL"]
            } else {
                &["UNIMPLEMENTED"]
            };
            (!allowed.contains(&behavior.as_str()))
                .then(|| format!("case {id}: {behavior}, must be one of {allowed:?}"))
        })
        .collect()
}

fn differences(expected: &Verdicts, actual: &Verdicts) -> Vec<String> {
    let mut out = Vec::new();
    for (id, want) in expected {
        match actual.get(id) {
            None => out.push(format!("case {id}: expected {want:?}, did not run")),
            Some(got) if got != want => {
                out.push(format!("case {id}: expected {want:?}, got {got:?}"))
            }
            Some(_) => {}
        }
    }
    for id in actual.keys().filter(|id| !expected.contains_key(id)) {
        out.push(format!(
            "case {id}: ran but is not in expected-results.json (run with --update)"
        ));
    }
    out
}
