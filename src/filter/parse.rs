//! The filter language: words → tokens → `state`/`exclude` mask and an expression tree.
//!
//! Tokens keep their position in the input (the words joined by single spaces), so every error
//! can point at the token that caused it.

use std::net::IpAddr;

use super::lookup::Lookup;
use super::{CmpOp, Cond, Expr, HostCond, PortSpec, Prefix, Side, ALL_STATES};
use crate::model::State;

/// A malformed filter: what is wrong, and which token it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    message: String,
    input: String,
    /// Index of the offending token, or `None` when the input ended too early.
    token: Option<usize>,
    text: String,
    /// Column (in chars) and width (in chars) of the caret in `input`.
    col: usize,
    width: usize,
}

impl FilterError {
    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The index of the offending token (tokens counted from 0 over the whole filter), or
    /// `None` when the filter ended where something more was needed.
    pub fn token_index(&self) -> Option<usize> {
        self.token
    }

    /// The offending token's text (empty at the end of the input).
    pub fn token_text(&self) -> &str {
        &self.text
    }

    /// The filter as parsed: the words joined by single spaces.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The caret line: spaces up to the offending token, then one `^` per character of it.
    pub fn caret(&self) -> String {
        let mut s = " ".repeat(self.col);
        s.push_str(&"^".repeat(self.width.max(1)));
        s
    }
}

impl std::fmt::Display for FilterError {
    /// `filter error: MESSAGE`, then the input and a caret line, each indented by two spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "filter error: {}\n  {}\n  {}",
            self.message,
            self.input,
            self.caret()
        )
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    /// Char column in the joined input.
    col: usize,
}

/// Splits the words into tokens: on blanks, with `(`, `)` and a leading `!` split off.
fn tokenize<S: AsRef<str>>(words: &[S]) -> (String, Vec<Token>) {
    let mut input = String::new();
    // `input`'s length in chars, kept as we go: counting it afresh for each word made
    // tokenizing quadratic in the number of words.
    let mut chars = 0usize;
    let mut toks = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            input.push(' ');
            chars += 1;
        }
        let base = chars;
        let w = w.as_ref();
        input.push_str(w);
        chars += w.chars().count();
        let mut piece = String::new();
        let mut piece_col = base;
        for (col, c) in (base..).zip(w.chars().chain(std::iter::once(' '))) {
            if c.is_whitespace() {
                if !piece.is_empty() {
                    split_piece(&piece, piece_col, &mut toks);
                    piece.clear();
                }
            } else {
                if piece.is_empty() {
                    piece_col = col;
                }
                piece.push(c);
            }
        }
    }
    (input, toks)
}

fn split_piece(piece: &str, mut col: usize, toks: &mut Vec<Token>) {
    let mut s = piece;
    loop {
        if let Some(rest) = s.strip_prefix('(') {
            toks.push(Token {
                text: "(".into(),
                col,
            });
            s = rest;
            col += 1;
        } else if s.starts_with('!') && !s.starts_with("!=") {
            toks.push(Token {
                text: "!".into(),
                col,
            });
            s = &s[1..];
            col += 1;
        } else {
            break;
        }
    }
    let core = s.trim_end_matches(')');
    let closing = s.len() - core.len();
    if !core.is_empty() {
        toks.push(Token {
            text: core.into(),
            col,
        });
        col += core.chars().count();
    }
    for _ in 0..closing {
        toks.push(Token {
            text: ")".into(),
            col,
        });
        col += 1;
    }
}

/// How deeply `(` and `not` may nest. The parser, the evaluator and the bytecode compiler
/// recurse once per level, so without a bound a long enough filter (`((((...` or `!!!!...` in
/// one argument) overflows the stack; real filters nest a handful of levels.
pub(super) const MAX_NESTING: usize = 100;

/// How many conditions an expression may hold. A chain of `and`/`or` builds a tree as deep as
/// it is long, which the evaluator and compiler recurse through; this bounds that depth and
/// keeps the bytecode well inside its 16-bit jumps and netlink attribute length.
pub(super) const MAX_CONDITIONS: usize = 1000;

struct Parser<'a> {
    input: String,
    toks: Vec<Token>,
    pos: usize,
    /// Open parentheses (to tell a stray `)`).
    depth: usize,
    /// Open parentheses and `not`s (bounded by [`MAX_NESTING`]).
    nesting: usize,
    /// Conditions so far (bounded by [`MAX_CONDITIONS`]).
    conditions: usize,
    lookup: &'a dyn Lookup,
}

type Parsed = (Option<u32>, Option<Expr>);

