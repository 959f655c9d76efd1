//! `WebSocketApp` on loopback against the echo server and scripted peers: every callback
//! order, keepalive, reconnects, closes from callbacks and other threads, cookies. Each test
//! runs under a watchdog.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use test_support::within;
use ws_app::{AppHandle, Handler, Reconnect, WebSocketApp};
use ws_client::echo::EchoServer;
use ws_client::{CloseCode, CloseFrame, Config, Error, Message, OpCode, ProxyConfig};
use ws_frame::{Event, Session};

fn config() -> ws_client::ConfigBuilder {
    Config::builder().proxy(ProxyConfig::Direct)
}

/// The tests' configuration: no proxy, a 2 s close timeout.
fn cfg() -> Config {
    config()
        .close_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// What a test does with each message.
type OnMessage = Box<dyn FnMut(&AppHandle, &Message) + Send>;
/// One connection's script, and the extra response header lines of its upgrade.
type Script = (&'static str, Box<dyn FnOnce(Conn) + Send>);

/// Events as the callbacks saw them, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }

    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A handler that logs every callback, and runs `on_message_do` on each message.
struct Recorder {
    log: Log,
    on_message_do: OnMessage,
    fragments: bool,
}

impl Recorder {
    fn new(log: &Log) -> Self {
        Self {
            log: log.clone(),
            on_message_do: Box::new(|_, _| {}),
            fragments: false,
        }
    }

    fn then(mut self, f: impl FnMut(&AppHandle, &Message) + Send + 'static) -> Self {
        self.on_message_do = Box::new(f);
        self
    }
}

fn close_text(frame: Option<&CloseFrame>) -> String {
    frame.map_or("None".into(), |f| {
        format!("{} {}", f.code.as_u16(), f.reason)
    })
}

impl Handler for Recorder {
    fn on_open(&mut self, _: &AppHandle) {
        self.log.push("open");
    }
    fn on_reconnect(&mut self, _: &AppHandle) {
        self.log.push("reconnect");
    }
    fn on_message(&mut self, app: &AppHandle, message: Message) {
        self.log.push(match &message {
            Message::Text(t) => format!("message {t}"),
            Message::Fragment { opcode, data, fin } => {
                format!(
                    "fragment {opcode:?} {} {fin}",
                    String::from_utf8_lossy(data)
                )
            }
            other => format!("message {other:?}"),
        });
        (self.on_message_do)(app, &message);
    }
    fn on_data(&mut self, _: &AppHandle, data: &[u8], opcode: OpCode, fin: bool) {
        if self.fragments {
            self.log.push(format!(
                "data {opcode:?} {} {fin}",
                String::from_utf8_lossy(data)
            ));
        }
    }
    fn on_cont_message(&mut self, _: &AppHandle, data: &[u8], fin: bool) {
        self.log
            .push(format!("cont {} {fin}", String::from_utf8_lossy(data)));
    }
    fn on_ping(&mut self, _: &AppHandle, payload: &[u8]) {
        self.log
            .push(format!("ping {}", String::from_utf8_lossy(payload)));
    }
    fn on_pong(&mut self, _: &AppHandle, _: &[u8]) {
        self.log.push("pong");
    }
    fn on_error(&mut self, _: &AppHandle, error: &Error) {
        self.log.push(format!("error {:?}", error.kind()));
    }
    fn on_close(&mut self, _: &AppHandle, frame: Option<CloseFrame>) {
        self.log
            .push(format!("close {}", close_text(frame.as_ref())));
    }
    fn wants_fragments(&self) -> bool {
        self.fragments
    }
}

/// The server side of one scripted connection.
struct Conn {
    tcp: TcpStream,
    session: Session,
    request: String,
}

impl Conn {
    fn write_out(&mut self) {
        let out = self.session.pending_output().to_vec();
        let _ = self.tcp.write_all(&out);
        self.session.consume_output(out.len());
    }

    fn send_text(&mut self, text: &str) {
        self.session.send_text(text).unwrap();
        self.write_out();
    }

    fn send_ping(&mut self, payload: &[u8]) {
        self.session.send_ping(payload).unwrap();
        self.write_out();
    }

    fn close(&mut self, code: u16, reason: &str) {
        self.session
            .send_close(Some(CloseCode(code)), reason)
            .unwrap();
        self.write_out();
    }

    /// The next event from the client as text (`text hi`, `ping`, `pong`, `close 1000`), or
    /// `None` at the end of the stream. Pings are answered.
    fn next(&mut self) -> Option<String> {
        let mut chunk = [0; 4096];
        loop {
            match self.session.next_event() {
                Ok(Some(event)) => {
                    let shown = match event {
                        Event::Text(t) => format!("text {t}"),
                        Event::Ping(_) => "ping".into(),
                        Event::Pong(_) => "pong".into(),
                        Event::Close { code, .. } => format!("close {}", code.as_u16()),
                        other => format!("{other:?}"),
                    };
                    self.write_out();
                    return Some(shown);
                }
                Ok(None) => {}
                Err(_) => return None,
            }
            match self.tcp.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.session.receive_data(&chunk[..n]),
            }
        }
    }
}

/// A server that runs one script per connection, in order, answering the upgrade with
/// `extra` header lines first. Returns its URL.
fn scripted(scripts: Vec<Script>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (extra, script) in scripts {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if tcp.read(&mut byte).unwrap() == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let (request, _) = ws_handshake::parse_request(&head, &Default::default())
                .unwrap()
                .unwrap();
            let mut response = String::from_utf8(request.accept(None, None).unwrap()).unwrap();
            if !extra.is_empty() {
                response = response.replacen("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"), 1);
            }
            tcp.write_all(response.as_bytes()).unwrap();
            let conn = Conn {
                tcp,
                session: Session::server(ws_frame::Config::default()),
                request: String::from_utf8(head).unwrap(),
            };
            std::thread::spawn(move || script(conn));
        }
    });
    format!("ws://127.0.0.1:{port}/")
}

