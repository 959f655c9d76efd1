//! Test peers shared by the workspace's tests: a CA, server and client certificates made at
//! test time with rcgen, and real TLS / TCP servers on loopback. Not published.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A number per CA made in this process: CAs with the same name would be taken for each
/// other (a wrong key then reads as a bad signature, not an unknown issuer).
fn next_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A CA, a server certificate for `localhost` and 127.0.0.1, and a client certificate.
pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// Makes a fresh CA and certificates.
    pub fn new() -> Self {
        Self::with_server_validity((1975, 1, 1), (4096, 1, 1))
    }

    /// A server certificate that expired at the start of 2000.
    pub fn expired() -> Self {
        Self::with_server_validity((1999, 1, 1), (2000, 1, 1))
    }

    /// A server certificate valid only from 3000 on.
    pub fn not_yet_valid() -> Self {
        Self::with_server_validity((3000, 1, 1), (3001, 1, 1))
    }

    /// The server certificate is valid between two dates (year, month, day).
    fn with_server_validity(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("ws-transport test CA {}", next_serial()),
        );
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let server_key = KeyPair::generate().unwrap();
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server_params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        server_params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(vec!["client".to_string()]).unwrap();
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params.signed_by(&client_key, &ca).unwrap();

        Self {
            ca_pem: ca.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// A rustls server configuration with the server certificate, optionally requiring a
    /// client certificate signed by the CA.
    pub fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_slice_iter(self.server_cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).unwrap();
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }
}

/// A TLS echo server for one connection. It returns the error of its side, if any.
pub fn tls_echo_server(pki: &Pki, require_client_cert: bool) -> (u16, JoinHandle<io::Result<()>>) {
    tls_server(pki, require_client_cert, echo)
}

/// A TLS server for one connection that runs `serve` over the TLS stream.
pub fn tls_server<F>(
    pki: &Pki,
    require_client_cert: bool,
    serve: F,
) -> (u16, JoinHandle<io::Result<()>>)
where
    F: FnOnce(
            &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
        ) -> io::Result<()>
        + Send
        + 'static,
{
    let config = pki.server_config(require_client_cert);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept()?;
        let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        serve(&mut tls)
    });
    (port, handle)
}

/// An address that never answers a connection attempt, as a host that silently drops
/// packets: a listener whose accept queue is full, so the kernel drops every further SYN
/// and the attempt hangs in SYN_SENT until its timeout.
pub struct SilentListener {
    addr: SocketAddr,
    _socket: socket2::Socket,
    _held: Vec<TcpStream>,
}

impl SilentListener {
    /// Listens on `ip` (an ephemeral port) with the smallest backlog and fills it. `None`
    /// where the kernel kept accepting anyway: a test has nothing to time out then.
    pub fn bind(ip: &str) -> Option<Self> {
        use socket2::{Domain, Socket, Type};
        let addr = SocketAddr::new(ip.parse().ok()?, 0);
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).ok()?;
        socket.bind(&addr.into()).ok()?;
        socket.listen(0).ok()?;
        let addr = socket.local_addr().ok()?.as_socket()?;
        let mut held = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(100)) {
                Ok(s) => held.push(s),
                Err(_) => {
                    return Some(Self {
                        addr,
                        _socket: socket,
                        _held: held,
                    });
                }
            }
        }
        None
    }

    /// The address that does not answer.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A plain TCP echo server for one connection.
pub fn tcp_echo_server() -> (u16, JoinHandle<io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept()?;
        echo(&mut tcp)
    });
    (port, handle)
}

/// Echoes bytes until end of stream.
pub fn echo(stream: &mut impl ReadWrite) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n])?;
        stream.flush()?;
    }
}

/// Read + Write.
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Runs `f` on a thread of its own and waits at most `limit` for it: a hang fails the test
/// with a message naming `what`, instead of stalling CI. A panic inside `f` is passed on.
pub fn within<T, F>(limit: std::time::Duration, what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, wait) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("within: {what}"))
        .spawn(move || {
            let _ = done.send(f());
        })
        .unwrap();
    match wait.recv_timeout(limit) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {limit:?}: a hang")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("{what}: the worker ended without a result"),
        },
    }
}

/// Reads one HTTP request head (up to the blank line) byte by byte, so nothing after it is
/// taken from the socket.
pub fn read_head(tcp: &mut std::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A peer that answers each of `responses` to one connection in turn (`{port}` in a response
/// becomes its own port) and records the request heads it saw.
pub fn http_peer(responses: Vec<String>) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for response in responses {
            let (mut tcp, _) = listener.accept().unwrap();
            log.lock().unwrap().push(read_head(&mut tcp));
            let response = response.replace("{port}", &port.to_string());
            tcp.write_all(response.as_bytes()).unwrap();
        }
    });
    (port, seen)
}
