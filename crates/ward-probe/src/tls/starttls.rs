//! SMTP up to STARTTLS (RFC 3207), so the TLS engine can run over port 25.
//!
//! An explicit state machine (STYLE T1): [`ExpectBanner`] → [`ExpectEhloReply`] →
//! [`ExpectGo`]; each `step` consumes the state and a reply and returns the next state or,
//! as `Err`, the record of where it stopped — so an old state cannot be reused and no
//! impossible transition exists. The driver bounds every reply: at most [`MAX_LINE`] bytes a line,
//! [`MAX_LINES`] lines a reply, and the caller's deadline. Bytes that arrive after the
//! `220` to STARTTLS are a protocol violation (they would be read as plaintext before
//! TLS, the STARTTLS command-injection pattern) and stop the exchange.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ward_model::NetFailure;
use ward_model::tls::{StartTlsOutcome, StartTlsSeen};

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; allow slack).
pub const MAX_LINE: usize = 2048;
/// Most lines in one reply.
pub const MAX_LINES: usize = 64;

/// One SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of each line, after the code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    fn first_text(&self) -> String {
        self.lines.first().cloned().unwrap_or_default()
    }
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line without a valid three-digit code and separator.
    BadLine(String),
    /// A line longer than [`MAX_LINE`].
    LineTooLong,
    /// More than [`MAX_LINES`] lines.
    TooManyLines,
    /// Lines of one reply with different codes.
    MixedCodes,
}

/// Parses complete reply lines from `buf`. `Ok(None)` if the reply is not complete yet;
/// otherwise the reply and how many bytes it used.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut lines = Vec::new();
    let mut code = None;
    let mut pos = 0usize;
    loop {
        let rest = buf.get(pos..).unwrap_or(&[]);
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            return Ok(None);
        };
        if nl > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let raw = rest.get(..nl).unwrap_or(&[]);
        let line = String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)).into_owned();
        pos += nl + 1;
        let digits = line
            .get(..3)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        let sep = line.as_bytes().get(3).copied();
        let (Some(digits), Some(b' ' | b'-') | None) = (digits, sep) else {
            return Err(ReplyError::BadLine(line));
        };
        let this: u16 = digits
            .parse()
            .map_err(|_| ReplyError::BadLine(line.clone()))?;
        if *code.get_or_insert(this) != this {
            return Err(ReplyError::MixedCodes);
        }
        lines.push(line.get(4..).unwrap_or("").to_string());
        if lines.len() > MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        if sep != Some(b'-') {
            return Ok(Some((Reply { code: this, lines }, pos)));
        }
    }
}

/// Whether `first` (a reply's first bytes, however few) can begin an SMTP reply, which
/// starts with three digits. Checked as bytes arrive, so a port speaking another
/// protocol, even a byte a second, is told at once and not waited for.
pub fn could_begin_reply(first: &[u8]) -> bool {
    first.iter().take(3).all(u8::is_ascii_digit)
}

/// Waiting for the 220 greeting.
#[derive(Debug)]
pub struct ExpectBanner;
/// EHLO sent; waiting for 250 and the keywords.
#[derive(Debug)]
pub struct ExpectEhloReply {
    banner: Vec<String>,
}
/// STARTTLS sent; waiting for 220.
#[derive(Debug)]
pub struct ExpectGo {
    banner: Vec<String>,
    keywords: Vec<String>,
}

fn refused(stage: &str, r: &Reply, banner: Vec<String>, keywords: Vec<String>) -> StartTlsSeen {
    StartTlsSeen {
        banner,
        ehlo_keywords: keywords,
        outcome: StartTlsOutcome::Refused {
            stage: stage.into(),
            code: r.code,
            text: r.first_text(),
        },
    }
}

