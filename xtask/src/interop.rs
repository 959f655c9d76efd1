//! `cargo xtask interop`: real third-party proxies on loopback, and the `#[ignore]`d interop
//! tests run against them.
//!
//! Peers: Debian's `tinyproxy` (HTTP CONNECT, with and without Basic auth), `dante-server`
//! (SOCKS4 and SOCKS5/5h without auth; it refuses SOCKS4a), `microsocks` (SOCKS5/5h with
//! user/password), Debian's Perl `IO::Socket::Socks` in server mode (SOCKS4 and SOCKS4a with a
//! user id; `xtask/interop/socks4_server.pl` only relays), and PyPI's `pproxy` in a venv
//! (SOCKS4, SOCKS5/5h with user/password). For ws-client: PyPI's `websockets` echo server,
//! plain and over TLS (`xtask/interop/websockets_echo.py`, certificate made with openssl). Each is started on a free port with a config written under
//! `target/interop/`; the tests learn the addresses from `WS_INTEROP_*` variables.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run};

/// Credentials the authenticating peers are configured with (the SOCKS4 user id is `USER`).
const USER: &str = "wsuser";
const PASSWORD: &str = "wspass";

/// Debian packages and the program each provides.
const DEBIAN_PEERS: &[(&str, &str)] = &[
    ("tinyproxy", "tinyproxy"),
    ("dante-server", "danted"),
    ("microsocks", "microsocks"),
    ("libio-socket-socks-perl", "IO/Socket/Socks.pm"),
];

/// Children killed when dropped, so a failing test leaves no proxy behind.
struct Peers(Vec<(String, Child)>);

impl Drop for Peers {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn interop() -> Result<(), String> {
    let root = root();
    let dir = root.join("target").join("interop");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    install_debian()?;
    let pproxy = install_pproxy(&dir)?;

    let mut peers = Peers(Vec::new());
    let mut env: Vec<(String, String)> = Vec::new();

    let http = free_port()?;
    let http_auth = free_port()?;
    for (port, auth) in [(http, false), (http_auth, true)] {
        let conf = dir.join(format!("tinyproxy-{port}.conf"));
        let mut text = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nLogLevel Info\nMaxClients 20\n"
        );
        if auth {
            text.push_str(&format!("BasicAuth {USER} {PASSWORD}\n"));
        }
        write(&conf, &text)?;
        let conf = conf.display().to_string();
        start(
            &mut peers,
            &dir,
            "tinyproxy",
            "tinyproxy",
            &["-d", "-c", &conf],
            port,
        )?;
    }
    env.push(("WS_INTEROP_HTTP".into(), format!("127.0.0.1:{http}")));
    env.push((
        "WS_INTEROP_HTTP_AUTH".into(),
        format!("127.0.0.1:{http_auth}"),
    ));

    let dante = free_port()?;
    let conf = dir.join("danted.conf");
    write(
        &conf,
        &format!(
            "logoutput: stderr\ninternal: 127.0.0.1 port = {dante}\nexternal: 127.0.0.1\n\
             clientmethod: none\nsocksmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 protocol: tcp }}\n"
        ),
    )?;
    let conf = conf.display().to_string();
    start(&mut peers, &dir, "dante", "danted", &["-f", &conf], dante)?;
    env.push(("WS_INTEROP_DANTE".into(), format!("127.0.0.1:{dante}")));

    let micro = free_port()?;
    let port = micro.to_string();
    let args = ["-i", "127.0.0.1", "-p", &port, "-u", USER, "-P", PASSWORD];
    start(&mut peers, &dir, "microsocks", "microsocks", &args, micro)?;
    env.push(("WS_INTEROP_MICROSOCKS".into(), format!("127.0.0.1:{micro}")));

    // pproxy reads commands from stdin and fails when it is not a pipe or a terminal.
    let pp_socks5 = free_port()?;
    let pp_socks4 = free_port()?;
    let listen5 = format!("socks5://127.0.0.1:{pp_socks5}#{USER}:{PASSWORD}");
    let listen4 = format!("socks4://127.0.0.1:{pp_socks4}");
    let pproxy = pproxy.display().to_string();
    start(
        &mut peers,
        &dir,
        "pproxy-socks5",
        &pproxy,
        &["-l", &listen5],
        pp_socks5,
    )?;
    start(
        &mut peers,
        &dir,
        "pproxy-socks4",
        &pproxy,
        &["-l", &listen4],
        pp_socks4,
    )?;
    env.push((
        "WS_INTEROP_PPROXY_SOCKS5".into(),
        format!("127.0.0.1:{pp_socks5}"),
    ));
    env.push((
        "WS_INTEROP_PPROXY_SOCKS4".into(),
        format!("127.0.0.1:{pp_socks4}"),
    ));
    let socks4 = free_port()?;
    let script = root
        .join("xtask")
        .join("interop")
        .join("socks4_server.pl")
        .display()
        .to_string();
    let port = socks4.to_string();
    start(
        &mut peers,
        &dir,
        "perl-socks4",
        "perl",
        &[&script, &port, USER],
        socks4,
    )?;
    env.push((
        "WS_INTEROP_PERL_SOCKS4".into(),
        format!("127.0.0.1:{socks4}"),
    ));
    env.push(("WS_INTEROP_USER".into(), USER.into()));
    env.push(("WS_INTEROP_PASSWORD".into(), PASSWORD.into()));

