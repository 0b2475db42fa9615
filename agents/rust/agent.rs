//! closematrix agent, protocol 1 (docs/agent-protocol.md): Rust's
//! std::net::TcpStream, every blocking call on a thread of its own. Standard
//! library only, built with plain `rustc -O --edition 2021` (no crates; the
//! harness builds it once per source and rustc version, agents/embed.go).
//!
//! One JSON object per line: the hello first, then one answer per command,
//! in any order, matched by id. A blocking call (accept, recv, send) first
//! says "started", with its thread's native id where the system names it
//! (Linux: /proc/thread-self, proc(5)). The agent exits when its stdin
//! closes. An error is the io::ErrorKind and the raw OS error
//! (io::Error::raw_os_error: errno, or the WSA code on Windows), from which
//! the harness takes the class.
//!
//! What std does not offer is said, not worked around: stable std has no
//! SO_LINGER setter (TcpStream::set_linger is unstable: feature tcp_linger,
//! rust-lang/rust#88494),
//! so abort and set-linger are not in the hello's ops; and a TcpStream has no
//! close() — dropping it closes the socket once no call holds it (a call in
//! flight holds its own reference, as any Rust program's threads would, so
//! closing while a call is blocked leaves the descriptor open until the call
//! returns), and a dropped stream cannot be called again.

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

const PROTOCOL: u32 = 1;
const OPS: &[&str] = &["listen", "close-listener", "accept", "dial", "send", "recv", "shutdown", "close", "fill"];
const NO_LINGER: &str = "std::net::TcpStream has no SO_LINGER setter on stable Rust \
(TcpStream::set_linger is unstable: feature tcp_linger, rust-lang/rust#88494)";
const DROPPED: &str = "the TcpStream was dropped (Rust has no close(): dropping is closing), \
and a dropped stream cannot be called: there is no runtime answer to observe";

// ---- JSON: just enough for protocol 1 ------------------------------------

#[derive(Clone, Debug)]
enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    List(Vec<Val>),
    Obj(Vec<(String, Val)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Result<u8, String> {
        self.ws();
        self.s.get(self.i).copied().ok_or_else(|| "unexpected end".to_string())
    }
    fn value(&mut self) -> Result<Val, String> {
        let c = self.peek()?;
        match c {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Ok(Val::Obj(m));
                }
                loop {
                    if self.peek()? != b'"' {
                        return Err(format!("want a key at {}", self.i));
                    }
                    let k = self.string()?;
                    if self.peek()? != b':' {
                        return Err(format!("want : at {}", self.i));
                    }
                    self.i += 1;
                    let v = self.value()?;
                    m.push((k, v));
                    let d = self.peek()?;
                    self.i += 1;
                    match d {
                        b'}' => return Ok(Val::Obj(m)),
                        b',' => {}
                        _ => return Err(format!("want , or }} at {}", self.i - 1)),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut l = Vec::new();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Ok(Val::List(l));
                }
                loop {
                    l.push(self.value()?);
                    let d = self.peek()?;
                    self.i += 1;
                    match d {
                        b']' => return Ok(Val::List(l)),
                        b',' => {}
                        _ => return Err(format!("want , or ] at {}", self.i - 1)),
                    }
                }
            }
            b'"' => Ok(Val::Str(self.string()?)),
            _ => {
                let rest = &self.s[self.i..];
                for (word, v) in [("true", Val::Bool(true)), ("false", Val::Bool(false)), ("null", Val::Null)] {
                    if rest.starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                let start = self.i;
                while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                n.parse::<f64>().map(Val::Num).map_err(|_| format!("unexpected {:?} at {}", c as char, start))
            }
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // the opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated string")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
                            let n = u32::from_str_radix(std::str::from_utf8(hex).unwrap_or("x"), 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(n).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }
}

fn parse(s: &str) -> Result<Val, String> {
    let mut p = Parser { s: s.as_bytes(), i: 0 };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing characters at {}", p.i));
    }
    Ok(v)
}

fn write_json(b: &mut String, v: &Val) {
    match v {
        Val::Null => b.push_str("null"),
        Val::Bool(x) => b.push_str(if *x { "true" } else { "false" }),
        Val::Num(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                b.push_str(&format!("{}", *n as i64))
            } else {
                b.push_str(&format!("{}", n))
            }
        }
        Val::Str(s) => {
            b.push('"');
            for c in s.chars() {
                match c {
                    '"' => b.push_str("\\\""),
                    '\\' => b.push_str("\\\\"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        // Every non-ASCII character escaped, as UTF-16 units.
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            b.push_str(&format!("\\u{:04x}", u));
                        }
                    }
                    c => b.push(c),
                }
            }
            b.push('"');
        }
        Val::List(l) => {
            b.push('[');
            for (k, x) in l.iter().enumerate() {
                if k > 0 {
                    b.push(',');
                }
                write_json(b, x);
            }
            b.push(']');
        }
        Val::Obj(m) => {
            b.push('{');
            for (k, (key, x)) in m.iter().enumerate() {
                if k > 0 {
                    b.push(',');
                }
                write_json(b, &Val::Str(key.clone()));
                b.push(':');
                write_json(b, x);
            }
            b.push('}');
        }
    }
}