/// Parses the whole filter.
pub(super) fn parse<S: AsRef<str>>(
    words: &[S],
    lookup: &dyn Lookup,
) -> Result<Parsed, FilterError> {
    let (input, toks) = tokenize(words);
    let mut p = Parser {
        input,
        toks,
        pos: 0,
        depth: 0,
        nesting: 0,
        conditions: 0,
        lookup,
    };
    let states = p.states()?;
    if p.at_end() {
        return Ok((states, None));
    }
    let e = p.or()?;
    if !p.at_end() {
        // `or()` stops only at the end or at a ')' it cannot close.
        return Err(p.err_here("unexpected ')' without a matching '('"));
    }
    Ok((states, Some(e)))
}

fn is_or(t: &str) -> bool {
    matches!(t, "or" | "|" | "||")
}

fn is_and(t: &str) -> bool {
    matches!(t, "and" | "&" | "&&")
}

fn is_not(t: &str) -> bool {
    matches!(t, "not" | "!")
}

fn is_state_word(t: &str) -> bool {
    matches!(t, "state" | "exclude" | "excl")
}

fn cmp_op(t: &str) -> Option<CmpOp> {
    Some(match t {
        "=" | "==" | "eq" => CmpOp::Eq,
        "!=" | "ne" | "neq" => CmpOp::Ne,
        "<" | "lt" => CmpOp::Lt,
        "<=" | "le" | "leq" => CmpOp::Le,
        ">" | "gt" => CmpOp::Gt,
        ">=" | "ge" | "geq" => CmpOp::Ge,
        _ => return None,
    })
}

/// The state bits a state or group name stands for (ss's names, case-insensitive; netstat's
/// spellings such as `TIME_WAIT` and `FIN_WAIT1` too).
pub(super) fn state_bits(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    let b = |s: State| s.mask_bit();
    // The kernel reports request sockets (NEW_SYN_RECV) as SYN-RECV: keep the two together.
    let syn_recv = b(State::SynRecv) | b(State::NewSynRecv);
    let bucket = syn_recv | b(State::TimeWait);
    let connected = ALL_STATES & !(b(State::Close) | b(State::Listen));
    Some(match n.as_str() {
        "established" | "estab" => b(State::Established),
        "syn-sent" => b(State::SynSent),
        "syn-recv" | "syn-rcv" | "new-syn-recv" => syn_recv,
        "fin-wait-1" | "fin-wait1" => b(State::FinWait1),
        "fin-wait-2" | "fin-wait2" => b(State::FinWait2),
        "time-wait" => b(State::TimeWait),
        "closed" | "close" | "unconnected" | "unconn" => b(State::Close),
        "close-wait" => b(State::CloseWait),
        "last-ack" => b(State::LastAck),
        "listening" | "listen" => b(State::Listen),
        "closing" => b(State::Closing),
        "all" => ALL_STATES,
        "connected" => connected,
        "synchronized" => connected & !b(State::SynSent),
        "bucket" => bucket,
        "big" => ALL_STATES & !bucket,
        _ => return None,
    })
}

