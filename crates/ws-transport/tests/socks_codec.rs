//! SOCKS4/4a and SOCKS5 codecs against byte vectors built from the protocol documents:
//! SOCKS4 (Ying-Da Lee, "SOCKS: A protocol for TCP proxy across firewalls"), SOCKS4a
//! ("SOCKS 4A: A Simple Extension to SOCKS 4 Protocol"), RFC 1928 and RFC 1929.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use ws_transport::ProxyError;
use ws_transport::socks::{self, Progress, Socks4Reply, Socks5Method, Socks5Reply, Target};

#[test]
fn socks4_request_bytes() {
    // VN=4 CD=1 DSTPORT=80 DSTIP=192.0.2.10 USERID="fred" NUL
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    assert_eq!(
        socks::socks4_request(&Target::Ip(ip), 80, "fred").unwrap(),
        [4, 1, 0, 80, 192, 0, 2, 10, b'f', b'r', b'e', b'd', 0]
    );
    // SOCKS4a: DSTIP=0.0.0.1, the name after the user id's NUL.
    assert_eq!(
        socks::socks4_request(&Target::Domain("ex.org"), 443, "").unwrap(),
        [
            4, 1, 1, 187, 0, 0, 0, 1, 0, b'e', b'x', b'.', b'o', b'r', b'g', 0
        ]
    );
    let v6: IpAddr = "::1".parse().unwrap();
    assert!(matches!(
        socks::socks4_request(&Target::Ip(v6), 1, ""),
        Err(ProxyError::Unsupported(_))
    ));
    assert!(socks::socks4_request(&Target::Domain("a\0b"), 1, "").is_err());
    assert!(socks::socks4_request(&Target::Domain("a"), 1, "u\0").is_err());
}

#[test]
fn socks4_replies() {
    let cases = [
        (90, Socks4Reply::Granted),
        (91, Socks4Reply::Rejected),
        (92, Socks4Reply::IdentRequired),
        (93, Socks4Reply::IdentMismatch),
        (17, Socks4Reply::Other(17)),
    ];
    for (code, expected) in cases {
        let reply = [0, code, 0, 80, 1, 2, 3, 4];
        for cut in 0..reply.len() {
            assert_eq!(
                socks::parse_socks4_reply(&reply[..cut]).unwrap(),
                Progress::NeedAtLeast(8)
            );
        }
        assert_eq!(
            socks::parse_socks4_reply(&reply).unwrap(),
            Progress::Done(expected, 8)
        );
        assert_eq!(expected.code(), code);
    }
    assert_eq!(
        socks::parse_socks4_reply(&[4, 90]).unwrap_err().to_string(),
        "malformed SOCKS4 reply: reply version 4, expected 0"
    );
    assert_eq!(
        Socks4Reply::IdentRequired.to_string(),
        "rejected: the proxy cannot reach identd on the client (code 92)"
    );
}

#[test]
fn socks5_method_negotiation() {
    assert_eq!(socks::socks5_greeting(false), [5, 1, 0]);
    assert_eq!(socks::socks5_greeting(true), [5, 2, 0, 2]);
    assert_eq!(
        socks::parse_socks5_method(&[]).unwrap(),
        Progress::NeedAtLeast(2)
    );
    assert_eq!(
        socks::parse_socks5_method(&[5]).unwrap(),
        Progress::NeedAtLeast(2)
    );
    assert_eq!(
        socks::parse_socks5_method(&[5, 0]).unwrap(),
        Progress::Done(Socks5Method::NoAuth, 2)
    );
    assert_eq!(
        socks::parse_socks5_method(&[5, 2]).unwrap(),
        Progress::Done(Socks5Method::UserPassword, 2)
    );
    assert_eq!(
        socks::parse_socks5_method(&[5, 0xFF]).unwrap(),
        Progress::Done(Socks5Method::NoAcceptable, 2)
    );
    assert_eq!(
        socks::parse_socks5_method(&[5, 1]).unwrap(),
        Progress::Done(Socks5Method::Other(1), 2)
    );
    assert!(socks::parse_socks5_method(&[4]).is_err());
    assert!(socks::parse_socks5_method(&[4, 0]).is_err());
}

