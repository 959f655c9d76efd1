//! `cargo xtask autobahn [--client | --server] [--quick] [--update]`: the Autobahn|Testsuite
//! conformance gates, for both roles.
//!
//! Installs Autobahn|Testsuite with `autobahn/install.sh` (a private Python 2.7, no docker).
//! Client role: starts the fuzzing server on a free loopback port with
//! `autobahn/fuzzingserver.py` and runs `ws-client`'s `autobahn_client` example against every
//! case. Server role: starts `ws-deflate`'s `server` example (built from ws-handshake and
//! ws-frame only) and runs `wstest -m fuzzingclient` against it. Each role's per-case
//! verdicts are compared with a committed file (`autobahn/expected-results.json`,
//! `autobahn/expected-results-server.json`). A run fails when any case is not OK
//! (INFORMATIONAL allowed) or when any verdict differs from the committed file. `--update`
//! rewrites the files from the run instead of comparing (the rules above still apply).
//! Without `--client` or `--server`, both run.
//!
//! `--quick` (what `cargo xtask ci` runs) keeps every case of 1.*–11.* but only the
//! compression cases (12.*, 13.*) whose messages are small or fragmented: sizes 1–6 and the
//! first fragmented size, 11. The larger ones send up to 1000 messages of 128 KiB through the
//! fuzzing server's pure-Python deflate, about half an hour per role on two cores; the full
//! run is for a release and for any change to compression. Only the cases that ran are
//! compared, so `--quick` cannot be combined with `--update`.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run};

/// The two roles under test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

impl Role {
    fn agent(self) -> &'static str {
        match self {
            Self::Client => "ws-client",
            Self::Server => "ws-server-example",
        }
    }

    fn expected_file(self) -> &'static str {
        match self {
            Self::Client => "expected-results.json",
            Self::Server => "expected-results-server.json",
        }
    }
}

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

/// The message-size indexes (the last part of a 12.*/13.* case id) a `--quick` run keeps.
const QUICK_SIZES: [u32; 7] = [1, 2, 3, 4, 5, 6, 11];

/// Which cases a run covers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Selection {
    All,
    Quick,
}

impl Selection {
    /// The case patterns for the spec file.
    fn patterns(self) -> Vec<String> {
        match self {
            Self::All => vec!["*".to_string()],
            Self::Quick => (1..=11)
                .map(|group| format!("{group}.*"))
                .chain([12, 13].iter().flat_map(|group| {
                    // The suite turns a pattern into a regular expression and matches
                    // it at the start of the id only, so `12.*.1` would also take
                    // 12.*.10–18 (the slow ones): `$` anchors the end.
                    QUICK_SIZES
                        .iter()
                        .map(move |size| format!("{group}.*.{size}$"))
                }))
                .collect(),
        }
    }

    fn covers(self, id: &CaseId) -> bool {
        match self {
            Self::All => true,
            Self::Quick => {
                id.group() <= 11 || id.0.last().is_some_and(|size| QUICK_SIZES.contains(size))
            }
        }
    }
}

pub(crate) fn autobahn(args: &[String]) -> Result<(), String> {
    let mut update = false;
    let mut selection = Selection::All;
    let mut roles = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--update" => update = true,
            "--quick" => selection = Selection::Quick,
            "--client" => roles.push(Role::Client),
            "--server" => roles.push(Role::Server),
            other => {
                return Err(format!(
                    "autobahn takes --client, --server, --quick and --update, not {other:?}"
                ));
            }
        }
    }
    if update && selection == Selection::Quick {
        return Err("--update rewrites every verdict, so it needs a full run, not --quick".into());
    }
    if roles.is_empty() {
        roles = vec![Role::Client, Role::Server];
    }
    let root = root();
    run(&root, "bash", &["autobahn/install.sh"], &[])?;
    for role in roles {
        let verdicts = match role {
            Role::Client => client_run(&root, selection)?,
            Role::Server => server_run(&root, selection)?,
        };
        gate(&root, role, &verdicts, update, selection)?;
    }
    Ok(())
}

/// A free loopback port.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A fresh report directory for `role`.
fn reports_dir(dir: &std::path::Path, role: Role) -> Result<std::path::PathBuf, String> {
    let reports = dir.join(format!("reports-{}", role.agent()));
    let _ = fs::remove_dir_all(&reports);
    fs::create_dir_all(&reports)
        .map_err(|e| format!("cannot create {}: {e}", reports.display()))?;
    Ok(reports)
}