fn s(v: &str) -> Val {
    Val::Str(v.to_string())
}
fn n(v: u64) -> Val {
    Val::Num(v as f64)
}

// ---- output ---------------------------------------------------------------

static OUT: Mutex<()> = Mutex::new(());

fn emit(fields: Vec<(String, Val)>) {
    let mut line = String::new();
    write_json(&mut line, &Val::Obj(fields));
    line.push('\n');
    let _g = OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut o = io::stdout().lock();
    if o.write_all(line.as_bytes()).and_then(|_| o.flush()).is_err() {
        std::process::exit(1); // the harness is gone
    }
}

fn f(k: &str, v: Val) -> (String, Val) {
    (k.to_string(), v)
}

/// The calling thread's native id: /proc/thread-self links to PID/task/TID
/// (proc(5)); 0 where there is no such link.
fn native_tid() -> u64 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().and_then(|x| x.to_str()).and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

static THREAD_IDS: OnceLock<bool> = OnceLock::new();

// ---- objects --------------------------------------------------------------

enum Obj {
    Listener(Mutex<Option<Arc<TcpListener>>>),
    Conn(Mutex<Option<Arc<TcpStream>>>),
}

static OBJS: OnceLock<Mutex<HashMap<String, Arc<Obj>>>> = OnceLock::new();
static NAMES: AtomicU64 = AtomicU64::new(0);

fn objs() -> &'static Mutex<HashMap<String, Arc<Obj>>> {
    OBJS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn register(prefix: &str, o: Obj) -> String {
    let name = format!("{}{}", prefix, NAMES.fetch_add(1, Ordering::SeqCst) + 1);
    objs().lock().unwrap().insert(name.clone(), Arc::new(o));
    name
}

/// How a command ends other than ok: the runtime's error, an operation this
/// API cannot make, or a command the agent cannot read.
enum Fail {
    Io(io::Error),
    Unsupported(String),
    Bad(String),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Io(e)
    }
}

type Cmd = Vec<(String, Val)>;

fn get<'a>(c: &'a Cmd, k: &str) -> Option<&'a Val> {
    c.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

fn field_str<'a>(c: &'a Cmd, k: &str) -> Result<&'a str, Fail> {
    match get(c, k) {
        Some(Val::Str(x)) => Ok(x),
        _ => Err(Fail::Bad(format!("missing field {}", k))),
    }
}

fn field_num(c: &Cmd, k: &str) -> Result<u64, Fail> {
    match get(c, k) {
        Some(Val::Num(x)) if *x >= 0.0 => Ok(*x as u64),
        _ => Err(Fail::Bad(format!("missing field {}", k))),
    }
}

