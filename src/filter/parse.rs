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
    #[cfg(test)]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The index of the offending token (tokens counted from 0 over the whole filter), or
    /// `None` when the filter ended where something more was needed.
    #[cfg(test)]
    pub fn token_index(&self) -> Option<usize> {
        self.token
    }

    /// The offending token's text (empty at the end of the input).
    #[cfg(test)]
    pub fn token_text(&self) -> &str {
        &self.text
    }

    /// The filter as parsed: the words joined by single spaces.
    #[cfg(test)]
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The caret line: spaces up to the offending token, then one `^` per character of it,
    /// both counted in the input as it shows once escaped for the terminal (a control byte
    /// takes four columns as `\x1b`), since messages are printed escaped.
    pub fn caret(&self) -> String {
        let shown = |chars: &[char]| {
            crate::escape::escape(chars.iter().collect::<String>().as_bytes())
                .chars()
                .count()
        };
        let chars: Vec<char> = self.input.chars().collect();
        let col = self.col.min(chars.len());
        let end = (self.col + self.width).min(chars.len());
        // Past the end of the input (a missing token) the columns count as they are.
        let mut s = " ".repeat(shown(&chars[..col]) + (self.col - col));
        s.push_str(&"^".repeat(shown(&chars[col..end]).max(1)));
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
    /// Notices for the user, in the order found.
    notices: Vec<String>,
}

/// What the parser produces: the state mask, the expression, and notices for the user.
pub(super) struct Parsed {
    pub states: Option<u32>,
    pub expr: Option<Expr>,
    pub notices: Vec<String>,
}

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
        notices: Vec::new(),
    };
    let states = p.states()?;
    if p.at_end() {
        return Ok(Parsed {
            states,
            expr: None,
            notices: p.notices,
        });
    }
    let e = p.list()?;
    if !p.at_end() {
        // `list()` stops only at the end or at a ')' it cannot close.
        return Err(p.err_here("unexpected ')' without a matching '('"));
    }
    Ok(Parsed {
        states,
        expr: Some(e),
        notices: p.notices,
    })
}

/// The words that start or join a condition, offered by shell completion (see
/// [`crate::completions`]); a test parses each one.
pub const FILTER_KEYWORDS: &[&str] = &[
    "state",
    "exclude",
    "sport",
    "dport",
    "src",
    "dst",
    "dev",
    "fwmark",
    "cgroup",
    "autobound",
    "and",
    "or",
    "not",
];

/// The state and group names `state` and `exclude` take, in ss's spelling, offered by shell
/// completion; a test checks each one is accepted.
pub const STATE_WORDS: &[&str] = &[
    "established",
    "syn-sent",
    "syn-recv",
    "fin-wait-1",
    "fin-wait-2",
    "time-wait",
    "closed",
    "close-wait",
    "last-ack",
    "listening",
    "closing",
    "all",
    "connected",
    "synchronized",
    "bucket",
    "big",
];

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