impl ExpectBanner {
    /// The greeting arrived: send EHLO next, or stop.
    pub fn step(self, r: Reply) -> Result<ExpectEhloReply, StartTlsSeen> {
        if r.code == 220 {
            Ok(ExpectEhloReply { banner: r.lines })
        } else {
            let banner = r.lines.clone();
            Err(refused("banner", &r, banner, Vec::new()))
        }
    }
}

impl ExpectEhloReply {
    /// The EHLO reply arrived: send STARTTLS next, or stop.
    pub fn step(self, r: Reply) -> Result<ExpectGo, StartTlsSeen> {
        if r.code != 250 {
            return Err(refused("ehlo", &r, self.banner, Vec::new()));
        }
        // The first line is the greeting; keywords follow, one a line.
        let keywords: Vec<String> = r
            .lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(|k| k.to_ascii_uppercase())
            .collect();
        if keywords.iter().any(|k| k == "STARTTLS") {
            Ok(ExpectGo {
                banner: self.banner,
                keywords,
            })
        } else {
            Err(StartTlsSeen {
                banner: self.banner,
                ehlo_keywords: keywords,
                outcome: StartTlsOutcome::NotOffered,
            })
        }
    }
}

impl ExpectGo {
    /// The reply to STARTTLS arrived: the end either way.
    pub fn step(self, r: Reply) -> StartTlsSeen {
        if r.code == 220 {
            StartTlsSeen {
                banner: self.banner,
                ehlo_keywords: self.keywords,
                outcome: StartTlsOutcome::Ready,
            }
        } else {
            refused("starttls", &r, self.banner, self.keywords)
        }
    }

    fn seen(&self, outcome: StartTlsOutcome) -> StartTlsSeen {
        StartTlsSeen {
            banner: self.banner.clone(),
            ehlo_keywords: self.keywords.clone(),
            outcome,
        }
    }
}

struct Lines<'a> {
    stream: &'a mut TcpStream,
    buf: Vec<u8>,
    deadline: tokio::time::Instant,
}

impl Lines<'_> {
    async fn reply(&mut self, stage: &str) -> Result<Reply, StartTlsOutcome> {
        let mut chunk = [0u8; 1024];
        loop {
            if !could_begin_reply(&self.buf) {
                return Err(StartTlsOutcome::NotSmtp {
                    stage: stage.into(),
                    first_bytes: ward_model::wire::printable(&self.buf),
                });
            }
            match parse_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used.min(self.buf.len()));
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(StartTlsOutcome::Misbehaved {
                        stage: stage.into(),
                        detail: format!("{e:?}"),
                    });
                }
            }
            let net = |failure| StartTlsOutcome::Network {
                stage: stage.into(),
                failure,
            };
            let n = match tokio::time::timeout_at(self.deadline, self.stream.read(&mut chunk)).await
            {
                Err(_) => return Err(net(NetFailure::TimedOut)),
                Ok(Err(e)) => return Err(net(NetFailure::from_io(&e))),
                Ok(Ok(0)) => return Err(net(NetFailure::Closed)),
                Ok(Ok(n)) => n,
            };
            self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        }
    }

    async fn send(&mut self, stage: &str, line: &str) -> Result<(), StartTlsOutcome> {
        match tokio::time::timeout_at(self.deadline, self.stream.write_all(line.as_bytes())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StartTlsOutcome::Network {
                stage: stage.into(),
                failure: NetFailure::from_io(&e),
            }),
            Err(_) => Err(StartTlsOutcome::Network {
                stage: stage.into(),
                failure: NetFailure::TimedOut,
            }),
        }
    }
}

