//! Project automation, run as `cargo xtask <task>`.
//!
//! | task | what it does |
//! |---|---|
//! | `ci` | everything a change must pass: fmt, clippy (both workspaces), feature sets, packaging, tests, the full-duplex stress gate, examples, interop, docs, the no_std build, two rows of the loopback comparison (one over TLS), Autobahn (`--quick`), a fuzz smoke run |
//! | `stress` | the stress gate alone: split halves under load over TCP and TLS for `STRESS_SECONDS` (20) |
//! | `examples` | runs every ws-client and ws-app example that needs no outside server |
//! | `features` | `cargo check` of ws-client with each feature set that matters (no TLS, each provider, each root source) |
//! | `package` | `cargo package` of the published crates, in dependency order |
//! | `fuzz [--smoke] [TARGET] [--seconds N]` | runs cargo-fuzz targets (installs cargo-fuzz when missing) |
//! | `bench [ARGS]` | runs the criterion benchmarks (`ARGS` go to criterion, e.g. a filter) |
//! | `bench --compare [--reps N] [--verbose] [FILTER...]` | the loopback comparison against raw TCP, tungstenite and fastwebsockets (`benches/compare`), ws-client built as a user's `Cargo.toml` builds it |
//! | `nostd` | builds `ws-frame` without `std` and without `alloc` |
//! | `autobahn [--client\|--server] [--quick] [--update]` | installs Autobahn\|Testsuite, runs its cases against `ws-client` (client role) and the `ws-deflate` server example (server role), compares with `autobahn/expected-results*.json`; `--quick` (in `ci`) skips the large compression cases |
//! | `interop` | installs real proxies (tinyproxy, dante, microsocks, pproxy) and runs the ignored interop tests against them |

mod autobahn;
mod interop;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The fuzz targets, in the order the smoke run takes them.
const FUZZ_TARGETS: &[&str] = &[
    "frame_header",
    "decoder_chunked",
    "session",
    "handshake_response",
    "connect_response",
    "server_request",
    "url",
    "socks_reply",
    "proxy_exchange",
    "client_io",
    "session_deflate",
    "session_fast_path",
];

/// Seconds per target in a smoke run.
const SMOKE_SECONDS: u32 = 10;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("fuzz") => fuzz_command(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("nostd") => nostd(),
        Some("miri") => miri(),
        Some("stress") => stress(),
        Some("features") => features(),
        Some("examples") => examples(),
        Some("package") => package(),
        Some("interop") => interop::interop(),
        Some("autobahn") => autobahn::autobahn(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{}", usage());
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{}", usage())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> &'static str {
    "usage: cargo xtask <task>\n\
     \n  ci                                   fmt, clippy, features, package, test, stress, examples, interop, doc, nostd, miri, two compare rows (one over TLS), autobahn --quick, fuzz smoke\
     \n  stress                               split halves under load, TCP and TLS, STRESS_SECONDS (20) in release\
     \n  examples                             run the ws-client and ws-app examples (each on its own loopback server)\
     \n  features                             check ws-client with each feature set (no TLS, ring, aws-lc-rs, roots)\
     \n  package                              cargo package the published crates\
     \n  fuzz [--smoke] [TARGET] [--seconds N] run fuzz targets (all when no TARGET)\
     \n  bench [CRITERION ARGS]               run the criterion benchmarks\
     \n  bench --compare [--reps N] [--verbose] [FILTER]\
     \n                                       loopback comparison: raw TCP, tungstenite, fastwebsockets\
     \n  nostd                                build ws-frame without std and alloc\
     \n  miri                                 ws-frame's unsafe code (the `fenced` module) under Miri, if nightly has it\
     \n  interop                              real proxies on loopback + the ignored interop tests\
     \n  autobahn [--client|--server] [--quick] [--update]\
     \n                                       Autobahn|Testsuite, both roles, diffed with autobahn/expected-results*.json"
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command in `dir`, echoing it; an error names the command and its exit status.
fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    eprintln!("\n==> {shown}");
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    eprintln!(
        "<== {shown}: {status} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed: {status}"))
    }
}