fn script(f: impl FnOnce(Conn) + Send + 'static) -> Script {
    ("", Box::new(f))
}

#[test]
fn open_message_then_a_close_from_a_callback() {
    within(Duration::from_secs(20), "open, message, close", || {
        let server = EchoServer::start().unwrap();
        let log = Log::default();
        let app = WebSocketApp::builder(&server.url())
            .config(config().build().unwrap())
            .on_open(|app| app.send_text("hi").unwrap())
            .handler(Recorder::new(&log).then(|app, _| app.close()));
        // Closures and a Handler together are refused.
        assert!(app.build().is_err());
        let app = WebSocketApp::builder(&server.url())
            .config(cfg())
            .handler(Recorder::new(&log).then(|app, _| app.close()))
            .build()
            .unwrap();
        let handle = app.handle();
        let sender = std::thread::spawn(move || {
            while !handle.is_connected() {
                std::thread::sleep(Duration::from_millis(5));
            }
            handle.send_text("hi").unwrap();
        });
        app.run_forever().unwrap();
        sender.join().unwrap();
        assert_eq!(log.events(), ["open", "message hi", "close 1000 "]);
    });
}

#[test]
fn a_server_close_reports_its_code_and_ends_without_an_error() {
    within(Duration::from_secs(20), "server close", || {
        let url = scripted(vec![script(|mut c| {
            c.send_text("bye soon");
            c.close(1001, "going away");
            while c.next().is_some() {}
        })]);
        let log = Log::default();
        WebSocketApp::builder(&url)
            .config(cfg())
            .handler(Recorder::new(&log))
            .build()
            .unwrap()
            .run_forever()
            .unwrap();
        assert_eq!(
            log.events(),
            ["open", "message bye soon", "close 1001 going away"]
        );
    });
}

#[test]
fn a_dropped_connection_is_an_error_then_a_close() {
    within(Duration::from_secs(20), "TCP drop", || {
        let url = scripted(vec![script(drop)]);
        let log = Log::default();
        let err = WebSocketApp::builder(&url)
            .config(cfg())
            .handler(Recorder::new(&log))
            .build()
            .unwrap()
            .run_forever()
            .unwrap_err();
        assert!(err.is_closed(), "{err:?}");
        assert_eq!(log.events(), ["open", "error Closed", "close None"]);
    });
}

