//! `wsdump`: talk to a WebSocket server from a terminal or a script (Python websocket-client's
//! `wsdump`, same flags, same output). See the library documentation for the formats.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use ws_client::{
    CloseCode, Config, Error, ErrorKind, Message, OpCode, Proxy, ProxyConfig, TlsConfig,
    TransportError,
};
use wsdump::{Frame, Output, format_frame, header_lines, interactive_line, parse_verbose};

/// WebSocket Simple Dump Tool
#[derive(Parser, Debug)]
#[command(name = "wsdump", version, about = "WebSocket Simple Dump Tool")]
struct Args {
    /// websocket url. ex. ws://echo.websocket.events/
    #[arg(value_name = "ws_url")]
    url: String,

    /// proxy url. ex. http://127.0.0.1:8080 (also socks4://, socks4a://, socks5://,
    /// socks5h://; user:password@ for credentials). Without it the environment's proxies
    /// apply (http_proxy, https_proxy, all_proxy, no_proxy).
    #[arg(short, long)]
    proxy: Option<String>,

    /// set verbose mode. If set to 1, show opcode. If set to 2, enable to trace websocket
    /// module (-v, -v 2 or -vv)
    #[arg(
        short,
        long,
        value_name = "VERBOSE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1",
        value_parser = parse_verbose
    )]
    verbose: Option<u8>,

    /// Ignore invalid SSL cert
    #[arg(short, long)]
    nocert: bool,

    /// raw output
    #[arg(short, long)]
    raw: bool,

    /// Set subprotocols
    #[arg(short, long, num_args = 0.., value_name = "SUBPROTOCOLS")]
    subprotocols: Option<Vec<String>>,

    /// Set origin
    #[arg(short, long)]
    origin: Option<String>,

    /// wait time(second) after 'EOF' received.
    #[arg(long = "eof-wait", value_name = "EOF_WAIT", default_value_t = 0.0)]
    eof_wait: f64,

    /// Send initial text
    #[arg(short, long)]
    text: Option<String>,

    /// Print timings in seconds
    #[arg(long)]
    timings: bool,

    /// Set custom headers. Use ',' as separator
    #[arg(long)]
    headers: Option<String>,

    /// Trust the CA certificates in this PEM file (instead of the system's)
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Option<PathBuf>,

    /// Present this client certificate (PEM; it may hold the key too)
    #[arg(long, value_name = "PEM")]
    cert: Option<PathBuf>,

    /// The client certificate's private key (PEM)
    #[arg(long, value_name = "PEM", requires = "cert")]
    key: Option<PathBuf>,

    /// Seconds allowed for connecting and for each send (default: 10 s to connect and 10 s
    /// for the upgrade, no limit on sends)
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,

    /// Send stdin lines as binary messages instead of text
    #[arg(long)]
    binary: bool,

    /// Offer permessage-deflate compression (RFC 7692)
    #[arg(long)]
    compress: bool,
}

/// Python's `-v` takes `-v`, `-v 2` and `-vv`; clap's optional values need `=`, so the
/// Python forms are rewritten to `--verbose=N` first.
fn python_verbose_forms(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        let is_flag = text == "-v" || text == "--verbose";
        let cluster =
            text.len() > 2 && text.starts_with('-') && text[1..].chars().all(|c| c == 'v');
        if is_flag {
            let number = args
                .peek()
                .and_then(|next| next.to_str())
                .filter(|next| next.parse::<u8>().is_ok())
                .map(str::to_string);
            match number {
                Some(n) => {
                    args.next();
                    out.push(format!("--verbose={n}").into());
                }
                None => out.push("--verbose=1".into()),
            }
        } else if cluster {
            out.push(format!("--verbose={}", text.len() - 1).into());
        } else {
            out.push(arg);
        }
    }
    out
}

/// Writes the library's trace to stderr (`-v 2`, Python's `enableTrace(True)`); credentials
/// are redacted by the library.
struct Trace;

impl log::Log for Trace {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{}", record.args());
    }

    fn flush(&self) {}
}

fn config(args: &Args) -> Result<Config, Error> {
    let mut builder = Config::builder().fire_cont_frame(true);
    if let Some(proxy) = &args.proxy {
        let proxy =
            Proxy::parse(proxy).map_err(|e| Error::InvalidConfig(format!("-p {proxy}: {e}")))?;
        builder = builder.proxy(ProxyConfig::Explicit(proxy));
    }
    if let Some(origin) = &args.origin {
        builder = builder.origin(origin);
    }
    if let Some(protocols) = &args.subprotocols {
        builder = builder.subprotocols(protocols.iter().cloned());
    }
    if let Some(headers) = &args.headers {
        for line in header_lines(headers) {
            builder = builder.header_line(&line);
        }
    }
    if let Some(seconds) = args.timeout {
        let timeout = Duration::try_from_secs_f64(seconds)
            .map_err(|_| Error::InvalidConfig(format!("--timeout {seconds}: not a duration")))?;
        builder = builder.timeout(Some(timeout));
    }
    let mut tls = TlsConfig::default();
    if let Some(ca) = &args.ca_file {
        tls = tls.ca_file(ca);
    }
    match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => tls = tls.client_cert(cert, key),
        (Some(cert), None) => tls = tls.client_cert_file(cert),
        _ => {}
    }
    if args.nocert {
        tls = tls
            .dangerous()
            .disable_certificate_verification()
            .dangerous()
            .disable_hostname_verification();
    }
    if args.compress {
        builder = builder.compression(ws_client::DeflateConfig::default());
    }
    builder.tls(tls).build()
}

