//! TLS client configuration (Python's `sslopt`) on rustls with the `ring` provider.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::{CertificateProblem, TlsError};

/// The environment variable naming a CA bundle file or directory, used when no CA option is
/// given (as in Python's websocket-client).
pub const CA_BUNDLE_ENV: &str = "WEBSOCKET_CLIENT_CA_BUNDLE";

/// What is verified of the server's certificate; each weakening is a flag of its own, so
/// the two `dangerous()` calls commute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verification {
    chain: bool,
    hostname: bool,
}

#[derive(Clone)]
enum Pem {
    File(PathBuf),
    Memory(Arc<[u8]>),
}

impl Pem {
    fn read(&self) -> Result<(Arc<[u8]>, PathBuf), TlsError> {
        match self {
            Self::File(path) => fs::read(path)
                .map(|bytes| (bytes.into(), path.clone()))
                .map_err(|source| TlsError::Read {
                    path: path.clone(),
                    source,
                }),
            Self::Memory(bytes) => Ok((Arc::clone(bytes), PathBuf::from("<in-memory PEM>"))),
        }
    }
}

/// TLS options for `wss://`, mapped from Python's `sslopt`.
///
/// Defaults: the platform's trust store (or the bundle named by `WEBSOCKET_CLIENT_CA_BUNDLE`
/// when set), full verification of the chain and the host name, SNI from the URL's host, no
/// client certificate, `SSLKEYLOGFILE` honoured when set. Settings that weaken verification
/// are behind [`dangerous`](Self::dangerous).
///
/// The rustls configuration is built on first use and shared by clones of this value, so the
/// platform store is read once, not per connection.
///
/// ```no_run
/// use ws_transport::TlsConfig;
/// let tls = TlsConfig::default()
///     .ca_file("/etc/my-ca.pem")                  // sslopt={"ca_certs": ...}
///     .client_cert("client.pem", "client.key")    // "certfile", "keyfile"
///     .server_name("internal.example");           // "server_hostname"
/// let lab = TlsConfig::default().dangerous().disable_certificate_verification(); // CERT_NONE
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    ca: Vec<Pem>,
    ca_dirs: Vec<PathBuf>,
    platform_roots: Option<bool>,
    client_cert: Option<(Pem, Pem)>,
    server_name: Option<String>,
    verification: Verification,
    key_log: bool,
    custom: Option<Arc<ClientConfig>>,
    built: Arc<OnceLock<Arc<ClientConfig>>>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            ca: Vec::new(),
            ca_dirs: Vec::new(),
            platform_roots: None,
            client_cert: None,
            server_name: None,
            verification: Verification {
                chain: true,
                hostname: true,
            },
            key_log: true,
            custom: None,
            built: Arc::new(OnceLock::new()),
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_files", &self.ca.len())
            .field("ca_dirs", &self.ca_dirs)
            .field("platform_roots", &self.platform_roots)
            .field("client_cert", &self.client_cert.is_some())
            .field("server_name", &self.server_name)
            .field("verification", &self.verification)
            .field("key_log", &self.key_log)
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl TlsConfig {
    fn changed(mut self) -> Self {
        self.built = Arc::new(OnceLock::new());
        self
    }

    /// Trusts the certificates in this PEM file (`ca_certs`). Giving any CA replaces the
    /// platform store unless [`platform_roots(true)`](Self::platform_roots) is also set.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca.push(Pem::File(path.into()));
        self.changed()
    }

    /// Trusts every PEM certificate in the files of this directory (`ca_cert_path`).
    #[must_use]
    pub fn ca_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_dirs.push(path.into());
        self.changed()
    }

    /// Trusts the PEM certificates in `pem` (an embedded CA, a test CA).
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca.push(Pem::Memory(pem.into().into()));
        self.changed()
    }

    /// Whether to trust the platform store as well. Default: yes when no CA is given (by
    /// option or `WEBSOCKET_CLIENT_CA_BUNDLE`), no otherwise.
    #[must_use]
    pub fn platform_roots(mut self, on: bool) -> Self {
        self.platform_roots = Some(on);
        self.changed()
    }

    /// Presents this client certificate chain and key, both PEM files (`certfile`,
    /// `keyfile`). Encrypted keys are refused with a clear error.
    #[must_use]
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((Pem::File(cert.into()), Pem::File(key.into())));
        self.changed()
    }

    /// Presents the client certificate chain and the key from one PEM file holding both
    /// (Python's `certfile` without `keyfile`).
    #[must_use]
    pub fn client_cert_file(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.client_cert(path.clone(), path)
    }

    /// Presents this client certificate chain and key given as PEM bytes.
    #[must_use]
    pub fn client_cert_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client_cert = Some((
            Pem::Memory(cert.into().into()),
            Pem::Memory(key.into().into()),
        ));
        self.changed()
    }

    /// Sends this name in SNI and verifies the certificate against it instead of the URL's
    /// host (`server_hostname`).
    #[must_use]
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = Some(name.to_string());
        self
    }

    /// Whether to write session secrets to the file named by `SSLKEYLOGFILE` when that
    /// variable is set (for Wireshark). Default on, as in Python's ssl module.
    #[must_use]
    pub fn key_log(mut self, on: bool) -> Self {
        self.key_log = on;
        self.changed()
    }

    /// Uses a ready rustls configuration as it is; every other option of this type except
    /// [`server_name`](Self::server_name) is then ignored. This is the one place a rustls type
    /// enters the API: the escape hatch for what these options do not cover (ALPN, other
    /// providers, session caches).
    #[must_use]
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        Self {
            custom: Some(config),
            ..Self::default()
        }
    }

    /// Options that weaken security; each must be asked for by name.
    #[must_use]
    pub fn dangerous(self) -> DangerousTlsConfig {
        DangerousTlsConfig(self)
    }

    /// The name to send in SNI and to verify: the override or the URL's host.
    pub(crate) fn verify_name<'a>(&'a self, host: &'a str) -> &'a str {
        self.server_name.as_deref().unwrap_or(host)
    }

    /// Builds (once) and returns the rustls configuration.
    pub(crate) fn rustls_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        if let Some(custom) = &self.custom {
            return Ok(Arc::clone(custom));
        }
        if let Some(built) = self.built.get() {
            return Ok(Arc::clone(built));
        }
        let built = Arc::new(self.build()?);
        Ok(Arc::clone(self.built.get_or_init(|| built)))
    }

    fn build(&self) -> Result<ClientConfig, TlsError> {
        let provider = crypto_provider().ok_or_else(|| {
            TlsError::Config(
                "no crypto provider: enable the `ring` or `aws-lc-rs` feature, or install a \
                 process-wide rustls provider (CryptoProvider::install_default) first"
                    .into(),
            )
        })?;
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let algorithms = provider.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = if !self.verification.chain {
            Arc::new(NoVerification(algorithms))
        } else {
            let roots = Arc::new(self.roots()?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
            if self.verification.hostname {
                webpki
            } else {
                Arc::new(SkipHostname(webpki))
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let (chain, key) = load_client_cert(cert, key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError::Config(format!("client certificate: {e}")))?
            }
        };
        if self.key_log && std::env::var_os("SSLKEYLOGFILE").is_some() {
            config.key_log = Arc::new(rustls::KeyLogFile::new());
        }
        Ok(config)
    }

    fn roots(&self) -> Result<RootCertStore, TlsError> {
        let mut store = RootCertStore::empty();
        let mut ca = self.ca.clone();
        let mut dirs = self.ca_dirs.clone();
        if ca.is_empty() && dirs.is_empty() {
            if let Some(bundle) = std::env::var_os(CA_BUNDLE_ENV).filter(|v| !v.is_empty()) {
                let bundle = PathBuf::from(bundle);
                if bundle.is_dir() {
                    dirs.push(bundle)
                } else {
                    ca.push(Pem::File(bundle))
                }
            }
        }
        let use_platform = self
            .platform_roots
            .unwrap_or(ca.is_empty() && dirs.is_empty());
        for pem in &ca {
            let (bytes, path) = pem.read()?;
            add_pem_certs(&mut store, &bytes, &path)?;
        }
        for dir in &dirs {
            add_dir(&mut store, dir)?;
        }
        if use_platform {
            add_platform_roots(&mut store)?;
        }
        Ok(store)
    }
}