#[test]
fn a_refused_or_timed_out_handshake_goes_to_on_error_only() {
    within(Duration::from_secs(20), "handshake failures", || {
        // Refused with 404.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut buf = [0; 4096];
            let _ = tcp.read(&mut buf);
            tcp.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        });
        let log = Log::default();
        let err = WebSocketApp::builder(&format!("ws://127.0.0.1:{port}/"))
            .config(cfg())
            .handler(Recorder::new(&log))
            .build()
            .unwrap()
            .run_forever()
            .unwrap_err();
        assert_eq!(err.http_status(), Some(404));
        assert_eq!(log.events(), ["error BadStatus"]);

        // A server that never answers the upgrade.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let log = Log::default();
        let err = WebSocketApp::builder(&format!("ws://127.0.0.1:{port}/"))
            .config(
                config()
                    .handshake_timeout(Some(Duration::from_millis(200)))
                    .build()
                    .unwrap(),
            )
            .handler(Recorder::new(&log))
            .build()
            .unwrap()
            .run_forever()
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(log.events(), ["error Timeout"]);
        drop(silent);
    });
}

#[test]
fn a_missing_pong_is_a_timeout() {
    within(Duration::from_secs(20), "no pong", || {
        let pings = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&pings);
        // A peer that reads everything and answers nothing.
        let url = scripted(vec![script(move |mut c| {
            let mut chunk = [0; 4096];
            while let Ok(n) = c.tcp.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if chunk[0] & 0x0f == 0x9 {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
        })]);
        let log = Log::default();
        let started = Instant::now();
        let err = WebSocketApp::builder(&url)
            .config(cfg())
            .handler(Recorder::new(&log))
            .ping_interval(Duration::from_millis(150))
            .ping_timeout(Duration::from_millis(100))
            .build()
            .unwrap()
            .run_forever()
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("pong"), "{err}");
        // The first ping one interval after open, the timeout one ping_timeout later.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(240), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert_eq!(log.events(), ["open", "error Timeout", "close None"]);
        assert!(pings.load(Ordering::SeqCst) >= 1);
    });
}

#[test]
fn keepalive_pings_are_answered_and_timed() {
    within(Duration::from_secs(20), "keepalive", || {
        let server = EchoServer::start().unwrap();
        let log = Log::default();
        let app = WebSocketApp::builder(&server.url())
            .config(cfg())
            .handler(Recorder::new(&log))
            .ping_interval(Duration::from_millis(100))
            .ping_timeout(Duration::from_millis(80))
            .ping_payload("keepalive")
            .build()
            .unwrap();
        let handle = app.handle();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(450));
            let (ping, pong) = (handle.last_ping(), handle.last_pong());
            handle.close();
            (ping, pong)
        });
        app.run_forever().unwrap();
        let (ping, pong) = closer.join().unwrap();
        assert!(ping.is_some() && pong.is_some() && pong >= ping);
        let pongs = log.events().iter().filter(|e| *e == "pong").count();
        assert!((3..=5).contains(&pongs), "{:?}", log.events());
        assert_eq!(log.events().last().unwrap(), "close 1000 ");
    });
}