/// What a received message shows as.
fn frame_of(message: Message) -> Frame {
    match message {
        Message::Text(text) => Frame::Text(text),
        Message::Fragment {
            opcode: OpCode::Text,
            data,
            ..
        } => Frame::Text(String::from_utf8_lossy(&data).into_owned()),
        Message::Fragment {
            opcode: OpCode::Continuation,
            data,
            ..
        } => Frame::Continuation(data),
        Message::Fragment { data, .. } | Message::Binary(data) | Message::UnvalidatedText(data) => {
            Frame::Binary(data)
        }
        Message::Ping(payload) => Frame::Ping(payload),
        Message::Pong(payload) => Frame::Pong(payload),
        Message::Close(_) => Frame::Close,
    }
}

/// Writes to stdout from both threads, a line (or a prompt) at a time.
#[derive(Clone)]
struct Console {
    out: Arc<Mutex<std::io::Stdout>>,
    interactive: bool,
}

impl Console {
    fn write(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A received line: as is (raw), or in the interactive decoration.
    fn received(&self, line: &str) {
        if self.interactive {
            self.write(&interactive_line(line));
        } else {
            self.write(&format!("{line}\n"));
        }
    }
}

/// The message for an error, on one line: what failed, for people.
fn describe(error: &Error) -> String {
    match (error.kind(), error) {
        (ErrorKind::Refused, Error::Connect(TransportError::Connect { target, .. })) => {
            format!("connection refused ({target})")
        }
        _ => error.to_string(),
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let started = Instant::now();
    let verbose = args.verbose.unwrap_or(0);
    if verbose > 1 && log::set_logger(&Trace).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    let ws = config(args)?.connect(&args.url)?;
    let console = Console {
        out: Arc::new(Mutex::new(std::io::stdout())),
        interactive: !args.raw,
    };
    if console.interactive {
        console.write("Press Ctrl+C to quit\n");
    }
    let (mut rx, tx) = ws.split();
    // `--timeout` bounds connecting and sending; a quiet connection is not an error, so the
    // receiving side waits for as long as the connection lasts.
    rx.set_timeout(None)?;

    // Frames are received and shown on a thread of their own; pings are answered by the
    // library. The end of the connection ends the program: nothing more can happen.
    let shown = console.clone();
    let timings = args.timings;
    std::thread::spawn(move || {
        loop {
            let frame = match rx.recv_data_frame(true) {
                Ok(message) => frame_of(message),
                Err(_) => Frame::Close,
            };
            let output = Output {
                verbose,
                timings: timings.then(|| started.elapsed().as_secs_f64()),
            };
            if let Some(line) = format_frame(&frame, &output) {
                shown.received(&line);
            }
            if frame == Frame::Close {
                std::process::exit(0);
            }
        }
    });

    // Ctrl+C closes the connection and exits 0, as Python's KeyboardInterrupt does.
    let closer = tx.clone();
    let _ = ctrlc::set_handler(move || {
        let _ = closer.send_close_within(CloseCode::NORMAL, "", Duration::from_secs(1));
        std::process::exit(0);
    });

    if let Some(text) = &args.text {
        tx.send_text(text)?;
    }
    let send = |line: &str| {
        if args.binary {
            tx.send_binary(line.as_bytes())
        } else {
            tx.send_text(line)
        }
    };
    if console.interactive && std::io::stdin().is_terminal() {
        read_terminal(&send)?;
    } else {
        read_lines(&console, &send)?;
    }
    // End of input: wait as asked (the receiver keeps printing), then close normally.
    if args.eof_wait > 0.0 {
        std::thread::sleep(Duration::try_from_secs_f64(args.eof_wait).unwrap_or_default());
    }
    let _ = tx.send_close_within(CloseCode::NORMAL, "", Duration::from_secs(3));
    // The receiver shows the answer and exits; if the peer never answers, give up here.
    std::thread::sleep(Duration::from_secs(3));
    Ok(())
}

/// Lines from a pipe or a file, with the interactive prompt written before each read as
/// Python's `input("> ")` does.
fn read_lines(console: &Console, send: &dyn Fn(&str) -> Result<(), Error>) -> Result<(), Error> {
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut line = String::new();
    loop {
        if console.interactive {
            console.write("> ");
        }
        line.clear();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {
                let text = line.strip_suffix('\n').unwrap_or(&line);
                send(text)?;
            }
        }
    }
}

/// Lines from a terminal, with line editing and history; Ctrl+C closes and exits 0.
fn read_terminal(send: &dyn Fn(&str) -> Result<(), Error>) -> Result<(), Error> {
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        return Ok(());
    };
    loop {
        match editor.readline("> ") {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                send(&line)?;
            }
            Err(rustyline::error::ReadlineError::Interrupted) => return Ok(()),
            Err(_) => return Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse_from(python_verbose_forms(std::env::args_os()));
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wsdump: error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}
