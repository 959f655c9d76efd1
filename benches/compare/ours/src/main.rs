//! ws-client's client process for the loopback comparison (see `compare-proto`), built with
//! nothing but ws-client's default features, as a user's `Cargo.toml` builds it.

use compare_proto::{Args, DONE, Scenario, client_main, idle, timed};
use ws_client::{Config, Message, MessageRef, ProxyConfig, TlsConfig, WebSocket};

fn connect(args: &Args) -> Result<WebSocket, String> {
    let mut builder = Config::builder().proxy(ProxyConfig::Direct);
    if args.scenario.is_tls() {
        builder = builder.tls(TlsConfig::default().ca_pem(args.ca_pem()?));
    }
    builder
        .build()
        .and_then(|config| config.connect(&args.url()))
        .map_err(|e| format!("connect: {e}"))
}

fn expect_done(ws: &mut WebSocket) {
    let done = ws.recv().expect("done");
    assert_eq!(done.as_bytes(), DONE);
}

fn run(args: Args) -> Result<(), String> {
    if args.scenario == Scenario::Idle {
        // `COMPARE_SPLIT=1`: each connection split into its halves, as ws-app holds it.
        if std::env::var_os("COMPARE_SPLIT").is_some() {
            idle(args.count, || connect(&args).expect("connect").split());
        } else {
            idle(args.count, || connect(&args).expect("connect"));
        }
        return Ok(());
    }
    let mut ws = connect(&args)?;
    let payload = args.payload();
    match args.scenario.plain() {
        // `COMPARE_RECV_REF=1`: the borrowing receive, `recv_ref`.
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed
            if std::env::var_os("COMPARE_RECV_REF").is_some() =>
        {
            timed(|| {
                for _ in 0..args.count {
                    let message = ws.recv_ref().expect("recv_ref");
                    assert!(
                        matches!(message, MessageRef::Text(_) | MessageRef::Binary(_)),
                        "{message:?}"
                    );
                }
            });
        }
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => timed(|| {
            for _ in 0..args.count {
                let message = ws.recv().expect("recv");
                assert!(
                    matches!(message, Message::Text(_) | Message::Binary(_)),
                    "{message:?}"
                );
            }
        }),
        Scenario::Send => timed(|| {
            for _ in 0..args.count {
                ws.send_binary(&payload).expect("send");
            }
            expect_done(&mut ws);
        }),
        Scenario::SendBatch => timed(|| {
            for _ in 0..args.count {
                ws.queue_binary(&payload).expect("queue");
            }
            ws.flush().expect("flush");
            expect_done(&mut ws);
        }),
        Scenario::Echo => timed(|| {
            for _ in 0..args.count {
                ws.send_binary(&payload).expect("send");
                let back = ws.recv().expect("echo");
                assert_eq!(back.as_bytes().len(), payload.len());
            }
        }),
        Scenario::Idle | Scenario::RecvTls | Scenario::SendTls => {
            unreachable!("handled above, or not plain")
        }
    }
    Ok(())
}

fn main() {
    client_main(run);
}
