//! Denial of service (issue 8, items 1 and 2), against the relay binary with
//! small limits so each case runs in seconds. Clients are told apart by their
//! loopback source address (127.0.0.1, .2, …), as the relay sees them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/relay.rs"]
mod relay;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::signing::{self, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// An HTTP client whose requests come from 127.0.0.`last`.
fn client(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip(last))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn connect_from(last: u8, port: u16) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::new(ip(last), 0)).unwrap();
    s.connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap()
}

/// A correctly signed create whose declared 1000-byte body never comes.
async fn slow_create(last: u8, port: u16) -> TcpStream {
    let owner = OwnerIdentity::generate().unwrap();
    let body = vec![0u8; 1000];
    let headers = signing::sign_with_nonce(
        &owner.signing_key,
        Signer::Owner(owner.public_key()),
        &signing::Request {
            method: "POST",
            path: "/v1/shares",
            body: &body,
            transmission: None,
        },
        relay::now(),
        [7; 16],
    );
    let mut head =
        String::from("POST /v1/shares HTTP/1.1\r\nhost: relay\r\ncontent-length: 1000\r\n");
    for (k, v) in headers.to_pairs() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = connect_from(last, port).await;
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// The status code of the answer on `s`, if it comes within `wait`.
async fn status_within(s: &mut TcpStream, wait: Duration) -> Option<u16> {
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(wait, s.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

async fn healthz(last: u8, base: &str, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, client(last).get(format!("{base}/healthz")).send()).await,
        Ok(Ok(r)) if r.status() == 200
    )
}

/// Item 2: slow bodies from one address take at most its own in-flight share,
/// each is cut off by the short body deadline, and `/healthz` answers even
/// while every shared permit is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_do_not_freeze_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let port = relay::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = relay::start_with(
        dir.path(),
        &format!("sqlite://{}", dir.path().join("db").display()),
        port,
        "[limits]\nmax_in_flight = 4\nmax_in_flight_per_ip = 2\nbody_timeout_secs = 3\n\
         request_timeout_secs = 60\n",
    )
    .await;
    // One address tries 4 slow uploads: 2 are admitted, 2 refused at once.
    let mut mine = Vec::new();
    for _ in 0..4 {
        mine.push(slow_create(1, port).await);
    }
    let mut refused = 0;
    for s in &mut mine {
        if status_within(s, Duration::from_millis(200)).await == Some(429) {
            refused += 1;
        }
    }
    assert_eq!(refused, 2, "the per-address in-flight cap did not hold");
    // A second address takes the last two shared permits.
    let mut theirs = [slow_create(3, port).await, slow_create(3, port).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Every permit is held; health checks still answer.
    assert!(
        healthz(2, &base, Duration::from_secs(1)).await,
        "/healthz waited behind slow bodies"
    );
    // The slow bodies are cut off by the body deadline, not the request timeout.
    for s in mine.iter_mut().chain(theirs.iter_mut()) {
        if let Some(code) = status_within(s, Duration::from_secs(6)).await {
            assert!(code == 408 || code == 429, "{code}");
        }
    }
    let r = client(2)
        .get(format!("{base}/v1/relay-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Item 1: event streams are capped per owner key, per address and in total,
/// end after their lifetime, and an address's idle connections are capped;
/// `/healthz` answers throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_and_connections_cannot_exhaust_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let port = relay::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = relay::start_with(
        dir.path(),
        &format!("sqlite://{}", dir.path().join("db").display()),
        port,
        "[limits]\nmax_streams = 4\nmax_streams_per_owner = 2\nmax_streams_per_ip = 2\n\
         stream_max_secs = 2\nmax_connections_per_ip = 6\n",
    )
    .await;
    let open = |last: u8, owner: &OwnerIdentity| {
        relay::signed_get(&client(last), &base, owner, "/v1/events").send()
    };
    let (a, b, c) = (
        OwnerIdentity::generate().unwrap(),
        OwnerIdentity::generate().unwrap(),
        OwnerIdentity::generate().unwrap(),
    );
    let a1 = open(1, &a).await.unwrap();
    let _a2 = open(3, &a).await.unwrap();
    assert_eq!((a1.status().as_u16(), _a2.status().as_u16()), (200, 200));
    // Per owner key: a third stream of A is refused, from anywhere.
    assert_eq!(open(4, &a).await.unwrap().status(), 429);
    // Per address: 127.0.0.1 has one; a second is fine, a third is not.
    let _b1 = open(1, &b).await.unwrap();
    assert_eq!(_b1.status(), 200);
    assert_eq!(open(1, &c).await.unwrap().status(), 429);
    // In total: a fourth is fine, a fifth is not.
    let _c1 = open(5, &c).await.unwrap();
    assert_eq!(_c1.status(), 200);
    let d = OwnerIdentity::generate().unwrap();
    assert_eq!(open(7, &d).await.unwrap().status(), 429);
    assert!(healthz(2, &base, Duration::from_secs(1)).await);
    // Streams end after their lifetime; the slots come back.
    let ended = tokio::time::timeout(Duration::from_secs(6), a1.bytes()).await;
    assert!(ended.is_ok(), "the stream outlived stream_max_secs");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(open(7, &d).await.unwrap().status(), 200);

    // Idle connections: six from one address are held, the seventh is closed.
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(connect_from(6, port).await);
    }
    let mut extra = connect_from(6, port).await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), extra.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "a connection past the per-address cap was kept open"
    );
    assert!(healthz(2, &base, Duration::from_secs(1)).await);
}

/// Item 1: a client that stops reading a large answer is cut off after
/// `write_timeout_secs`, and its connection slot comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("assets")).unwrap();
    // Far more than the kernel buffers of both ends hold.
    const SIZE: usize = 32 * 1024 * 1024;
    std::fs::write(www.join("assets/big.bin"), vec![7u8; SIZE]).unwrap();
    let port = relay::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = relay::start_with(
        dir.path(),
        &format!("sqlite://{}", dir.path().join("db").display()),
        port,
        &format!(
            "www_dir = {:?}\n[limits]\nwrite_timeout_secs = 1\nmax_connections_per_ip = 1\n",
            www.display().to_string()
        ),
    )
    .await;
    let s = TcpSocket::new_v4().unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.bind(SocketAddr::new(ip(9), 0)).unwrap();
    let mut s = s
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    s.write_all(b"GET /assets/big.bin HTTP/1.1\r\nhost: relay\r\n\r\n")
        .await
        .unwrap();
    // The client reads nothing for a while.
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Its address had one connection slot; it is free again.
    assert!(
        healthz(9, &base, Duration::from_secs(2)).await,
        "the stalled connection still holds its slot"
    );
    // What was buffered arrives, then the connection ends short of the file.
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection stayed open");
    assert!(
        got.len() < SIZE,
        "the whole answer ({} bytes) was delivered",
        got.len()
    );
}