#[test]
fn rfc1929_user_password() {
    assert_eq!(
        socks::socks5_auth_request("bob", "pw").unwrap(),
        [1, 3, b'b', b'o', b'b', 2, b'p', b'w']
    );
    assert_eq!(socks::socks5_auth_request("", "").unwrap(), [1, 0, 0]);
    let long = "x".repeat(256);
    let err = socks::socks5_auth_request(&long, "p").unwrap_err();
    assert_eq!(
        err.to_string(),
        "SOCKS5 user name is 256 bytes; the limit is 255"
    );
    assert!(socks::socks5_auth_request("u", &long).is_err());
    assert!(socks::socks5_auth_request(&"x".repeat(255), &"y".repeat(255)).is_ok());
    assert_eq!(
        socks::parse_socks5_auth_reply(&[1]).unwrap(),
        Progress::NeedAtLeast(2)
    );
    assert_eq!(
        socks::parse_socks5_auth_reply(&[1, 0]).unwrap(),
        Progress::Done(0, 2)
    );
    assert_eq!(
        socks::parse_socks5_auth_reply(&[1, 1]).unwrap(),
        Progress::Done(1, 2)
    );
}

#[test]
fn socks5_connect_request_bytes() {
    let v4: IpAddr = "10.1.2.3".parse().unwrap();
    assert_eq!(
        socks::socks5_connect_request(&Target::Ip(v4), 8080).unwrap(),
        [5, 1, 0, 1, 10, 1, 2, 3, 0x1f, 0x90]
    );
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    let mut expected = vec![5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8];
    expected.extend_from_slice(&[0; 11]);
    expected.extend_from_slice(&[1, 0, 80]);
    assert_eq!(
        socks::socks5_connect_request(&Target::Ip(v6), 80).unwrap(),
        expected
    );
    assert_eq!(
        socks::socks5_connect_request(&Target::Domain("a.io"), 443).unwrap(),
        [5, 1, 0, 3, 4, b'a', b'.', b'i', b'o', 1, 187]
    );
    assert!(socks::socks5_connect_request(&Target::Domain(""), 1).is_err());
    assert!(socks::socks5_connect_request(&Target::Domain(&"a".repeat(256)), 1).is_err());
}

#[test]
fn socks5_replies_of_every_address_type_at_every_split() {
    let v4 = vec![5, 0, 0, 1, 127, 0, 0, 1, 0, 80];
    let mut v6 = vec![5, 0, 0, 4];
    v6.extend_from_slice(&[0; 16]);
    v6.extend_from_slice(&[0, 80]);
    let domain = vec![5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 80];
    for reply in [v4, v6, domain] {
        for cut in 0..reply.len() {
            match socks::parse_socks5_reply(&reply[..cut]).unwrap() {
                Progress::NeedAtLeast(n) => {
                    assert!(n > cut && n <= reply.len(), "cut {cut}: need {n}")
                }
                done => panic!("complete at {cut}: {done:?}"),
            }
        }
        let mut with_tunnel_bytes = reply.clone();
        with_tunnel_bytes.extend_from_slice(b"GET / HTTP/1.1");
        assert_eq!(
            socks::parse_socks5_reply(&with_tunnel_bytes).unwrap(),
            Progress::Done(Socks5Reply::Succeeded, reply.len())
        );
    }
}

#[test]
fn every_socks5_reply_code_is_named() {
    let names = [
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    ];
    for code in 0..=255u8 {
        let reply = [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
        let Progress::Done(parsed, 10) = socks::parse_socks5_reply(&reply).unwrap() else {
            panic!()
        };
        assert_eq!(parsed.code(), code);
        let expected = names
            .get(usize::from(code))
            .copied()
            .unwrap_or("unassigned reply code");
        assert_eq!(parsed.to_string(), format!("{expected} (code {code})"));
    }
    assert_eq!(
        ProxyError::Socks5(Socks5Reply::ConnectionRefused).to_string(),
        "SOCKS5 request refused: connection refused (code 5)"
    );
    assert!(socks::parse_socks5_reply(&[5, 0, 0, 9, 0]).is_err());
    assert!(socks::parse_socks5_reply(&[6]).is_err());
}