    // Python's `websockets` as a WebSocket peer, plain and over TLS with a CA and a
    // localhost certificate made here with openssl.
    let path = |name: &str| dir.join(name).display().to_string();
    let (ca, ca_key, csr) = (
        path("interop-ca.pem"),
        path("interop-ca.key"),
        path("localhost.csr"),
    );
    let (cert_s, key_s) = (path("localhost.pem"), path("localhost.key"));
    let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ws interop CA",
            "-keyout",
            &ca_key,
            "-out",
            &ca,
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            san,
            "-keyout",
            &key_s,
            "-out",
            &csr,
        ],
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-days",
            "2",
            "-copy_extensions",
            "copyall",
            "-out",
            &cert_s,
        ],
    ];
    for args in steps {
        run(&dir, "openssl", args, &[])
            .map_err(|e| format!("cannot make the test certificates with openssl: {e}"))?;
    }
    let (ws_port, wss_port) = (free_port()?, free_port()?);
    let python = dir
        .join("venv")
        .join("bin")
        .join("python")
        .display()
        .to_string();
    let script = root
        .join("xtask")
        .join("interop")
        .join("websockets_echo.py");
    let script = script.display().to_string();
    let ports = (ws_port.to_string(), wss_port.to_string());
    let args = [script.as_str(), &ports.0, &ports.1, &cert_s, &key_s];
    start(&mut peers, &dir, "websockets", &python, &args, wss_port)?;
    env.push((
        "WS_INTEROP_WEBSOCKETS".into(),
        format!("127.0.0.1:{ws_port}"),
    ));
    env.push((
        "WS_INTEROP_WEBSOCKETS_TLS".into(),
        format!("localhost:{wss_port}"),
    ));
    env.push(("WS_INTEROP_WEBSOCKETS_CA".into(), ca.clone()));

    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let test_args = [
        "test",
        "-p",
        "ws-transport",
        "-p",
        "ws-client",
        "--test",
        "interop",
        "--",
        "--ignored",
        "--test-threads=1",
    ];
    let result = run(&root, "cargo", &test_args, &env_refs);
    if result.is_err() {
        eprintln!("peer logs are in {}", dir.display());
    }
    drop(peers);
    result
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

fn have(program: &str) -> bool {
    if program.ends_with(".pm") {
        let module = program.trim_end_matches(".pm").replace('/', "::");
        return Command::new("perl")
            .args([&format!("-M{module}"), "-e", "1"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    }
    ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]
        .iter()
        .any(|dir| Path::new(dir).join(program).exists())
}

/// Installs the Debian peers that are missing, with apt-get (as root, or through sudo).
fn install_debian() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN_PEERS
        .iter()
        .filter(|(_, program)| !have(program))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let (program, prefix): (&str, Vec<&str>) = if root_user {
        ("apt-get", vec![])
    } else {
        ("sudo", vec!["apt-get"])
    };
    let apt = |args: &[&str]| {
        let mut all = prefix.clone();
        all.extend_from_slice(args);
        run(
            Path::new("."),
            program,
            &all,
            &[("DEBIAN_FRONTEND", "noninteractive")],
        )
    };
    let fail = |e: String| {
        format!(
            "cannot install the interop peers {} with apt-get ({e}); install them by hand \
             (Debian packages) and run again",
            missing.join(", ")
        )
    };
    apt(&["update", "-qq"]).map_err(fail)?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(&missing);
    apt(&args).map_err(fail)?;
    for (package, program) in DEBIAN_PEERS {
        if !have(program) {
            return Err(format!(
                "package {package} installed but {program} is not on the system"
            ));
        }
    }
    // The packages' own services are not wanted: only the instances started here.
    for service in ["tinyproxy", "danted"] {
        let _ = Command::new("service")
            .args([service, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    Ok(())
}

/// Creates `target/interop/venv` with pproxy from PyPI, once.
fn install_pproxy(dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let pproxy = venv.join("bin").join("pproxy");
    if pproxy.exists() && venv.join("bin").join("websocket").exists() {
        return Ok(pproxy);
    }
    let venv_str = venv.display().to_string();
    let fail = |e: String| {
        format!(
            "cannot install pproxy from PyPI into {venv_str} ({e}); it needs python3 with venv and pip"
        )
    };
    run(dir, "python3", &["-m", "venv", &venv_str], &[]).map_err(fail)?;
    let pip = venv.join("bin").join("pip").display().to_string();
    run(
        dir,
        &pip,
        &["install", "-q", "pproxy==2.7.9", "websockets==15.0.1"],
        &[],
    )
    .map_err(fail)?;
    Ok(pproxy)
}

/// Starts a peer with its output in `dir/NAME.log` and waits until its port accepts.
fn start(
    peers: &mut Peers,
    dir: &Path,
    name: &str,
    program: &str,
    args: &[&str],
    port: u16,
) -> Result<(), String> {
    let log_path = dir.join(format!("{name}.log"));
    let log = fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let err_log = log.try_clone().map_err(|e| e.to_string())?;
    eprintln!(
        "==> starting {name}: {program} {} (port {port})",
        args.join(" ")
    );
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| format!("cannot start {name} ({program}): {e}"))?;
    peers.0.push((name.to_string(), child));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some((_, child)) = peers.0.last_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "{name} exited with {status} before listening:\n{log}"
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{name} did not listen on 127.0.0.1:{port} within 15 s; see {}",
        log_path.display()
    ))
}
