//! `man/rnetstat.1` is generated, and these tests keep it honest.
//!
//! The page is the hand-written skeleton `man/rnetstat.extra.roff` with its marker lines replaced
//! by what clap_mangen renders from `rnetstat::cli::command()` (title, NAME, SYNOPSIS, the opening
//! of DESCRIPTION, OPTIONS). The tests fail when the committed page differs from a fresh
//! rendering, when groff warns about it, when `--help` lists an option the page lacks (or the page
//! names one the CLI no longer has), and when the JSON SCHEMA section and the keys the real binary
//! emits disagree.
//!
//! Regenerate after changing `src/cli.rs` or the skeleton:
//! `RNETSTAT_UPDATE_MAN=1 cargo test --test man_page`.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clap_mangen::roff::{roman, Roff};
use common::TempDir;

const PAGE: &str = "man/rnetstat.1";
const SKELETON: &str = "man/rnetstat.extra.roff";
const UPDATE_ENV: &str = "RNETSTAT_UPDATE_MAN";
const REGENERATE: &str = "RNETSTAT_UPDATE_MAN=1 cargo test --test man_page";

/// The generated parts, by the marker that places them in the skeleton.
const MARKERS: [&str; 5] = ["title", "name", "synopsis", "description", "options"];

/// What roff::Roff writes before every rendering: defines `\*(Aq`, the apostrophe string the
/// generated text and the skeleton both use. The page needs it once, at the top.
const APOSTROPHE_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// Long options of other programs that the page's examples use (jq's).
const OTHER_TOOLS_LONG_OPTIONS: [&str; 1] = ["unbuffered"];

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Renders the whole page, deterministically: no clock, the version from Cargo.toml.
fn generate_page() -> String {
    let cmd = rnetstat::cli::command();
    // The package version, not `--version`'s text: that names the commit it was built from.
    let version = env!("CARGO_PKG_VERSION");
    let man = clap_mangen::Man::new(cmd.clone())
        .title("RNETSTAT")
        .section("1")
        .source(format!("rnetstat {version}"))
        .manual("User Commands");

    let skeleton_path = repo_path(SKELETON);
    let skeleton = std::fs::read_to_string(&skeleton_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", skeleton_path.display()));

    let mut page = String::new();
    page.push_str(".\\\" This page is GENERATED; do not edit it by hand.\n");
    page.push_str(
        ".\\\" Sources: rnetstat::cli::command() (src/cli.rs) through clap_mangen, spliced\n",
    );
    page.push_str(&format!(".\\\" into {SKELETON}. Regenerate with:\n"));
    page.push_str(&format!(".\\\"     {REGENERATE}\n"));
    page.push_str(APOSTROPHE_PREAMBLE);

    let mut seen = BTreeSet::new();
    for (n, line) in skeleton.lines().enumerate() {
        let Some(comment) = line.strip_prefix(".\\\"") else {
            page.push_str(line);
            page.push('\n');
            continue;
        };
        let Some(marker) = comment
            .trim()
            .strip_prefix("@@")
            .and_then(|m| m.strip_suffix("@@"))
        else {
            continue; // the skeleton's own comments stay out of the page
        };
        assert!(
            MARKERS.contains(&marker),
            "{SKELETON}:{}: unknown marker @@{marker}@@ (known: {MARKERS:?})",
            n + 1
        );
        assert!(
            seen.insert(marker),
            "{SKELETON}:{}: marker @@{marker}@@ appears twice",
            n + 1
        );
        page.push_str(&generated_part(&man, &cmd, marker));
    }
    let missing: Vec<_> = MARKERS.iter().filter(|m| !seen.contains(*m)).collect();
    assert!(
        missing.is_empty(),
        "{SKELETON} lacks the markers {missing:?}"
    );
    page
}

/// One generated part, without roff's per-rendering preamble.
fn generated_part(man: &clap_mangen::Man, cmd: &clap::Command, marker: &str) -> String {
    let mut buf = Vec::new();
    let rendered = match marker {
        "title" => man.render_title(&mut buf),
        "name" => man.render_name_section(&mut buf),
        "synopsis" => man.render_synopsis_section(&mut buf),
        "description" => man.render_description_section(&mut buf),
        "options" => man.render_options_section(&mut buf).and_then(|()| {
            // clap's after_help closes the options list as a plain paragraph (clap_mangen
            // would give it a section of its own called EXTRA).
            match cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
                Some(after) => {
                    let mut roff = Roff::new();
                    roff.control("PP", []);
                    for line in after.to_string().lines() {
                        roff.text([roman(line)]);
                    }
                    roff.to_writer(&mut buf)
                }
                None => Ok(()),
            }
        }),
        other => unreachable!("marker {other} was checked"),
    };
    rendered.expect("rendering into a Vec cannot fail");
    let text = String::from_utf8(buf).expect("clap_mangen writes UTF-8");
    let text = text.replace(APOSTROPHE_PREAMBLE, "");
    if marker == "title" {
        // clap_mangen writes an empty date as nothing at all, which shifts the source and
        // manual into the wrong .TH fields; the page has no date (it must not depend on the
        // clock), so say so with an empty argument.
        let fixed = text.replacen("RNETSTAT 1  ", "RNETSTAT 1 \"\" ", 1);
        assert!(
            fixed.starts_with(".TH RNETSTAT 1 \"\" \"rnetstat "),
            "unexpected title line from clap_mangen: {text:?}"
        );
        return fixed;
    }
    text
}