/// The roots this build trusts without being told: the platform store (`native-roots`),
/// else, or when that is empty, Mozilla's roots compiled in (`webpki-roots`).
fn add_platform_roots(store: &mut RootCertStore) -> Result<(), TlsError> {
    #[cfg(feature = "native-roots")]
    let native = {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = store.add_parsable_certificates(found.certs);
        if added > 0 {
            return Ok(());
        }
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        format!(
            "the platform trust store is empty ({})",
            if errors.is_empty() {
                "no errors".to_string()
            } else {
                errors.join("; ")
            }
        )
    };
    #[cfg(not(feature = "native-roots"))]
    let native = "built without the `native-roots` feature".to_string();
    if add_bundled_roots(store) {
        return Ok(());
    }
    Err(TlsError::NoRoots(format!(
        "{native}; give a CA file or set {CA_BUNDLE_ENV}"
    )))
}

/// Mozilla's roots, compiled in with the `webpki-roots` feature.
#[cfg(feature = "webpki-roots")]
fn add_bundled_roots(store: &mut RootCertStore) -> bool {
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    true
}

/// Without the `webpki-roots` feature there are no compiled-in roots.
#[cfg(not(feature = "webpki-roots"))]
fn add_bundled_roots(_: &mut RootCertStore) -> bool {
    false
}