const STATE_NAMES: &str = "established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, \
closed, close-wait, last-ack, listening, closing, or a group: all, connected, synchronized, \
bucket, big";

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(|t| t.text.as_str())
    }

    fn err_at(&self, idx: usize, message: String) -> FilterError {
        match self.toks.get(idx) {
            Some(t) => FilterError {
                message,
                input: self.input.clone(),
                token: Some(idx),
                text: t.text.clone(),
                col: t.col,
                width: t.text.chars().count(),
            },
            None => self.err_end(message),
        }
    }

    fn err_here(&self, message: &str) -> FilterError {
        self.err_at(self.pos, message.to_string())
    }

    fn err_end(&self, message: String) -> FilterError {
        let len = self.input.chars().count();
        FilterError {
            message,
            input: self.input.clone(),
            token: None,
            text: String::new(),
            col: if len == 0 { 0 } else { len + 1 },
            width: 1,
        }
    }

    /// `state NAME` and `exclude NAME`, any number, before the expression (as in ss).
    fn states(&mut self) -> Result<Option<u32>, FilterError> {
        let mut mask: Option<u32> = None;
        while let Some(kw) = self.peek().filter(|t| is_state_word(t)).map(str::to_owned) {
            self.pos += 1;
            let Some(name) = self.peek() else {
                return Err(self.err_end(format!("expected a state name after '{kw}'")));
            };
            let Some(bits) = state_bits(name) else {
                return Err(self.err_here(&format!(
                    "unknown state '{name}'; expected one of {STATE_NAMES}"
                )));
            };
            self.pos += 1;
            mask = Some(if kw == "state" {
                mask.unwrap_or(0) | bits
            } else {
                mask.unwrap_or(ALL_STATES) & !bits
            });
        }
        Ok(mask)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(is_or) {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some(t) if is_and(t) => self.pos += 1,
                // Adjacent terms: an implicit `and`.
                Some(t) if t != ")" && !is_or(t) => {}
                _ => break,
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek().is_some_and(is_not) {
            self.nest()?;
            self.pos += 1;
            let e = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    /// Enters one more level of `(` or `not`, the token at `pos`.
    fn nest(&mut self) -> Result<(), FilterError> {
        if self.nesting >= MAX_NESTING {
            return Err(self.err_here(&format!(
                "'(' and 'not' nest more than {MAX_NESTING} levels deep here"
            )));
        }
        self.nesting += 1;
        Ok(())
    }

    /// Counts one more condition, the one starting at `pos`.
    fn count_condition(&mut self) -> Result<(), FilterError> {
        if self.conditions >= MAX_CONDITIONS {
            return Err(self.err_here(&format!(
                "more than {MAX_CONDITIONS} conditions in one filter"
            )));
        }
        self.conditions += 1;
        Ok(())
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let Some(t) = self.peek().map(str::to_owned) else {
            let prev = self.pos.checked_sub(1).and_then(|i| self.toks.get(i));
            let msg = match prev {
                Some(p) => format!("expected a condition after '{}'", p.text),
                None => "expected a condition".to_string(),
            };
            return Err(self.err_end(msg));
        };
        let at = self.pos;
        match t.as_str() {
            "(" => {
                self.nest()?;
                self.pos += 1;
                if self.peek() == Some(")") {
                    return Err(self.err_here("empty parentheses: expected a condition"));
                }
                self.depth += 1;
                let e = self.or()?;
                self.depth -= 1;
                self.nesting -= 1;
                if self.peek() != Some(")") {
                    return Err(self.err_at(at, "this '(' is never closed".into()));
                }
                self.pos += 1;
                Ok(e)
            }
            ")" if self.depth == 0 => Err(self.err_here("unexpected ')' without a matching '('")),
            "src" | "dst" => {
                self.count_condition()?;
                self.pos += 1;
                let side = if t == "src" {
                    Side::Local
                } else {
                    Side::Remote
                };
                let negate = match self.peek().and_then(cmp_op) {
                    Some(CmpOp::Eq) => {
                        self.pos += 1;
                        false
                    }
                    Some(CmpOp::Ne) => {
                        self.pos += 1;
                        true
                    }
                    Some(_) => {
                        return Err(self.err_here(&format!(
                            "'{t}' takes only = or != (use sport/dport to compare ports)"
                        )))
                    }
                    None => false,
                };
                let hc = self.operand(&t, |p, s| p.host_cond(s))?;
                let c = Expr::Cond(Cond::Host(side, hc));
                Ok(if negate { Expr::Not(Box::new(c)) } else { c })
            }
            "sport" | "dport" => {
                self.count_condition()?;
                self.pos += 1;
                let side = if t == "sport" {
                    Side::Local
                } else {
                    Side::Remote
                };
                let op = match self.peek().and_then(cmp_op) {
                    Some(op) => {
                        self.pos += 1;
                        op
                    }
                    None => CmpOp::Eq,
                };
                let port = self.operand(&t, |p, s| p.port_operand(s))?;
                Ok(Expr::Cond(match (op, port) {
                    (CmpOp::Eq, None) => Cond::Host(
                        side,
                        HostCond {
                            prefix: None,
                            port: None,
                        },
                    ),
                    (CmpOp::Ne, None) => {
                        return Ok(Expr::Not(Box::new(Expr::Cond(Cond::Host(
                            side,
                            HostCond {
                                prefix: None,
                                port: None,
                            },
                        )))))
                    }
                    (_, None) => {
                        return Err(self.err_at(
                            self.pos - 1,
                            "'*' (any port) works only with = or !=".into(),
                        ))
                    }
                    (op, Some(p)) => Cond::Port(side, op, p),
                }))
            }
            w if is_state_word(w) => Err(self.err_here(&format!(
                "'{w}' must come before the address and port expression"
            ))),
            w if cmp_op(w).is_some() => Err(self.err_here(&format!(
                "'{w}' needs sport, dport, src or dst in front of it"
            ))),
            w if state_bits(w).is_some() => Err(self.err_here(&format!(
                "expected a condition (src, dst, sport, dport), 'not' or '(' but found '{w}' \
                 (write 'state {w}' to select a state)"
            ))),
            w => Err(self.err_here(&format!(
                "expected a condition (src, dst, sport, dport), 'not' or '(' but found '{w}'"
            ))),
        }
    }

    /// The operand token after `kw [op]`, parsed by `f`; errors point at that token.
    fn operand<T>(
        &mut self,
        kw: &str,
        f: impl FnOnce(&Self, &str) -> Result<T, String>,
    ) -> Result<T, FilterError> {
        let what = if kw.ends_with("port") {
            "a port"
        } else {
            "an address"
        };
        let Some(text) = self.peek().map(str::to_owned) else {
            let prev = self.pos.checked_sub(1).and_then(|i| self.toks.get(i));
            let after = prev.map(|p| p.text.as_str()).unwrap_or(kw);
            return Err(self.err_end(format!("expected {what} after '{after}'")));
        };
        if text == "(" || text == ")" || is_and(&text) || is_or(&text) || is_not(&text) {
            return Err(self.err_here(&format!("expected {what} after '{kw}' but found '{text}'")));
        }
        let v = f(self, &text).map_err(|m| self.err_here(&m))?;
        self.pos += 1;
        Ok(v)
    }

    /// A port operand: `:22`, `22`, `:ssh`, `ssh`, `:*`, `*`. `None` means any port.
    fn port_operand(&self, text: &str) -> Result<Option<PortSpec>, String> {
        let p = text.strip_prefix(':').unwrap_or(text);
        if p.is_empty() {
            return Err("expected a port after ':'".into());
        }
        if p.contains(':') || p.starts_with('[') {
            return Err(format!(
                "expected a port but found '{text}' (use src/dst to match addresses)"
            ));
        }
        self.port(p)
    }

    /// A port without its colon. `None` means `*`.
    fn port(&self, p: &str) -> Result<Option<PortSpec>, String> {
        if p == "*" {
            return Ok(None);
        }
        if p.is_empty() {
            return Err("expected a port after ':'".into());
        }
        if p.bytes().all(|b| b.is_ascii_digit()) {
            return p
                .parse::<u16>()
                .map(|n| Some(PortSpec::Number(n)))
                .map_err(|_| format!("port {p} is out of range (0-65535)"));
        }
        let ports = self.lookup.service(p);
        if ports.is_empty() {
            return Err(format!(
                "expected a port after ':' but '{p}' is neither a number nor a service name \
                 in /etc/services"
            ));
        }
        Ok(Some(PortSpec::Named {
            name: p.to_string(),
            ports,
        }))
    }

    /// A host operand: `*`, `:22`, `*:22`, `10.0.0.0/8`, `127.0.0.1:8080`, `[::1]`, `[::1]:22`,
    /// `::1`, `fe80::/10`.
    fn host_cond(&self, text: &str) -> Result<HostCond, String> {
        if text.starts_with('/') || text.starts_with('@') || text.starts_with("unix:") {
            return Err(
                "unix socket paths cannot be matched by a filter; src and dst take \
                        IP addresses"
                    .into(),
            );
        }
        if text == "*" {
            return Ok(HostCond {
                prefix: None,
                port: None,
            });
        }
        if let Some(rest) = text.strip_prefix('[') {
            let Some((inner, after)) = rest.split_once(']') else {
                return Err(format!("'{text}' has no closing ']'"));
            };
            let prefix = parse_prefix(inner)?;
            let port = match after {
                "" => None,
                a => match a.strip_prefix(':') {
                    Some(p) => self.port(p)?,
                    None => return Err(format!("expected ':PORT' after ']' in '{text}'")),
                },
            };
            return Ok(HostCond {
                prefix: Some(prefix),
                port,
            });
        }
        // Before the `:PORT` form, so that `::1` and `::/0` stay addresses.
        if let Ok(prefix) = parse_prefix(text) {
            return Ok(HostCond {
                prefix: Some(prefix),
                port: None,
            });
        }
        if let Some(p) = text.strip_prefix("*:").or_else(|| text.strip_prefix(':')) {
            return Ok(HostCond {
                prefix: None,
                port: self.port(p)?,
            });
        }
        if let Some((a, p)) = text.rsplit_once(':') {
            if a.contains(':') {
                return Err(format!(
                    "cannot tell address from port in '{text}': write an IPv6 address with a \
                     port as [ADDRESS]:PORT"
                ));
            }
            if a.parse::<IpAddr>().is_ok() || a.contains('/') {
                let prefix = parse_prefix(a)?;
                return Ok(HostCond {
                    prefix: Some(prefix),
                    port: self.port(p)?,
                });
            }
        }
        if text.contains('/') {
            return parse_prefix(text).map(|p| HostCond {
                prefix: Some(p),
                port: None,
            });
        }
        Err(format!(
            "expected an IP address or prefix (like 10.0.0.1, 10.0.0.0/8, [::1], \
             127.0.0.1:80, *:80) but found '{text}'; host names are not resolved"
        ))
    }
}

/// `ADDR` or `ADDR/LEN`.
fn parse_prefix(text: &str) -> Result<Prefix, String> {
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| format!("'{a}' is not an IP address"))?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max && !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(format!(
                    "prefix length '{l}' must be a number from 0 to {max}"
                ))
            }
        },
    };
    Ok(Prefix { addr, len })
}
