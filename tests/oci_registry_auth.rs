//! Registry authentication against a scripted HTTP server on loopback:
//! anonymous, basic, and bearer tokens fetched from the challenge's realm
//! (with the basic credentials), refused credentials, and a token realm
//! that would leak credentials over plain HTTP.
#![cfg(feature = "oci-registry")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use custodia::oci::registry::{Credentials, Registry, RegistryOptions};

/// What the scripted registry demands.
#[derive(Clone, Copy)]
enum Mode {
    Anonymous,
    Basic,
    Bearer,
}

const BASIC: &str = "Basic dXNlcjpzM2NyZXQ="; // user:s3cret
const TOKEN: &str = "tok-123";

/// Serves until dropped; records `METHOD PATH AUTHORIZATION` per request.
struct Mock {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn serve(mode: Mode, realm_scheme: &'static str) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut authorization = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("authorization") {
                        authorization = v.trim().to_owned();
                    }
                }
            }
            let mut parts = request_line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            seen.lock()
                .unwrap()
                .push(format!("{method} {path} {authorization}"));
            let challenge = match mode {
                Mode::Anonymous => None,
                Mode::Basic => Some(r#"Basic realm="mock""#.to_owned()),
                Mode::Bearer => Some(format!(
                    r#"Bearer realm="{realm_scheme}://127.0.0.1:{port}/token",service="mock",scope="repository:app:pull""#
                )),
            };
            let (status, extra, body) = if path.starts_with("/token") {
                if authorization == BASIC {
                    ("200 OK", String::new(), format!(r#"{{"token":"{TOKEN}"}}"#))
                } else {
                    ("401 Unauthorized", String::new(), String::new())
                }
            } else {
                let ok = match mode {
                    Mode::Anonymous => true,
                    Mode::Basic => authorization == BASIC,
                    Mode::Bearer => authorization == format!("Bearer {TOKEN}"),
                };
                if ok {
                    ("200 OK", String::new(), "{}".to_owned())
                } else {
                    (
                        "401 Unauthorized",
                        format!("WWW-Authenticate: {}\r\n", challenge.unwrap_or_default()),
                        r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.to_owned(),
                    )
                }
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Mock { port, log }
}

fn client(mock: &Mock, credentials: Option<Credentials>) -> Registry {
    let mut options = RegistryOptions::new().plain_http();
    if let Some(c) = credentials {
        options = options.credentials(c);
    }
    Registry::new(&format!("127.0.0.1:{}", mock.port), "app", options).unwrap()
}

fn basic(password: &str) -> Option<Credentials> {
    Some(Credentials::Basic {
        username: "user".into(),
        password: password.into(),
    })
}

#[test]
fn anonymous() {
    let mock = serve(Mode::Anonymous, "http");
    client(&mock, None).ping().unwrap();
    assert_eq!(mock.log.lock().unwrap().as_slice(), ["GET /v2/ "]);
}

#[test]
fn basic_credentials_answer_a_basic_challenge() {
    let mock = serve(Mode::Basic, "http");
    client(&mock, basic("s3cret")).ping().unwrap();
    assert_eq!(
        mock.log.lock().unwrap().as_slice(),
        ["GET /v2/ ".to_owned(), format!("GET /v2/ {BASIC}")]
    );
    let err = client(&mock, basic("wrong")).ping().unwrap_err();
    assert!(err.to_string().contains("credentials refused"), "{err}");
    let err = client(&mock, None).ping().unwrap_err();
    assert!(err.to_string().contains("no usable credentials"), "{err}");
}

#[test]
fn bearer_tokens_come_from_the_realm() {
    let mock = serve(Mode::Bearer, "http");
    let registry = client(&mock, basic("s3cret"));
    registry.ping().unwrap();
    registry.ping().unwrap(); // the token is kept
    let log = mock.log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "GET /v2/ ".to_owned(),
            format!("GET /token?service=mock&scope=repository%3Aapp%3Apull {BASIC}"),
            format!("GET /v2/ Bearer {TOKEN}"),
            format!("GET /v2/ Bearer {TOKEN}"),
        ]
    );
    // A token given directly is sent as is.
    let mock = serve(Mode::Bearer, "http");
    client(&mock, Some(Credentials::Bearer(TOKEN.into())))
        .ping()
        .unwrap();
    assert_eq!(mock.log.lock().unwrap().len(), 1);
    // Without credentials the token server refuses: a typed error.
    let mock = serve(Mode::Bearer, "http");
    let err = client(&mock, None).ping().unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[test]
fn credentials_never_go_to_a_plain_http_realm_over_tls() {
    // The registry itself is plain HTTP here (a test), but a client that
    // did not opt into plain HTTP refuses to connect at all, and one that
    // speaks HTTPS refuses an http:// token realm.
    let mock = serve(Mode::Bearer, "http");
    let tls_client = Registry::new(
        &format!("127.0.0.1:{}", mock.port),
        "app",
        RegistryOptions::new().credentials(basic("s3cret").unwrap()),
    )
    .unwrap();
    assert!(tls_client.ping().is_err());
    assert!(
        mock.log
            .lock()
            .unwrap()
            .iter()
            .all(|l| !l.contains(BASIC) && !l.contains("/token"))
    );
}

#[test]
fn credentials_are_not_printed() {
    let c = Credentials::Basic {
        username: "user".into(),
        password: "s3cret".into(),
    };
    assert!(!format!("{c:?}").contains("s3cret"));
    assert!(!format!("{:?}", Credentials::Bearer(TOKEN.into())).contains(TOKEN));
}