const CONDITIONS: &str = "src, dst, sport, dport, dev, fwmark, cgroup, autobound";

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

    /// A list of terms joined by `and`, `or` or nothing (an implicit `and`), grouped left to
    /// right with equal precedence, as ss's grammar (`exprlist`) does. A list that mixes `and`
    /// and `or` gets a notice saying how it was grouped.
    fn list(&mut self) -> Result<Expr, FilterError> {
        let first_tok = self.pos;
        let mut left = self.unary()?;
        let first_end = self.pos - 1;
        // (operator as written, first token, last token) of each further term.
        let mut terms: Vec<(Option<String>, usize, usize)> = Vec::new();
        loop {
            let (is_or_op, written) = match self.peek() {
                Some(t) if is_and(t) => (false, Some(t.to_string())),
                Some(t) if is_or(t) => (true, Some(t.to_string())),
                // Adjacent terms: an implicit `and`.
                Some(t) if t != ")" => (false, None),
                _ => break,
            };
            if written.is_some() {
                self.pos += 1;
            }
            let start = self.pos;
            let right = self.unary()?;
            terms.push((written, start, self.pos - 1));
            left = if is_or_op {
                Expr::Or(Box::new(left), Box::new(right))
            } else {
                Expr::And(Box::new(left), Box::new(right))
            };
        }
        let ors = terms
            .iter()
            .filter(|t| t.0.as_deref().is_some_and(is_or))
            .count();
        if ors > 0 && ors < terms.len() && self.notices.is_empty() {
            let mut grouped = self.span(first_tok, first_end);
            for (i, (op, start, end)) in terms.iter().enumerate() {
                if i > 0 {
                    grouped = format!("({grouped})");
                }
                let op = op.as_deref().unwrap_or("and");
                grouped = format!("{grouped} {op} {}", self.span(*start, *end));
            }
            self.notices.push(format!(
                "note: 'and' and 'or' have equal precedence and group left to right, as in ss: \
                 the filter reads as {grouped} (add parentheses to group it otherwise)"
            ));
        }
        Ok(left)
    }

    /// The input text from token `a` through token `b`.
    fn span(&self, a: usize, b: usize) -> String {
        let (Some(first), Some(last)) = (self.toks.get(a), self.toks.get(b.max(a))) else {
            return String::new();
        };
        let end = last.col + last.text.chars().count();
        self.input
            .chars()
            .skip(first.col)
            .take(end.saturating_sub(first.col))
            .collect()
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
                let e = self.list()?;
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
                    // ss's grammar: `>` is not `<=`, `<` is not `>=`.
                    (CmpOp::Gt, None) => {
                        return Ok(Expr::Not(Box::new(Expr::Cond(Cond::PortStar(
                            side,
                            CmpOp::Le,
                        )))))
                    }
                    (CmpOp::Lt, None) => {
                        return Ok(Expr::Not(Box::new(Expr::Cond(Cond::PortStar(
                            side,
                            CmpOp::Ge,
                        )))))
                    }
                    (op, None) => Cond::PortStar(side, op),
                    (op, Some(p)) => Cond::Port(side, op, p),
                }))
            }
            "dev" | "fwmark" | "cgroup" => {
                self.count_condition()?;
                self.pos += 1;
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
                        return Err(self.err_here(&format!("'{t}' takes only = or !=")));
                    }
                    None => false,
                };
                let c = self.operand(&t, |p, s| match t.as_str() {
                    "dev" => p.dev(s),
                    "fwmark" => mark(s),
                    _ => p.cgroup(s),
                })?;
                let c = Expr::Cond(c);
                Ok(if negate { Expr::Not(Box::new(c)) } else { c })
            }
            "autobound" => {
                self.count_condition()?;
                self.pos += 1;
                let (low, high) = self.lookup.ephemeral_ports();
                Ok(Expr::Cond(Cond::Autobound { low, high }))
            }
            w if is_state_word(w) => Err(self.err_here(&format!(
                "'{w}' must come before the address and port expression"
            ))),
            w if cmp_op(w).is_some() => Err(self.err_here(&format!(
                "'{w}' needs a condition word ({CONDITIONS}) in front of it"
            ))),
            w if state_bits(w).is_some() => Err(self.err_here(&format!(
                "expected a condition ({CONDITIONS}), 'not' or '(' but found '{w}' \
                 (write 'state {w}' to select a state)"
            ))),
            w => Err(self.err_here(&format!(
                "expected a condition ({CONDITIONS}), 'not' or '(' but found '{w}'"
            ))),
        }
    }

    /// The operand token after `kw [op]`, parsed by `f`; errors point at that token.
    fn operand<T>(
        &mut self,
        kw: &str,
        f: impl FnOnce(&Self, &str) -> Result<T, String>,
    ) -> Result<T, FilterError> {
        let what = match kw {
            "sport" | "dport" => "a port",
            "dev" => "an interface name or index",
            "fwmark" => "a mark",
            "cgroup" => "a cgroup path",
            _ => "an address",
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
            // ss: no port after the colon is any port.
            return Ok(None);
        }
        if p.contains(':') || p.starts_with('[') {
            return Err(format!(
                "expected a port but found '{text}' (use src/dst to match addresses)"
            ));
        }
        self.port(p)
    }

    /// A port without its colon. `None` means `*`. Numbers are read as C's `strtol` with base 0
    /// reads them (ss's `get_integer`): `0x16` and `026` are both 22.
    fn port(&self, p: &str) -> Result<Option<PortSpec>, String> {
        if p.starts_with('*') {
            return Ok(None);
        }
        if p.is_empty() {
            return Err("expected a port after ':'".into());
        }
        if p.as_bytes()[0].is_ascii_digit() {
            return match c_number(p) {
                Some(n) => u16::try_from(n)
                    .map(|n| Some(PortSpec::Number(n)))
                    .map_err(|_| format!("port {p} is out of range (0-65535)")),
                None => Err(format!("'{p}' is not a port number")),
            };
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

    /// `dev NAME|INDEX`: an interface of this network namespace, or a number (as ss).
    fn dev(&self, text: &str) -> Result<Cond, String> {
        if let Some(i) = self.lookup.interface(text) {
            return Ok(Cond::Dev(i));
        }
        match c_number(text).map(u32::try_from) {
            Some(Ok(i)) => Ok(Cond::Dev(i)),
            _ => Err(format!(
                "no interface is called '{text}', and it is not an index"
            )),
        }
    }

    /// `cgroup PATH`: a cgroup v2 directory, relative to the cgroup2 mount (a leading `/`
    /// is that mount's root) or a path to it on the file system.
    fn cgroup(&self, text: &str) -> Result<Cond, String> {
        self.lookup.cgroup_id(text).map(Cond::Cgroup)
    }

    /// A host operand as ss's `parse_hostcond` reads it: `*`, `:22`, `*:22`, `10.0.0.0/8`,
    /// `127.0.0.1:8080`, `10.0.0.0/8:22`, `[::1]`, `[::1]:22`, `[::1/128]`, `::1/128`,
    /// `::ffff:127.0.0.1/104`, `any`, `default`. The port is what follows the last `:` (after a
    /// `/` if there is one), so `1::2:80` is address `1::2` with port 80, as in ss. Where ss
    /// gives up, two readings are added: a whole IPv6 address without brackets (`::1`, `fe80::1`)
    /// and a prefix length after the brackets (`[::1]/128`).
    fn host_cond(&self, text: &str) -> Result<HostCond, String> {
        if text.starts_with('/') || text.starts_with('@') || text.starts_with("unix:") {
            return Err(
                "unix socket paths cannot be matched by a filter; src and dst take \
                        IP addresses"
                    .into(),
            );
        }
        for family in ["inet:", "inet6:", "link:", "netlink:", "vsock:"] {
            if text.starts_with(family) {
                return Err(format!(
                    "the '{family}' family prefix is not supported; write the address alone"
                ));
            }
        }
        match self.host_parts(text) {
            Ok(hc) => Ok(hc),
            Err(e) => {
                // ss took the last ':' for a port and the rest is no address (`::1`,
                // `fe80::1`, `::ffff:10.0.0.1`): read the whole operand as an IPv6 address.
                if text.contains(':') && !text.starts_with('[') && !text.starts_with('*') {
                    if let Ok(Some(p)) = parse_prefix(text) {
                        if p.addr.is_ipv6() {
                            return Ok(HostCond {
                                prefix: Some(p),
                                port: None,
                            });
                        }
                    }
                }
                Err(e)
            }
        }
    }

    fn host_parts(&self, text: &str) -> Result<HostCond, String> {
        let (addr, port): (String, &str) = if let Some(rest) = text.strip_prefix('[') {
            let Some((inner, after)) = rest.split_once(']') else {
                return Err(format!("'{text}' has no closing ']'"));
            };
            if let Some(len) = after.strip_prefix('/') {
                // `[::1]/128` (ss refuses it): the prefix length, then an optional `:PORT`.
                let (len, port) = len.split_once(':').map_or((len, ""), |(l, p)| (l, p));
                (format!("{inner}/{len}"), port)
            } else if after.is_empty() || after.starts_with(':') {
                (inner.to_string(), after)
            } else {
                return Err(format!("expected ':PORT' after ']' in '{text}'"));
            }
        } else if let Some(rest) = text.strip_prefix('*') {
            ("*".to_string(), rest)
        } else {
            let from = text.find('/').unwrap_or(0);
            match text[from..].rfind(':') {
                Some(i) => (text[..from + i].to_string(), &text[from + i..]),
                None => (text.to_string(), ""),
            }
        };
        let port = port.strip_prefix(':').unwrap_or(port);
        let port = if port.is_empty() {
            None
        } else {
            self.port(port)?
        };
        if addr.is_empty() || addr.starts_with('*') {
            return Ok(HostCond { prefix: None, port });
        }
        Ok(HostCond {
            prefix: parse_prefix(&addr)?,
            port,
        })
    }
}

/// The value of a whole C integer literal as `strtoul(s, .., 0)` reads it: `0x` hex, a leading
/// `0` octal, decimal otherwise. `None` when anything is left over or it overflows.
fn c_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// An IPv4 address as iproute2's `get_addr_ipv4` reads it: one to four parts separated by
/// dots, each a C number up to 255; missing parts are 0 (`127.1` is 127.1.0.0).
fn ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    for (o, p) in octets.iter_mut().zip(&parts) {
        *o = u8::try_from(c_number(p)?).ok()?;
    }
    Some(std::net::Ipv4Addr::from(octets))
}