fn committed_page() -> String {
    let path = repo_path(PAGE);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nGenerate it with: {REGENERATE}",
            path.display()
        )
    })
}

/// The committed page must be what the CLI and the skeleton produce now.
#[test]
fn committed_page_is_current() {
    let fresh = generate_page();
    let path = repo_path(PAGE);
    if std::env::var_os(UPDATE_ENV).is_some_and(|v| v == "1") {
        // Write beside it and rename, so the other tests never read half a page.
        let tmp = path.with_extension("1.tmp");
        std::fs::write(&tmp, &fresh).expect("write the new page");
        std::fs::rename(&tmp, &path).expect("move the new page into place");
        eprintln!("{UPDATE_ENV}=1: wrote {}", path.display());
        return;
    }
    let committed = committed_page();
    if committed != fresh {
        let (n, old, new) = committed
            .lines()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(fresh.lines().map(Some).chain(std::iter::repeat(None)))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(n, (a, b))| (n + 1, a.unwrap_or("<end>"), b.unwrap_or("<end>")))
            .unwrap_or((0, "", ""));
        panic!(
            "{PAGE} is stale: it differs from what src/cli.rs and {SKELETON} generate \
             (first at line {n}:\n  committed: {old}\n  generated: {new})\n\
             Regenerate it with:\n    {REGENERATE}\nand commit the result."
        );
    }
}

fn have_program(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs `groff` on `page` (on stdin) with `args`, returning its output.
fn groff(page: &str, args: &[&str]) -> Output {
    let mut child = Command::new("groff")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn groff");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(page.as_bytes())
        .expect("feed groff");
    child.wait_with_output().expect("wait for groff")
}

/// groff with every warning enabled must have nothing to say about the page, and no rendered
/// line may be wider than a terminal (an example line too long would be cut or wrapped badly).
#[test]
fn page_renders_without_warnings() {
    if !have_program("groff") {
        eprintln!("skipping: groff is not installed (Debian/Ubuntu package: groff-base)");
        return;
    }
    // The fresh rendering, which committed_page_is_current proves equal to the file; reading
    // the file here would race with a regeneration running in parallel.
    let page = generate_page();
    let out = groff(&page, &["-man", "-Tutf8", "-ww", "-z"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "groff -man -Tutf8 -ww -z {PAGE} warns (status {}):\n{stderr}",
        out.status
    );

    // Plain text (no bold or underline sequences), at groff's default man width of 78.
    let out = groff(&page, &["-man", "-Tutf8", "-P", "-cbou"]);
    assert!(
        out.status.success(),
        "groff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("groff -Tutf8 writes UTF-8");
    let wide: Vec<_> = text.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(
        wide.is_empty(),
        "rendered lines wider than 80 columns:\n{}",
        wide.join("\n")
    );
    for heading in [
        "OPTIONS",
        "JSON SCHEMA",
        "EXIT STATUS",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "the rendered page has no {heading} section"
        );
    }
}

/// Long option names mentioned in roff text: `\-\-name`, perhaps inside font changes.
fn long_options_in_roff(roff: &str) -> BTreeSet<String> {
    let mut plain = roff.replace("\\-", "-");
    for font in ["\\fB", "\\fI", "\\fR", "\\fP"] {
        plain = plain.replace(font, " ");
    }
    long_options_in_text(&plain)
}

/// `--name` tokens in plain text.
fn long_options_in_text(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at + 2;
        let preceded_ok = i + at == 0 || !bytes[i + at - 1].is_ascii_alphanumeric();
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .map_or(text.len(), |e| start + e);
        let name = text[start..end].trim_end_matches('-');
        if preceded_ok && name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            found.insert(name.to_string());
        }
        i = end.max(start);
    }
    found
}