fn add_pem_certs(store: &mut RootCertStore, pem: &[u8], path: &Path) -> Result<usize, TlsError> {
    let invalid = |problem: String| TlsError::InvalidPem {
        path: path.to_path_buf(),
        problem,
    };
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| invalid(format!("bad PEM: {e}")))?;
        store
            .add(cert)
            .map_err(|e| invalid(format!("unusable CA certificate: {e}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(invalid(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) found".into(),
        ));
    }
    Ok(added)
}

fn add_dir(store: &mut RootCertStore, dir: &Path) -> Result<(), TlsError> {
    let read_err = |source| TlsError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut added = 0;
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if !path.is_file() {
            continue;
        }
        let bytes = fs::read(&path).map_err(|source| TlsError::Read {
            path: path.clone(),
            source,
        })?;
        // Directories hold other files too (OpenSSL's hash links point at the same PEMs); a
        // file without certificates is skipped, a broken certificate is still an error.
        if bytes
            .windows(27)
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            added += add_pem_certs(store, &bytes, &path)?;
        }
    }
    if added == 0 {
        return Err(TlsError::InvalidPem {
            path: dir.to_path_buf(),
            problem: "the directory holds no PEM certificate".into(),
        });
    }
    Ok(())
}

type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn load_client_cert(cert: &Pem, key: &Pem) -> Result<ClientIdentity, TlsError> {
    let (cert_bytes, cert_path) = cert.read()?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidPem {
            path: cert_path.clone(),
            problem: format!("bad PEM: {e}"),
        })?;
    if chain.is_empty() {
        return Err(TlsError::InvalidPem {
            path: cert_path,
            problem: "no PEM certificate (-----BEGIN CERTIFICATE-----) found".into(),
        });
    }
    let (key_bytes, key_path) = key.read()?;
    let text = String::from_utf8_lossy(&key_bytes);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::EncryptedKey(key_path));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| TlsError::InvalidPem {
        path: key_path,
        problem: format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
    })?;
    Ok((chain, key))
}