/// `ADDR` or `ADDR/LEN` as iproute2's `get_prefix_1` reads it. `any`, `all` and `default`
/// are "any address of any family" (`None`; iproute2 6.1 gives `default` no family). LEN is a C number or a dotted
/// netmask (`/255.0.0.0`).
fn parse_prefix(text: &str) -> Result<Option<Prefix>, String> {
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    if matches!(a, "any" | "all" | "default") {
        if len.is_some() {
            return Err(format!("'{a}' takes no prefix length"));
        }
        return Ok(None);
    }
    let addr: IpAddr = if a.contains(':') {
        a.parse::<std::net::Ipv6Addr>().map(IpAddr::V6).ok()
    } else {
        ipv4(a).map(IpAddr::V4)
    }
    .ok_or_else(|| {
        format!(
            "expected an IP address or prefix (like 10.0.0.1, 10.0.0.0/8, [::1], \
             127.0.0.1:80, *:80) but found '{a}'; host names are not resolved"
        )
    })?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => {
            let n = c_number(l)
                .or_else(|| netmask_len(l))
                .filter(|&n| n <= u64::from(max));
            match n.and_then(|n| u8::try_from(n).ok()) {
                Some(n) => n,
                None => {
                    return Err(format!(
                        "prefix length '{l}' must be a number from 0 to {max} or a netmask"
                    ))
                }
            }
        }
    };
    Ok(Some(Prefix { addr, len }))
}

/// The prefix length of a dotted netmask such as 255.255.0.0; `None` when its bits are not
/// contiguous.
fn netmask_len(s: &str) -> Option<u64> {
    let m = u32::from(ipv4(s)?);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(u64::from(len))
}

/// `fwmark VALUE[/MASK]`: C numbers (`0x10/0xff`); without a mask every bit counts.
fn mark(text: &str) -> Result<Cond, String> {
    let num = |s: &str| {
        c_number(s)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("'{s}' is not a mark (a number up to 0xffffffff)"))
    };
    let (value, mask) = match text.split_once('/') {
        Some((v, m)) => (num(v)?, num(m)?),
        None => (num(text)?, u32::MAX),
    };
    Ok(Cond::Mark { value, mask })
}