#[test]
fn a_server_ping_reaches_on_ping_after_the_pong_went_out() {
    within(Duration::from_secs(20), "server ping", || {
        let got_pong = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&got_pong);
        let url = scripted(vec![script(move |mut c| {
            c.send_ping(b"are you there");
            while let Some(event) = c.next() {
                if event == "pong" {
                    flag.store(true, Ordering::SeqCst);
                    c.close(1000, "");
                }
            }
        })]);
        let log = Log::default();
        let checked = Arc::new(AtomicBool::new(false));
        let saw = Arc::clone(&checked);
        WebSocketApp::builder(&url)
            .config(cfg())
            .on_ping(move |_, payload| {
                assert_eq!(payload, b"are you there");
                // The pong left before this callback: the peer gets it without our help.
                let start = Instant::now();
                while !got_pong.load(Ordering::SeqCst) {
                    assert!(
                        start.elapsed() < Duration::from_secs(5),
                        "no pong reached the peer"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                saw.store(true, Ordering::SeqCst);
            })
            .on_close({
                let log = log.clone();
                move |_, frame| log.push(format!("close {}", close_text(frame.as_ref())))
            })
            .build()
            .unwrap()
            .run_forever()
            .unwrap();
        assert!(checked.load(Ordering::SeqCst));
        assert_eq!(log.events(), ["close 1000 "]);
    });
}

#[test]
fn reconnects_after_a_drop_and_after_a_server_close_call_on_reconnect() {
    within(Duration::from_secs(20), "reconnects", || {
        let url = scripted(vec![
            script(drop),
            script(|mut c| {
                c.close(1001, "restart");
                while c.next().is_some() {}
            }),
            script(|mut c| {
                c.send_text("third");
                while c.next().is_some() {}
            }),
        ]);
        let log = Log::default();
        WebSocketApp::builder(&url)
            .config(cfg())
            .handler(Recorder::new(&log).then(|app, _| app.close()))
            .reconnect(Reconnect::Fixed(Duration::from_millis(20)))
            .build()
            .unwrap()
            .run_forever()
            .unwrap();
        assert_eq!(
            log.events(),
            [
                "open",
                "error Closed",
                "close None",
                "reconnect",
                "close 1001 restart",
                "reconnect",
                "message third",
                "close 1000 "
            ]
        );
    });
}

#[test]
fn a_close_from_another_thread_ends_run_forever_at_once_and_never_reconnects() {
    within(Duration::from_secs(20), "close from another thread", || {
        let server = EchoServer::start().unwrap();
        let log = Log::default();
        let app = WebSocketApp::builder(&server.url())
            .config(cfg())
            .handler(Recorder::new(&log))
            .reconnect(Reconnect::Fixed(Duration::from_millis(10)))
            .build()
            .unwrap();
        let handle = app.handle();
        let runner = std::thread::spawn(move || {
            app.run_forever().unwrap();
            Instant::now()
        });
        while !handle.is_connected() {
            std::thread::sleep(Duration::from_millis(2));
        }
        let asked = Instant::now();
        handle.close();
        let returned = runner.join().unwrap();
        let took = returned.duration_since(asked);
        eprintln!("handle.close() to run_forever returning: {took:?}");
        assert!(took < Duration::from_millis(500), "{took:?}");
        assert_eq!(log.events(), ["open", "close 1000 "]);
        assert!(handle.send_text("late").unwrap_err().is_closed());

        // A peer that never answers the close: cut off at the close timeout.
        let url = scripted(vec![script(|mut c| {
            let mut chunk = [0; 4096];
            while matches!(c.tcp.read(&mut chunk), Ok(n) if n > 0) {}
        })]);
        let log = Log::default();
        let app = WebSocketApp::builder(&url)
            .config(
                config()
                    .close_timeout(Duration::from_millis(300))
                    .build()
                    .unwrap(),
            )
            .handler(Recorder::new(&log))
            .reconnect(Reconnect::Fixed(Duration::from_millis(10)))
            .build()
            .unwrap();
        let handle = app.handle();
        let runner = std::thread::spawn(move || app.run_forever());
        while !handle.is_connected() {
            std::thread::sleep(Duration::from_millis(2));
        }
        let asked = Instant::now();
        handle.close();
        runner.join().unwrap().unwrap();
        let took = asked.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_millis(1500),
            "{took:?}"
        );
        assert_eq!(log.events(), ["open", "close None"]);
    });
}

#[test]
fn a_close_cuts_a_reconnect_wait_short() {
    within(Duration::from_secs(20), "close while reconnecting", || {
        let url = scripted(vec![script(drop)]);
        let log = Log::default();
        let app = WebSocketApp::builder(&url)
            .config(cfg())
            .handler(Recorder::new(&log))
            .reconnect(Reconnect::Fixed(Duration::from_secs(60)))
            .build()
            .unwrap();
        let handle = app.handle();
        let runner = std::thread::spawn(move || app.run_forever());
        while log.events().len() < 3 {
            std::thread::sleep(Duration::from_millis(2));
        }
        // Between connections: sends say so.
        let err = handle.send_text("nobody").unwrap_err();
        assert!(err.to_string().contains("between connections"), "{err}");
        let asked = Instant::now();
        handle.close();
        runner.join().unwrap().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(500));
        assert_eq!(log.events(), ["open", "error Closed", "close None"]);
    });
}