/// Long options that the page documents as entries: a `.TP` item whose header names them.
fn documented_options(page: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = page.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .flat_map(|w| long_options_in_roff(w[1]))
        .collect()
}

fn run_rnetstat(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rnetstat"))
        .args(args)
        .output()
        .expect("run rnetstat");
    assert!(
        out.status.success(),
        "rnetstat {args:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A page can't silently miss an option: every long option `rnetstat --help` lists has an entry
/// in the committed page, and every long option the page mentions exists.
#[test]
fn every_long_option_in_help_is_in_the_page() {
    let help = run_rnetstat(&["--help"]);
    let help = String::from_utf8(help.stdout).expect("help is UTF-8");
    let in_help = long_options_in_text(&help);
    assert!(
        in_help.contains("json") && in_help.contains("source") && in_help.len() > 20,
        "could not read the long options from --help: {in_help:?}\n{help}"
    );

    let page = committed_page();
    let documented = documented_options(&page);
    let missing: Vec<_> = in_help.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "{PAGE} has no entry for {missing:?}, which --help lists.\nRegenerate it with: {REGENERATE}"
    );

    let known: BTreeSet<String> = rnetstat::cli::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .chain(["help", "version"].map(String::from))
        .chain(OTHER_TOOLS_LONG_OPTIONS.map(String::from))
        .collect();
    let text: String = page
        .lines()
        .filter(|l| !l.starts_with(".\\\""))
        .collect::<Vec<_>>()
        .join("\n");
    let unknown: Vec<_> = long_options_in_roff(&text)
        .into_iter()
        .filter(|o| !known.contains(o))
        .collect();
    assert!(
        unknown.is_empty(),
        "{PAGE} mentions {unknown:?}, which rnetstat does not have: fix {SKELETON}"
    );
}

/// The lines of one `.SH` section (without its heading).
fn section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!(".SH {name}");
    let heading_quoted = format!(".SH \"{name}\"");
    page.lines()
        .skip_while(|l| *l != heading && *l != heading_quoted)
        .skip(1)
        .take_while(|l| !l.starts_with(".SH "))
        .collect()
}

/// Splits a roff macro line's arguments, honouring double quotes.
fn macro_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}

/// The keys the JSON SCHEMA section documents: the bold words of each `.TP` item header.
fn documented_json_keys(page: &str) -> BTreeSet<String> {
    let lines = section(page, "JSON SCHEMA");
    assert!(!lines.is_empty(), "{PAGE} has no JSON SCHEMA section");
    let mut keys = BTreeSet::new();
    for w in lines.windows(2).filter(|w| w[0] == ".TP") {
        let (mac, rest) = w[1].split_once(' ').unwrap_or((w[1], ""));
        let args = macro_args(rest);
        let bold: Vec<String> = match mac {
            ".B" => vec![args.join(" ")],
            ".BR" => args.into_iter().step_by(2).collect(),
            other => panic!(
                "JSON SCHEMA item header {:?} uses {other}; use .B or .BR",
                w[1]
            ),
        };
        keys.extend(bold.into_iter().map(|k| k.replace("\\-", "-")));
    }
    keys
}

