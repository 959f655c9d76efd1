//! Any string as a WebSocket URL, a proxy URL and a no_proxy list: no panic; a parsed URL
//! keeps its invariants and its display form parses back to the same URL (minus credentials);
//! a proxy's display form never carries user-info.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_transport::{NoProxy, Proxy, WsUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(url) = WsUrl::parse(text) {
        assert!(url.port() > 0);
        assert!(url.resource().starts_with('/'));
        assert!(!url.resource().contains('#'));
        assert!(!url.host().is_empty());
        let again = WsUrl::parse(&url.to_string()).expect("display form parses");
        assert_eq!(
            (again.is_secure(), again.host(), again.port(), again.resource()),
            (url.is_secure(), url.host(), url.port(), url.resource())
        );
        let list = NoProxy::parse(text);
        let _ = list.matches(url.host(), url.port());
    }
    if let Ok(proxy) = Proxy::parse(text) {
        assert!(proxy.port() > 0);
        // The display form never carries user-info.
        assert!(!proxy.to_string().contains('@'));
    }
    let list = NoProxy::parse(text);
    let _ = list.matches(text, 80);
});