#[test]
fn the_handle_sends_from_four_threads_while_the_loop_runs() {
    within(Duration::from_secs(30), "four senders", || {
        let server = EchoServer::start().unwrap();
        let received = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&received);
        let app = WebSocketApp::builder(&server.url())
            .config(cfg())
            .on_message(move |app, _| {
                if count.fetch_add(1, Ordering::SeqCst) + 1 == 400 {
                    app.close();
                }
            })
            .build()
            .unwrap();
        let handle = app.handle();
        // Before the app runs, there is nothing to send on.
        let err = handle.send_text("early").unwrap_err();
        assert!(err.to_string().contains("not running"), "{err}");
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    while !handle.is_connected() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    for i in 0..100 {
                        handle.send_text(&format!("{t}:{i}")).unwrap();
                    }
                })
            })
            .collect();
        app.run_forever().unwrap();
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(received.load(Ordering::SeqCst), 400);
    });
}

#[test]
fn cookies_from_the_first_handshake_go_back_on_the_reconnect_and_headers_are_fresh() {
    within(Duration::from_secs(20), "cookies and header_fn", || {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r1, r2) = (Arc::clone(&requests), Arc::clone(&requests));
        let url = scripted(vec![
            (
                "Set-Cookie: session=abc",
                Box::new(move |c: Conn| {
                    r1.lock().unwrap().push(c.request.clone());
                    drop(c);
                }),
            ),
            script(move |mut c| {
                r2.lock().unwrap().push(c.request.clone());
                c.send_text("welcome back");
                while c.next().is_some() {}
            }),
        ]);
        let tokens = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&tokens);
        let log = Log::default();
        WebSocketApp::builder(&url)
            .config(cfg())
            .header_fn(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                vec![("X-Token".into(), format!("token-{n}"))]
            })
            .handler(Recorder::new(&log).then(|app, _| app.close()))
            .reconnect(Reconnect::Fixed(Duration::from_millis(10)))
            .build()
            .unwrap()
            .run_forever()
            .unwrap();
        let requests = requests.lock().unwrap();
        assert!(
            requests[0].contains("X-Token: token-1\r\n"),
            "{}",
            requests[0]
        );
        assert!(!requests[0].contains("Cookie:"));
        assert!(
            requests[1].contains("X-Token: token-2\r\n"),
            "{}",
            requests[1]
        );
        assert!(
            requests[1].contains("Cookie: session=abc\r\n"),
            "{}",
            requests[1]
        );
    });
}

#[test]
fn fragments_reach_on_data_and_on_cont_message_with_the_message_opcode() {
    within(Duration::from_secs(20), "fragments", || {
        let url = scripted(vec![script(|mut c| {
            c.session.send_frame(OpCode::Text, false, b"ab").unwrap();
            c.session
                .send_frame(OpCode::Continuation, true, b"cd")
                .unwrap();
            c.write_out();
            c.close(1000, "");
            while c.next().is_some() {}
        })]);
        let log = Log::default();
        let mut recorder = Recorder::new(&log);
        recorder.fragments = true;
        WebSocketApp::builder(&url)
            .config(cfg())
            .handler(recorder)
            .build()
            .unwrap()
            .run_forever()
            .unwrap();
        assert_eq!(
            log.events(),
            [
                "open",
                "data Text ab false",
                "fragment Text ab false",
                "data Text cd true",
                "cont cd true",
                "close 1000 "
            ]
        );
    });
}

#[test]
fn invalid_keepalive_settings_are_refused_when_building() {
    let url = "ws://127.0.0.1:9/";
    let err = WebSocketApp::builder(url)
        .ping_timeout(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("needs a ping_interval"), "{err}");
    let err = WebSocketApp::builder(url)
        .ping_interval(Duration::from_secs(1))
        .ping_timeout(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("shorter than ping_interval"),
        "{err}"
    );
    let err = WebSocketApp::builder(url)
        .ping_interval(Duration::from_secs(1))
        .ping_payload(vec![0; 126])
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("ping_payload too long"), "{err}");
}

#[test]
fn a_close_before_running_makes_run_forever_return_at_once() {
    let app = WebSocketApp::builder("ws://127.0.0.1:9/").build().unwrap();
    app.handle().close();
    let started = Instant::now();
    app.run_forever().unwrap();
    assert!(started.elapsed() < Duration::from_millis(100));
}
