//! Independent check of the rust view (closematrix issue 19, point 1): the
//! four scenarios of the other runtimes' checks played on std::net sockets
//! directly, not through the agent, printing what each step saw as one JSON
//! object on the last line of stdout. harness/agents_check_test.go
//! (TestIndependentChecks) builds it with rustc and compares with the
//! view's cells.
//!
//! abort/idle and abort/unread-at-peer need SO_LINGER {1, 0}, which stable
//! std cannot set (TcpStream::set_linger is unstable, rust-lang/rust#88494):
//! the check says so ("unsupported"), and the view must skip them too.
//!
//! Run: rustc --edition 2021 -o /tmp/check agents/rust/check.rs && /tmp/check

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::Duration;

/// A call's result as the matrix's class word, this program's own reading
/// of io::ErrorKind.
fn word(r: io::Result<Option<usize>>) -> String {
    match r {
        Ok(Some(0)) => "eof".to_string(),
        Ok(Some(n)) => format!("data {}", n),
        Ok(None) => "ok".to_string(),
        Err(e) => match e.kind() {
            io::ErrorKind::ConnectionReset => "reset".to_string(),
            io::ErrorKind::BrokenPipe => "broken-pipe".to_string(),
            k => format!("{:?} {:?}", k, e.raw_os_error()),
        },
    }
}

fn pair() -> (TcpStream, TcpStream) {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let actor = TcpStream::connect(ln.local_addr().unwrap()).unwrap();
    let (peer, _) = ln.accept().unwrap();
    (actor, peer)
}

/// The harness waits on the system's table; here, a plain pause for the FIN
/// or RST to cross loopback (microseconds) on a loaded machine.
fn settle() {
    sleep(Duration::from_millis(50));
}

fn recv(s: &mut TcpStream) -> io::Result<Option<usize>> {
    let mut b = vec![0u8; 65536];
    s.read(&mut b).map(Some)
}

fn send(s: &mut TcpStream, n: usize) -> io::Result<Option<usize>> {
    s.write_all(&vec![0u8; n]).map(|_| None)
}

fn main() {
    let mut seen: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();

    let (actor, mut peer) = pair();
    drop(actor); // Rust's close
    settle();
    let mut m = BTreeMap::new();
    m.insert("peer.recv", word(recv(&mut peer)));
    m.insert("peer.send", word(send(&mut peer, 32)));
    settle();
    m.insert("peer.send#2", word(send(&mut peer, 32)));
    seen.insert("close/idle", m);

    let (actor, mut peer) = pair();
    send(&mut peer, 1024).unwrap();
    settle();
    drop(actor);
    settle();
    let mut m = BTreeMap::new();
    m.insert("peer.recv", word(recv(&mut peer)));
    seen.insert("close/unread-at-actor", m);

    let why = "std has no SO_LINGER setter: TcpStream::set_linger is unstable (rust-lang/rust#88494)".to_string();
    for id in ["abort/idle", "abort/unread-at-peer"] {
        let mut m = BTreeMap::new();
        m.insert("unsupported", why.clone());
        seen.insert(id, m);
    }

    let mut out = String::from("{");
    for (i, (id, steps)) in seen.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("\"{}\": {{", id));
        for (j, (k, v)) in steps.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("\"{}\": \"{}\"", k, v.replace('"', "'")));
        }
        out.push('}');
    }
    out.push('}');
    println!("{}", out);
}