fn ci() -> Result<(), String> {
    let root = root();
    let started = Instant::now();
    run(&root, "cargo", &["fmt", "--all", "--check"], &[])?;
    run(
        &root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // The comparison harness is a workspace of its own: the same checks, and one short row.
    let compare_dir = root.join("benches").join("compare");
    run(&compare_dir, "cargo", &["fmt", "--all", "--check"], &[])?;
    run(
        &compare_dir,
        "cargo",
        &["clippy", "--all-targets", "--", "-D", "warnings"],
        &[],
    )?;
    features()?;
    package()?;
    run(&root, "cargo", &["test", "--workspace"], &[])?;
    stress()?;
    examples()?;
    interop::interop()?;
    run(
        &root,
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    nostd()?;
    miri()?;
    compare(&[
        "--reps".to_string(),
        "1".to_string(),
        "echo 1 KiB".to_string(),
        "recv-tls 16 KiB".to_string(),
    ])?;
    autobahn::autobahn(&["--quick".to_string()])?;
    fuzz(&FuzzOptions {
        smoke: true,
        target: None,
        seconds: SMOKE_SECONDS,
    })?;
    eprintln!(
        "\nxtask ci: all steps passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Examples that talk to a server they start themselves (or a local stand-in) and end on
/// their own: `(crate, example)`.
const EXAMPLES: &[(&str, &str)] = &[
    ("ws-client", "quickstart"),
    ("ws-client", "echo_once"),
    ("ws-client", "headers"),
    ("ws-client", "timeout"),
    ("ws-client", "ping_pong"),
    ("ws-client", "close_codes"),
    ("ws-client", "mask_key"),
    ("ws-client", "custom_opcode"),
    ("ws-client", "unix_socket"),
    ("ws-app", "basic"),
    ("ws-app", "common_headers"),
    ("ws-app", "custom_headers"),
    ("ws-app", "subprotocols"),
    ("ws-app", "suppress_origin"),
    ("ws-app", "on_error_timeout"),
    ("ws-app", "proxy"),
    ("ws-app", "keepalive"),
    ("ws-app", "skip_utf8"),
    ("ws-app", "close_code"),
    ("ws-app", "custom_mask_key"),
    ("ws-app", "on_open_thread"),
    ("ws-app", "reconnect"),
    ("ws-app", "many_apps"),
];

/// Runs every example that needs no outside server; each must succeed within 60 s.
fn examples() -> Result<(), String> {
    let root = root();
    run(
        &root,
        "cargo",
        &["build", "--examples", "-p", "ws-client", "-p", "ws-app"],
        &[],
    )?;
    for (package, example) in EXAMPLES {
        let binary = root.join("target/debug/examples").join(example);
        run(
            &root,
            "cargo",
            &["build", "-q", "-p", package, "--example", example],
            &[],
        )?;
        let mut child = Command::new(&binary)
            .current_dir(&root)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let started = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break status,
                None if started.elapsed() > std::time::Duration::from_secs(60) => {
                    let _ = child.kill();
                    return Err(format!(
                        "example {package}/{example} still running after 60 s"
                    ));
                }
                None => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        };
        if !status.success() {
            return Err(format!("example {package}/{example} failed: {status}"));
        }
        eprintln!(
            "example {package}/{example}: ok in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The feature combinations users build: no TLS at all, each feature alone (TLS without a
/// provider feature uses the process-wide rustls provider), each provider with each source of
/// roots.
const FEATURE_SETS: &[&str] = &[
    "",
    "tls",
    "native-roots",
    "webpki-roots",
    "ring",
    "aws-lc-rs",
    "ring,native-roots",
    "ring,webpki-roots",
    "aws-lc-rs,native-roots",
    "aws-lc-rs,webpki-roots",
];

/// Checks ws-client and ws-app (and through them ws-transport) with each feature set that
/// matters.
fn features() -> Result<(), String> {
    for set in FEATURE_SETS {
        let mut args = vec![
            "check",
            "-p",
            "ws-client",
            "-p",
            "ws-app",
            "--no-default-features",
        ];
        if !set.is_empty() {
            args.extend(["--features", set]);
        }
        run(&root(), "cargo", &args, &[])?;
    }
    Ok(())
}

/// The crates `package` publishes, in dependency order.
const PUBLISHED: &[&str] = &[
    "ws-frame",
    "ws-handshake",
    "ws-deflate",
    "ws-transport",
    "ws-client",
    "ws-app",
    "wsdump",
];

/// Packages the published crates in dependency order, building each from its tarball.
///
/// Cargo verifies a crate against the others through a local registry in `target/package`,
/// and unpacks those into `$CARGO_HOME/registry/src/-<hash>/` keyed by that registry's path,
/// which never changes: an unpacked copy from an earlier run would be reused as it was. Those
/// copies (only ours, only in local registries, whose directories start with `-`) are
/// removed first.
fn package() -> Result<(), String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(src) = cargo_home.map(|h| h.join("registry").join("src")) {
        let local = std::fs::read_dir(&src)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('-'));
        for registry in local {
            for name in PUBLISHED {
                let stale = registry
                    .path()
                    .join(format!("{name}-{}", env!("CARGO_PKG_VERSION")));
                if stale.is_dir() {
                    let _ = std::fs::remove_dir_all(&stale);
                }
            }
        }
    }
    run(
        &root(),
        "cargo",
        &[
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "ws-benches",
            "--exclude",
            "test-support",
        ],
        &[],
    )
}

/// The full-duplex stress gate: split halves over TCP and TLS, 8 senders and a receiver,
/// 100,000-message rounds for at least `STRESS_SECONDS` (20), in release as users build it.
fn stress() -> Result<(), String> {
    let seconds = std::env::var("STRESS_SECONDS").unwrap_or_else(|_| "20".into());
    run(
        &root(),
        "cargo",
        &[
            "test",
            "--release",
            "-p",
            "ws-client",
            "--test",
            "stress",
            "--",
            "--ignored",
            "--nocapture",
        ],
        &[("STRESS_SECONDS", &seconds)],
    )
}

/// Runs the tests of ws-frame's `fenced` module, ws-frame's only `unsafe` code, under
/// Miri, which reports any read of memory that was never written. Miri needs a nightly
/// toolchain with its component (`rustup toolchain install nightly --component miri`); where
/// there is none this says so and goes on, since CI machines may only have stable.
fn miri() -> Result<(), String> {
    let available = Command::new("cargo")
        .args(["+nightly", "miri", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !available {
        eprintln!(
            "\n==> miri: SKIPPED, no nightly toolchain with miri here \
             (rustup toolchain install nightly --component miri)"
        );
        return Ok(());
    }
    run(
        &root(),
        "cargo",
        &[
            "+nightly", "miri", "test", "-p", "ws-frame", "--lib", "fenced",
        ],
        &[],
    )
}

fn nostd() -> Result<(), String> {
    let root = root();
    // Code only the `alloc` build uses must not be dead in the other one.
    let deny = [("RUSTFLAGS", "-D warnings")];
    run(
        &root,
        "cargo",
        &["build", "-p", "ws-frame", "--no-default-features"],
        &deny,
    )?;
    run(
        &root,
        "cargo",
        &[
            "build",
            "-p",
            "ws-frame",
            "--no-default-features",
            "--features",
            "alloc",
        ],
        &deny,
    )
}

fn bench(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("--compare") {
        return compare(&args[1..]);
    }
    let mut cargo_args = vec!["bench", "-p", "ws-benches", "--"];
    cargo_args.extend(args.iter().map(String::as_str));
    run(&root(), "cargo", &cargo_args, &[])
}

/// The loopback comparison. `benches/compare` is a workspace of its own, and ws-client's
/// client process is built in a cargo invocation of its own, so its features are exactly a
/// user's: nothing from the peers or from the main workspace is unified in.
fn compare(args: &[String]) -> Result<(), String> {
    let dir = root().join("benches").join("compare");
    for package in ["compare-ours", "compare-driver"] {
        run(&dir, "cargo", &["build", "--release", "-p", package], &[])?;
    }
    let release = dir.join("target").join("release");
    let ours = release.join("compare-ours").display().to_string();
    let mut driver_args = vec!["--ours", ours.as_str()];
    driver_args.extend(args.iter().map(String::as_str));
    run(
        &dir,
        &release.join("compare").display().to_string(),
        &driver_args,
        &[],
    )
}

struct FuzzOptions<'a> {
    smoke: bool,
    target: Option<&'a str>,
    seconds: u32,
}

fn fuzz_command(args: &[String]) -> Result<(), String> {
    let mut options = FuzzOptions {
        smoke: false,
        target: None,
        seconds: 60,
    };
    let mut seconds_given = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--seconds" => {
                let value = iter.next().ok_or("--seconds needs a number")?;
                options.seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds needs a number, got `{value}`"))?;
                seconds_given = true;
            }
            target if FUZZ_TARGETS.contains(&target) => options.target = Some(target),
            other => {
                return Err(format!(
                    "unknown fuzz argument `{other}`; targets are {}",
                    FUZZ_TARGETS.join(", ")
                ));
            }
        }
    }
    if options.smoke && !seconds_given {
        options.seconds = SMOKE_SECONDS;
    }
    fuzz(&options)
}

/// Makes sure `cargo fuzz` runs; installs it when missing. `Ok(false)` when it cannot be had.
fn ensure_cargo_fuzz() -> Result<bool, String> {
    let present = || {
        Command::new("cargo")
            .args(["fuzz", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present() {
        return Ok(true);
    }
    eprintln!("cargo-fuzz is missing; installing it with `cargo install cargo-fuzz --locked`");
    if run(
        &root(),
        "cargo",
        &["install", "cargo-fuzz", "--locked"],
        &[],
    )
    .is_err()
        || !present()
    {
        return Ok(false);
    }
    Ok(true)
}

fn fuzz(options: &FuzzOptions<'_>) -> Result<(), String> {
    if !ensure_cargo_fuzz()? {
        let message = "cargo-fuzz could not be installed (see the output above)";
        if options.smoke {
            eprintln!("xtask: SKIPPING the fuzz smoke run: {message}");
            return Ok(());
        }
        return Err(message.to_string());
    }
    let fuzz_dir = root().join("fuzz");
    // cargo-fuzz needs nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
    let env = [("RUSTC_BOOTSTRAP", "1")];
    run(&fuzz_dir, "cargo", &["fuzz", "build", "-O"], &env)?;
    let targets: Vec<&str> = options
        .target
        .map_or_else(|| FUZZ_TARGETS.to_vec(), |t| vec![t]);
    for target in targets {
        // Run on a copy of the committed seeds so the fuzzer's finds never dirty the tree.
        let corpus = fuzz_dir.join("corpus-run").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        let seeds = fuzz_dir.join("seeds").join(target);
        for entry in std::fs::read_dir(&seeds).map_err(|e| format!("{}: {e}", seeds.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, corpus.join(name))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        let corpus = corpus.to_string_lossy().into_owned();
        let time = format!("-max_total_time={}", options.seconds);
        run(
            &fuzz_dir,
            "cargo",
            &[
                "fuzz",
                "run",
                "-O",
                target,
                &corpus,
                "--",
                &time,
                "-rss_limit_mb=2048",
            ],
            &env,
        )?;
    }
    Ok(())
}