/// Runs SMTP on `stream` up to a `220` for STARTTLS, within `timeout`. On
/// [`StartTlsOutcome::Ready`] the stream is positioned for the TLS ClientHello.
pub async fn negotiate(stream: &mut TcpStream, ehlo_name: &str, timeout: Duration) -> StartTlsSeen {
    let mut io = Lines {
        stream,
        buf: Vec::new(),
        deadline: ward_net::budget::cap(tokio::time::Instant::now() + timeout),
    };
    let blank = |outcome| StartTlsSeen {
        banner: Vec::new(),
        ehlo_keywords: Vec::new(),
        outcome,
    };
    let banner = match io.reply("banner").await {
        Ok(r) => r,
        Err(o) => return blank(o),
    };
    let ehlo = match ExpectBanner.step(banner) {
        Ok(s) => s,
        Err(seen) => return seen,
    };
    if let Err(o) = io.send("ehlo", &format!("EHLO {ehlo_name}\r\n")).await {
        return StartTlsSeen {
            banner: ehlo.banner,
            ehlo_keywords: Vec::new(),
            outcome: o,
        };
    }
    let reply = match io.reply("ehlo").await {
        Ok(r) => r,
        Err(o) => {
            return StartTlsSeen {
                banner: ehlo.banner,
                ehlo_keywords: Vec::new(),
                outcome: o,
            };
        }
    };
    let go = match ehlo.step(reply) {
        Ok(s) => s,
        Err(seen) => return seen,
    };
    if let Err(o) = io.send("starttls", "STARTTLS\r\n").await {
        return go.seen(o);
    }
    let reply = match io.reply("starttls").await {
        Ok(r) => r,
        Err(o) => return go.seen(o),
    };
    if !io.buf.is_empty() {
        return go.seen(StartTlsOutcome::Misbehaved {
            stage: "starttls".into(),
            detail: format!("{} bytes sent after the reply to STARTTLS", io.buf.len()),
        });
    }
    go.step(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_reply() {
        let (r, used) = parse_reply(b"250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\nextra")
            .unwrap()
            .unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, ["mx.example", "PIPELINING", "STARTTLS"]);
        assert_eq!(used, 16 + 16 + 14);
    }

    #[test]
    fn incomplete_reply_waits() {
        assert_eq!(parse_reply(b"250-mx.example\r\n250 STA"), Ok(None));
    }

    #[test]
    fn a_reply_begins_with_three_digits() {
        assert!(could_begin_reply(b""));
        assert!(could_begin_reply(b"2"));
        assert!(could_begin_reply(b"220 mx"));
        assert!(!could_begin_reply(b"\x00"));
        assert!(!could_begin_reply(b"22x"));
        assert!(!could_begin_reply(b"HTTP/1.1 400"));
    }

    #[test]
    fn garbage_and_limits() {
        assert_eq!(
            parse_reply(b"HTTP/1.1 400\r\n"),
            Err(ReplyError::BadLine("HTTP/1.1 400".into()))
        );
        assert_eq!(
            parse_reply(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::MixedCodes)
        );
        assert_eq!(
            parse_reply(&[b'2'; MAX_LINE + 1]),
            Err(ReplyError::LineTooLong)
        );
        let many = "250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(parse_reply(many.as_bytes()), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn machine_paths() {
        let r = |code, lines: &[&str]| Reply {
            code,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        };
        let e = ExpectBanner.step(r(220, &["mx ESMTP"])).unwrap();
        let seen = e
            .step(r(250, &["mx", "PIPELINING", "8BITMIME"]))
            .unwrap_err();
        assert_eq!(seen.outcome, StartTlsOutcome::NotOffered);
        assert_eq!(seen.ehlo_keywords, ["PIPELINING", "8BITMIME"]);

        let seen = ExpectBanner.step(r(421, &["try later"])).unwrap_err();
        assert_eq!(
            seen.outcome,
            StartTlsOutcome::Refused {
                stage: "banner".into(),
                code: 421,
                text: "try later".into()
            }
        );

        let e = ExpectBanner.step(r(220, &["mx"])).unwrap();
        let g = e.step(r(250, &["mx", "starttls"])).unwrap();
        let seen = g.step(r(454, &["TLS not available"]));
        assert_eq!(
            seen.outcome,
            StartTlsOutcome::Refused {
                stage: "starttls".into(),
                code: 454,
                text: "TLS not available".into()
            }
        );
    }
}
