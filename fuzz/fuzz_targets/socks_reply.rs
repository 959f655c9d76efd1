//! Any bytes as each SOCKS reply: no panic; a complete reply's length is within the input
//! and parsing just that prefix gives the same value; every shorter prefix asks for more
//! (never an error that the whole input does not have, never a length it already has).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_transport::ProxyError;
use ws_transport::socks::{self, Progress};

fn check<T: PartialEq + std::fmt::Debug>(
    data: &[u8],
    parse: fn(&[u8]) -> Result<Progress<T>, ProxyError>,
) {
    match parse(data) {
        Ok(Progress::Done(value, used)) => {
            assert!(used <= data.len());
            match parse(&data[..used]) {
                Ok(Progress::Done(again, n)) => assert!(again == value && n == used),
                other => panic!("prefix {used} gave {other:?}"),
            }
            for cut in 0..used {
                match parse(&data[..cut]) {
                    Ok(Progress::NeedAtLeast(n)) => assert!(n > cut && n <= used),
                    other => panic!("prefix {cut} of a {used}-byte reply gave {other:?}"),
                }
            }
        }
        Ok(Progress::NeedAtLeast(n)) => assert!(n > data.len()),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => check(rest, socks::parse_socks4_reply),
        1 => check(rest, socks::parse_socks5_method),
        2 => check(rest, socks::parse_socks5_auth_reply),
        _ => check(rest, socks::parse_socks5_reply),
    }
});