/// Every key in the listing, except inside `info`, `memory` and `shutdown`: those carry the
/// kernel's own field names, which the page lists in prose rather than one entry each.
fn collect_keys(v: &serde_json::Value, keys: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                keys.insert(k.clone());
                if !matches!(k.as_str(), "info" | "memory" | "shutdown") {
                    collect_keys(v, keys);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

/// The JSON SCHEMA section documents exactly the keys the binary emits: every key seen in a real
/// listing (a TCP connection and a unix connection this test holds, with -p -e -o) has an entry,
/// and every entry is a key the binary emits.
#[test]
fn json_schema_section_documents_every_key_the_binary_emits() {
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::net::{UnixListener, UnixStream};

    let tcp_listener = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
    let tcp_client = TcpStream::connect(tcp_listener.local_addr().expect("addr")).expect("connect");
    let (tcp_server, _) = tcp_listener.accept().expect("accept tcp");

    let dir = TempDir::new("man-json");
    let unix_listener = UnixListener::bind(dir.0.join("s")).expect("bind unix");
    let unix_client = UnixStream::connect(dir.0.join("s")).expect("connect unix");
    let (unix_server, _) = unix_listener.accept().expect("accept unix");

    // -n (in -anpeo): no name lookups in tests (so "host" and "service" cannot appear; see below).
    // -N of our own namespace adds the netns object.
    let out = run_rnetstat(&[
        "-anpeo",
        "-t",
        "-x",
        "-N",
        "/proc/self/ns/net",
        "--json",
        "--info",
        "--memory",
        "--extended",
    ]);
    let listing: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json output is JSON");
    let mut emitted = BTreeSet::new();
    collect_keys(&listing, &mut emitted);
    drop((
        tcp_client,
        tcp_server,
        unix_client,
        unix_server,
        unix_listener,
    ));

    for needed in [
        "processes",
        "pid",
        "timer",
        "peer_inode",
        "path",
        "user",
        "netns",
        "container",
    ] {
        assert!(
            emitted.contains(needed),
            "the listing has no {needed:?}: {listing}"
        );
    }
    // Present only when a name was found, which needs lookups this test must not make.
    let only_with_names = ["host", "service"];
    // Present only for a process in a container, which this test does not make (tests/netns.rs
    // and tests/json_schema.rs check them).
    let only_in_containers = ["runtime", "id", "pod_uid"];

    let documented = documented_json_keys(&committed_page());
    let undocumented: Vec<_> = emitted.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "rnetstat --json emits {undocumented:?}, which JSON SCHEMA in {SKELETON} does not document"
    );
    let stray: Vec<_> = documented
        .iter()
        .filter(|k| {
            !emitted.contains(*k)
                && !only_with_names.contains(&k.as_str())
                && !only_in_containers.contains(&k.as_str())
        })
        .collect();
    assert!(
        stray.is_empty(),
        "JSON SCHEMA in {SKELETON} documents {stray:?}, which rnetstat --json never emitted"
    );
}

#[test]
fn long_option_scanner_finds_options_and_ignores_other_dashes() {
    let found = long_options_in_text("use --json, --numeric-hosts; not a--b, --- or -- alone");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["json", "numeric-hosts"]
    );
    assert!(long_options_in_roff(r"\fB\-\-source\fR").contains("source"));
}

#[test]
fn json_key_headers_are_read_from_b_and_br_items() {
    let page = ".SH \"JSON SCHEMA\"\n.TP\n.B proto\nx\n.TP\n.BR local \", \" remote \" (inet)\"\n.SH NEXT\n.TP\n.B no\n";
    assert_eq!(
        documented_json_keys(page).into_iter().collect::<Vec<_>>(),
        ["local", "proto", "remote"]
    );
}