/// Options that weaken TLS; reached through [`TlsConfig::dangerous`].
#[derive(Clone, Debug)]
pub struct DangerousTlsConfig(TlsConfig);

impl DangerousTlsConfig {
    /// Accepts any certificate: no chain, expiry or name check (Python's
    /// `cert_reqs=ssl.CERT_NONE`). Handshake signatures are still verified, so the peer must
    /// hold the key of the certificate it shows, but anyone can make such a certificate.
    #[must_use]
    pub fn disable_certificate_verification(self) -> TlsConfig {
        let mut config = self.0;
        config.verification.chain = false;
        config.changed()
    }

    /// Verifies the chain against the trusted roots but not that the certificate names the
    /// host (Python's `check_hostname=False`).
    #[must_use]
    pub fn disable_hostname_verification(self) -> TlsConfig {
        let mut config = self.0;
        config.verification.hostname = false;
        config.changed()
    }
}

/// `CERT_NONE`: every certificate is accepted, signatures are still checked.
#[derive(Debug)]
struct NoVerification(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `check_hostname=False`: the full WebPKI check, with only a name mismatch forgiven.
#[derive(Debug)]
struct SkipHostname(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for SkipHostname {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the name last, after the chain, so this error means "trusted, wrong name".
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Turns a rustls error into the error that says what failed, in words.
pub(crate) fn classify(error: &rustls::Error, name: &str) -> TlsError {
    use CertificateProblem as P;
    let time = |t: &UnixTime| Some(std::time::UNIX_EPOCH + Duration::from_secs(t.as_secs()));
    let cert = match error {
        rustls::Error::InvalidCertificate(cert) => cert,
        rustls::Error::AlertReceived(alert) => return TlsError::Alert(format!("{alert:?}")),
        other => return TlsError::Handshake(other.to_string()),
    };
    let reason = match cert {
        CertificateError::NotValidForName => {
            return TlsError::NameMismatch {
                name: name.to_string(),
                valid_for: Vec::new(),
            };
        }
        CertificateError::NotValidForNameContext { presented, .. } => {
            return TlsError::NameMismatch {
                name: name.to_string(),
                valid_for: presented.iter().map(|p| plain_name(p)).collect(),
            };
        }
        CertificateError::UnknownIssuer => P::UnknownIssuer,
        CertificateError::Expired => P::Expired(None),
        CertificateError::ExpiredContext { not_after, .. } => P::Expired(time(not_after)),
        CertificateError::NotValidYet => P::NotYetValid(None),
        CertificateError::NotValidYetContext { not_before, .. } => P::NotYetValid(time(not_before)),
        CertificateError::Revoked => P::Revoked,
        CertificateError::BadSignature => P::BadSignature,
        CertificateError::BadEncoding => P::BadEncoding,
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            P::WrongPurpose
        }
        CertificateError::UnknownRevocationStatus
        | CertificateError::ExpiredRevocationList
        | CertificateError::ExpiredRevocationListContext { .. } => P::UnknownRevocationStatus,
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            P::UnsupportedSignatureAlgorithm
        }
        other => P::Other(format!("{other:?}")),
    };
    TlsError::UntrustedCertificate {
        name: name.to_string(),
        reason,
    }
}

/// A name as webpki presents it (`DnsName("localhost")`, `IpAddress(::1)`), as people
/// write it (`localhost`, `::1`).
fn plain_name(presented: &str) -> String {
    let inner = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|rest| rest.strip_suffix(')'))
        });
    inner.unwrap_or(presented).to_string()
}

/// The provider this crate uses, for callers building a [`TlsConfig::from_rustls`] config:
/// `ring` with the `ring` feature, else `aws-lc-rs` with that feature, else the process-wide
/// default an application installed with rustls's `CryptoProvider::install_default` (any
/// provider), else `None`.
#[must_use]
pub fn crypto_provider() -> Option<Arc<CryptoProvider>> {
    #[cfg(feature = "ring")]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
    return Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    CryptoProvider::get_default().cloned()
}