fn lookup(c: &Cmd, k: &str) -> Result<Arc<Obj>, Fail> {
    let name = field_str(c, k)?;
    objs().lock().unwrap().get(name).cloned().ok_or_else(|| Fail::Bad(format!("unknown {} {}", k, name)))
}

/// The connection's stream, a reference of the call's own; a dropped one
/// cannot be called.
fn conn(c: &Cmd) -> Result<Arc<TcpStream>, Fail> {
    match &*lookup(c, "conn")? {
        Obj::Conn(m) => m.lock().unwrap().clone().ok_or_else(|| Fail::Unsupported(DROPPED.to_string())),
        _ => Err(Fail::Bad("not a connection".to_string())),
    }
}

fn listener(c: &Cmd) -> Result<Arc<TcpListener>, Fail> {
    match &*lookup(c, "listener")? {
        Obj::Listener(m) => m.lock().unwrap().clone().ok_or_else(|| Fail::Unsupported(DROPPED.to_string())),
        _ => Err(Fail::Bad("not a listener".to_string())),
    }
}

fn loopback(c: &Cmd, port: u16) -> Result<SocketAddr, Fail> {
    match field_str(c, "family")? {
        "v4" => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        "v6" => Ok(SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port))),
        other => Err(Fail::Bad(format!("family {}: want v4 or v6", other))),
    }
}

fn conn_answer(st: TcpStream) -> Result<Cmd, Fail> {
    let local = st.local_addr()?.to_string();
    let remote = st.peer_addr()?.to_string();
    let name = register("c", Obj::Conn(Mutex::new(Some(Arc::new(st)))));
    Ok(vec![f("status", s("ok")), f("conn", s(&name)), f("local", s(&local)), f("remote", s(&remote))])
}

fn started(c: &Cmd) {
    let mut m = vec![f("id", get(c, "id").cloned().unwrap_or(Val::Null)), f("started", Val::Bool(true))];
    if *THREAD_IDS.get().unwrap_or(&false) {
        m.push(f("tid", n(native_tid())));
    }
    emit(m);
}

fn ok() -> Cmd {
    vec![f("status", s("ok"))]
}

