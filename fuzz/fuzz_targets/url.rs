//! Any string as a WebSocket URL, a proxy URL and a no_proxy list: no panic; a parsed URL
//! keeps its invariants and its display form parses back to the same URL (minus credentials);
//! a proxy's display form never carries user-info; the password of a URL never shows in its
//! display or debug form, nor in the error that refuses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_transport::{NoProxy, Proxy, WsUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A password that appears nowhere else in the input must appear nowhere in the output,
    // unless the output of the same input with another password has it too (the words of
    // the error text itself).
    let secret = password(text).filter(|p| p.len() >= 3 && text.matches(p.as_str()).count() == 1);
    if let Some(secret) = &secret {
        let other = text.replacen(secret.as_str(), &"\u{7f}".repeat(secret.chars().count()), 1);
        let shown = render(text);
        assert!(
            !shown.contains(secret.as_str()) || render(&other).contains(secret.as_str()),
            "password shown: {shown}"
        );
    }
    if let Ok(url) = WsUrl::parse(text) {
        assert!(url.port() > 0);
        assert!(url.resource().starts_with('/'));
        assert!(!url.resource().contains('#'));
        assert!(!url.host().is_empty());
        let again = WsUrl::parse(&url.to_string()).expect("display form parses");
        assert_eq!(
            (
                again.is_secure(),
                again.host(),
                again.port(),
                again.resource()
            ),
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

/// The raw password of the user-info in `text`, as the URL parser would split it.
fn password(text: &str) -> Option<String> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let (info, _) = authority.rsplit_once('@')?;
    let (_, password) = info.split_once(':')?;
    Some(password.to_string())
}

/// Everything a parse shows: the URL's display and debug forms, or the error's.
fn render(text: &str) -> String {
    match WsUrl::parse(text) {
        Ok(url) => format!("{url} {url:?}"),
        Err(e) => format!("{e} {e:?}"),
    }
}