/// Waits until `log` shows a line starting with `ready`, or `child` dies, for up to 60 s.
fn wait_ready(
    child: &mut std::process::Child,
    log: &std::path::Path,
    ready: &str,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let text = fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with(ready)) {
            eprintln!("    {line} (log: {})", log.display());
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited with {status}", log.display()));
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            return Err(format!("not ready in 60 s; see {}", log.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Server role: the `server` example under Autobahn's fuzzing client.
fn server_run(root: &std::path::Path, selection: Selection) -> Result<Verdicts, String> {
    let dir = root.join("target").join("autobahn");
    let reports = reports_dir(&dir, Role::Server)?;
    run(
        root,
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "ws-deflate",
            "--example",
            "server",
        ],
        &[],
    )?;
    let port = free_port()?;
    let log_path = dir.join("server-example.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("cannot create the log: {e}"))?;
    let binary = root
        .join("target")
        .join("release")
        .join("examples")
        .join("server");
    eprintln!("\n==> starting the server example on 127.0.0.1:{port}");
    let mut server = Command::new(&binary)
        .args(["--port", &port.to_string()])
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    wait_ready(&mut server, &log_path, "listening")?;
    let spec = dir.join("fuzzingclient.json");
    let spec_text = serde_json::json!({
        "outdir": reports.display().to_string(),
        "servers": [{ "agent": Role::Server.agent(), "url": format!("ws://127.0.0.1:{port}") }],
        "cases": selection.patterns(),
        "exclude-cases": [],
        "exclude-agent-cases": {},
    });
    fs::write(&spec, spec_text.to_string()).map_err(|e| format!("cannot write spec: {e}"))?;
    let wstest = dir.join("home").join("bin").join("wstest");
    let spec = spec.display().to_string();
    let result = run(
        root,
        &wstest.display().to_string(),
        &["-m", "fuzzingclient", "-s", &spec],
        &[],
    );
    let _ = server.kill();
    let _ = server.wait();
    result?;
    read_report(&reports.join("index.json"), Role::Server.agent())
}

/// Client role: ws-client's `autobahn_client` example against Autobahn's fuzzing server.
fn client_run(root: &std::path::Path, selection: Selection) -> Result<Verdicts, String> {
    let dir = root.join("target").join("autobahn");
    let python = dir.join("home").join("bin").join("python2");
    let reports = reports_dir(&dir, Role::Client)?;
    let port = free_port()?;
    let spec = dir.join("spec.json");
    let spec_text = serde_json::json!({
        "url": format!("ws://127.0.0.1:{port}"),
        "outdir": reports.display().to_string(),
        "cases": selection.patterns(),
        "exclude-cases": [],
        "exclude-agent-cases": {},
    });
    fs::write(&spec, spec_text.to_string()).map_err(|e| format!("cannot write spec: {e}"))?;

    run(
        root,
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
    wait_ready(&mut server, &log_path, "ready:")?;

    let url = format!("ws://127.0.0.1:{port}");
    let client = root
        .join("target")
        .join("release")
        .join("examples")
        .join("autobahn_client");
    let client = client.display().to_string();
    let result = run(
        root,
        &client,
        &[],
        &[
            ("AUTOBAHN_URL", &url),
            ("AUTOBAHN_AGENT", Role::Client.agent()),
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    result?;
    read_report(&reports.join("index.json"), Role::Client.agent())
}

/// Applies the rules and compares with (or, with `update`, rewrites) the committed verdicts.
fn gate(
    root: &std::path::Path,
    role: Role,
    verdicts: &Verdicts,
    update: bool,
    selection: Selection,
) -> Result<(), String> {
    let mut problems = rule_violations(verdicts);
    let expected_path = root.join("autobahn").join(role.expected_file());
    if update {
        fs::write(&expected_path, render(verdicts))
            .map_err(|e| format!("cannot write {}: {e}", expected_path.display()))?;
        eprintln!("wrote {}", expected_path.display());
    } else {
        let text = fs::read_to_string(&expected_path)
            .map_err(|e| format!("cannot read {}: {e}", expected_path.display()))?;
        let mut expected = parse_verdicts(&text)?;
        expected.retain(|id, _| selection.covers(id));
        problems.extend(
            verdicts
                .keys()
                .filter(|id| !selection.covers(id))
                .map(|id| format!("case {id}: ran but the selection does not include it")),
        );
        problems.extend(differences(&expected, verdicts, role.expected_file()));
    }
    let count = |group: fn(u32) -> bool, verdict: &str| {
        verdicts
            .iter()
            .filter(|(id, v)| group(id.group()) && v.0 == verdict)
            .count()
    };
    let core = |g: u32| g <= 11;
    let compression = |g: u32| g >= 12;
    eprintln!(
        "autobahn ({}): {} cases; 1-11: OK {}, INFORMATIONAL {}, NON-STRICT {}, FAILED {}; \
         12-13 (compression): OK {}, NON-STRICT {}, FAILED {}, UNIMPLEMENTED {}",
        role.agent(),
        verdicts.len(),
        count(core, "OK"),
        count(core, "INFORMATIONAL"),
        count(core, "NON-STRICT"),
        count(core, "FAILED"),
        count(compression, "OK"),
        count(compression, "NON-STRICT"),
        count(compression, "FAILED"),
        count(compression, "UNIMPLEMENTED"),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "autobahn ({}): {} problem(s):\n  {}",
            role.agent(),
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn read_report(path: &std::path::Path, agent: &str) -> Result<Verdicts, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let cases = json
        .get(agent)
        .ok_or_else(|| format!("{} has no results for agent {agent}", path.display()))?;
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
            // Every case, compression (12.*, 13.*) included.
            let allowed: &[&str] = &["OK", "INFORMATIONAL"];
            (!allowed.contains(&behavior.as_str()))
                .then(|| format!("case {id}: {behavior}, must be one of {allowed:?}"))
        })
        .collect()
}

fn differences(expected: &Verdicts, actual: &Verdicts, file: &str) -> Vec<String> {
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
            "case {id}: ran but is not in {file} (run with --update)"
        ));
    }
    out
}