fn run(c: &Cmd) -> Result<Cmd, Fail> {
    let op = field_str(c, "op")?;
    match op {
        "listen" => {
            let l = TcpListener::bind(loopback(c, 0)?)?;
            let port = l.local_addr()?.port();
            let name = register("l", Obj::Listener(Mutex::new(Some(Arc::new(l)))));
            Ok(vec![f("status", s("ok")), f("listener", s(&name)), f("port", n(port as u64))])
        }
        "close-listener" => {
            match &*lookup(c, "listener")? {
                Obj::Listener(m) => drop(m.lock().unwrap().take()),
                _ => return Err(Fail::Bad("not a listener".to_string())),
            }
            Ok(ok())
        }
        "accept" => {
            let l = listener(c)?;
            started(c);
            let (st, _) = l.accept()?;
            conn_answer(st)
        }
        "dial" => {
            let port = field_num(c, "port")? as u16;
            conn_answer(TcpStream::connect(loopback(c, port)?)?)
        }
        "send" => {
            let st = conn(c)?;
            let buf = vec![0u8; field_num(c, "n")? as usize];
            started(c);
            (&*st).write_all(&buf)?; // what Rust programs call; the first error ends it
            Ok(vec![f("status", s("ok")), f("n", n(buf.len() as u64))])
        }
        "recv" => {
            let st = conn(c)?;
            let mut buf = vec![0u8; field_num(c, "max")? as usize];
            started(c);
            let got = (&*st).read(&mut buf)?;
            Ok(vec![f("status", s("ok")), f("n", n(got as u64))])
        }
        "shutdown" => {
            let how = match field_str(c, "how")? {
                "rd" => Shutdown::Read,
                "wr" => Shutdown::Write,
                "rdwr" => Shutdown::Both,
                other => return Err(Fail::Bad(format!("how {}: want rd, wr or rdwr", other))),
            };
            conn(c)?.shutdown(how)?;
            Ok(ok())
        }
        "close" => {
            match &*lookup(c, "conn")? {
                // Drop the agent's reference; the socket closes when the
                // last (a call in flight's) is dropped.
                Obj::Conn(m) => drop(m.lock().unwrap().take()),
                _ => return Err(Fail::Bad("not a connection".to_string())),
            }
            Ok(ok())
        }
        "fill" => {
            // Queue data without blocking until the send buffer is full:
            // a non-blocking write fails with WouldBlock then.
            let st = conn(c)?;
            let chunk = vec![0u8; 64 << 10];
            st.set_nonblocking(true)?;
            let mut total: u64 = 0;
            let res = loop {
                match (&*st).write(&chunk) {
                    Ok(k) => total += k as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            st.set_nonblocking(false)?;
            res?;
            Ok(vec![f("status", s("ok")), f("n", n(total))])
        }
        "abort" | "set-linger" => Err(Fail::Unsupported(NO_LINGER.to_string())),
        "pause-reading" => Err(Fail::Unsupported(
            "a blocking TcpStream reads only inside read(): there is no reading to pause".to_string(),
        )),
        other => Err(Fail::Bad(format!("unknown op {}", other))),
    }
}

fn serve(c: Cmd) {
    let mut ans = vec![f("id", get(&c, "id").cloned().unwrap_or(Val::Null))];
    match run(&c) {
        Ok(a) => ans.extend(a),
        Err(Fail::Io(e)) => {
            let mut d = vec![f("type", s(&format!("{:?}", e.kind()))), f("message", s(&e.to_string()))];
            if let Some(code) = e.raw_os_error() {
                d.push(f("errno", Val::Num(code as f64)));
            }
            ans.push(f("status", s("error")));
            ans.push(f("error", Val::Obj(d)));
        }
        Err(Fail::Unsupported(r)) => {
            ans.push(f("status", s("unsupported")));
            ans.push(f("reason", s(&r)));
        }
        Err(Fail::Bad(r)) => {
            ans.push(f("status", s("bad-request")));
            ans.push(f("reason", s(&r)));
        }
    }
    emit(ans);
}

fn main() {
    THREAD_IDS.set(native_tid() > 0).ok();
    // The rustc that built this agent (agents/embed.go sets it at build).
    let rustc = option_env!("CLOSEMATRIX_RUSTC_VERSION").unwrap_or("rustc (unknown version)");
    let version = rustc.split_whitespace().nth(1).unwrap_or("unknown").to_string();
    emit(vec![
        f("protocol", n(PROTOCOL as u64)),
        f("runtime", s("Rust")),
        f("version", s(&version)),
        f("api", s("std::net::TcpStream")),
        f("ops", Val::List(OPS.iter().map(|o| s(o)).collect())),
        f("thread_ids", Val::Bool(*THREAD_IDS.get().unwrap_or(&false))),
        f("abort", s(NO_LINGER)),
        f("options", Val::Obj(vec![f("rustc", s(rustc)), f("close", s("drop: no close() in std"))])),
        f("pid", n(std::process::id() as u64)),
    ]);
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cmd = match parse(line) {
            Ok(Val::Obj(m)) if matches!(get(&m, "id"), Some(Val::Num(_))) && matches!(get(&m, "op"), Some(Val::Str(_))) => m,
            Ok(_) => {
                emit(vec![f("id", n(0)), f("status", s("bad-request")), f("reason", s("unreadable command: no id or op"))]);
                continue;
            }
            Err(e) => {
                emit(vec![f("id", n(0)), f("status", s("bad-request")), f("reason", s(&format!("unreadable command: {}", e)))]);
                continue;
            }
        };
        thread::spawn(move || serve(cmd));
    }
    let _ = io::stdout().flush();
    std::process::exit(0); // threads still blocked in calls do not hold the exit
}
