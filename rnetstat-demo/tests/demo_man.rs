//! `man/rnetstat-demo.1` is generated from the demo's clap definition: this test fails when the
//! committed page is stale, and rewrites it when `RNETSTAT_UPDATE_MAN=1` is set.

use std::io::Write;
use std::path::Path;

use clap_mangen::Man;

/// Escapes text for roff: backslashes, hyphens (so they are not hyphenation points), and a
/// leading dot or quote that would read as a request.
fn esc(text: &str) -> String {
    let mut s = text.replace('\\', "\\\\").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        s.insert_str(0, "\\&");
    }
    s
}

/// One scenario per subcommand, with its own options, from the clap definition.
fn scenarios_section(cmd: &clap::Command, w: &mut Vec<u8>) -> std::io::Result<()> {
    writeln!(w, ".SH SCENARIOS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set() && a.get_long() != Some("help"))
            .collect();
        let mut synopsis = format!("\\fB{}\\fR", esc(sub.get_name()));
        for a in &args {
            if let Some(long) = a.get_long() {
                let value = if a.get_action().takes_values() {
                    format!(" \\fI{}\\fR", esc(&a.get_id().to_string().to_uppercase()))
                } else {
                    String::new()
                };
                synopsis.push_str(&format!(" [\\fB\\-\\-{}\\fR{value}]", esc(long)));
            }
        }
        writeln!(w, ".TP\n{synopsis}")?;
        if let Some(about) = sub.get_about() {
            writeln!(w, "{}", esc(&about.to_string()))?;
        }
        for a in &args {
            let Some(long) = a.get_long() else { continue };
            let default: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().to_string())
                .collect();
            writeln!(w, ".RS\n.TP\n\\fB\\-\\-{}\\fR", esc(long))?;
            if let Some(help) = a.get_help() {
                let mut text = help.to_string();
                if !default.is_empty() {
                    text.push_str(&format!(" (default {})", default.join(",")));
                }
                writeln!(w, "{}", esc(&text))?;
            }
            writeln!(w, ".RE")?;
        }
    }
    Ok(())
}

/// Sections clap cannot write.
const EXTRA: &str = r#".SH JSON OUTPUT
With \fB\-\-json\fR each scenario prints one JSON object on one line; \fBall\fR prints one line per scenario.
Every object has \fBscenario\fR (the subcommand name) and \fBcleanup\fR
(\fBtime_wait_reaped\fR, \fBtime_wait_left\fR: TIME_WAIT sockets of the demo removed before exit, or left to their timer).
.TP
\fBtime\-wait\fR
\fBport\fR, \fBclient_port\fR, \fBobserved\fR (states seen, in order),
\fBtime_wait\fR {\fBowner\fR ("server" or "client"), \fBremaining_ms\fR (the kernel's timer), \fBlocal\fR, \fBremote\fR},
\fBwaited_ms\fR (with \fB\-\-wait\fR: how long the socket lasted after it was first seen).
.TP
\fBreuseaddr\fR
\fBmatrix\fR: four objects {\fBold_reuseaddr\fR, \fBnew_reuseaddr\fR, \fBbind\fR ("ok" or the errno name), \fBport\fR,
\fBtime_wait_seen\fR, \fBtime_wait_remaining_ms\fR};
\fBlisten_conflict\fR {\fBreuseaddr\fR, \fBbind\fR}; \fBbinds_with\fR (e.g. ["on+on"]); \fBrule\fR.
.TP
\fBreuseport\fR
\fBport\fR, \fBclients\fR, \fBlisteners\fR: [{\fBpid\fR, \fBaccepted\fR, \fBestablished_seen\fR}],
\fBlisten_sockets\fR, \fBlisten_pids\fR, \fBwithout_reuseport\fR (errno name), \fBchild_pids\fR.
.TP
\fBstates\fR
\fBobserved\fR, \fBnot_observed\fR, \fBclient_path\fR, \fBserver_path\fR, \fBport\fR, \fBclient_port\fR.
.TP
\fBwindow\fR
\fBobserved\fR: one object per phase ("connected", "receiver stopped reading", "receiver drained") with
\fBreceiver_recv_q\fR, \fBsender_send_q\fR, \fBsender_timer\fR, \fBbytes_written\fR, \fBbytes_read\fR, \fBlast_write\fR, and
\fBsender\fR / \fBreceiver\fR tcp_info figures {\fBsnd_mss\fR, \fBrcv_mss\fR, \fBsnd_wnd\fR, \fBrcv_wnd\fR, \fBrcv_space\fR, \fBunacked\fR};
\fBzero_window_seen\fR, \fBwrites_blocked\fR, \fBreopened\fR.
.TP
\fBconcurrency\fR
\fBfork\fR and \fBthreads\fR: {\fBport\fR, \fBlisten_sockets\fR, \fBlisten_pids\fR, \fBestablished\fR, \fBconn_pids\fR,
\fBdistinct_pids\fR, \fBhandlers\fR (pid of each forked child, or thread id of each thread)};
\fBobserved\fR, \fBserver_pid\fR, \fBchild_pids\fR, \fBdemo_pid\fR.
.TP
\fBudp\fR
\fBobserved\fR (starts with "UNCONN"), \fBlisten\fR and \fBaccept\fR (errno names), \fBconnect_to_nobody\fR
{\fBudp_connect\fR, \fBudp_send\fR, \fBudp_recv_after_send\fR, \fBtcp_connect\fR},
\fBtime_wait_after_close\fR {\fBtcp\fR, \fBudp\fR, \fBudp_gone\fR}, \fBports\fR.
.SH CLEANUP
Everything runs on 127.0.0.1 with ports the kernel picks (bind port 0).
Helper processes (the \fBreuseport\fR listeners and the forking server of \fBconcurrency\fR) are the demo's own binary,
re\-executed; they die with the demo (PR_SET_PDEATHSIG) and are killed and waited for on every exit path.
Sockets the demo does not close on purpose are closed with SO_LINGER 0 (an RST, no TIME_WAIT).
TIME_WAIT sockets the demo's orderly closes leave are removed before it exits: a SYN from the peer's address
draws an ACK from the TIME_WAIT socket, the RST that answers it removes the socket (RFC 1337; Linux honours it
while net.ipv4.tcp_rfc1337 is 0, the default).
The first SIGINT or SIGTERM stops the demo at its next step and runs the same cleanup; a second one kills
the helpers at once and exits.
.SH EXIT STATUS
.TP
\fB0\fR
Success.
.TP
\fB1\fR
A scenario failed (the error is printed on stderr).
.TP
\fB2\fR
A usage error.
.TP
\fB130\fR
Interrupted by SIGINT or SIGTERM (after cleaning up).
.SH EXAMPLES
.TP
\fBrnetstat\-demo time\-wait\fR
Walk one connection to TIME_WAIT and show the kernel's timer.
.TP
\fBrnetstat\-demo reuseaddr\fR
Measure the SO_REUSEADDR restart matrix on this kernel.
.TP
\fBrnetstat\-demo reuseport \-\-listeners 4 \-\-clients 100 \-\-json\fR
Four listener processes on one port; how the kernel spread 100 connections.
.TP
\fBrnetstat\-demo all \-\-json\fR
Every scenario, one JSON object per line.
.SH SEE ALSO
\fBrnetstat\fR(1), \fBnetstat\fR(8), \fBss\fR(8), \fBtcp\fR(7), \fBudp\fR(7), \fBsocket\fR(7)
"#;

fn render() -> Vec<u8> {
    let cmd = rnetstat_demo::cli::command();
    let man = Man::new(cmd.clone());
    let mut w = Vec::new();
    man.render_title(&mut w).expect("title");
    man.render_name_section(&mut w).expect("name");
    man.render_synopsis_section(&mut w).expect("synopsis");
    man.render_description_section(&mut w).expect("description");
    man.render_options_section(&mut w).expect("options");
    scenarios_section(&cmd, &mut w).expect("scenarios");
    w.extend_from_slice(EXTRA.as_bytes());
    man.render_version_section(&mut w).expect("version");
    w
}

#[test]
fn man_page_is_generated_from_the_clap_definition() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man/rnetstat-demo.1");
    let fresh = render();
    if std::env::var_os("RNETSTAT_UPDATE_MAN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("man dir")).expect("mkdir man");
        std::fs::write(&path, &fresh).expect("write man page");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `RNETSTAT_UPDATE_MAN=1 cargo test --test demo_man` and commit it",
        path.display()
    );
}

#[test]
fn man_page_documents_every_scenario_and_option() {
    let page = String::from_utf8(render()).expect("utf-8");
    for word in [
        "time\\-wait",
        "reuseaddr",
        "reuseport",
        "states",
        "window",
        "concurrency",
        "udp",
        "all",
        "\\-\\-wait",
        "\\-\\-listeners",
        "\\-\\-clients",
        "\\-\\-workers",
        "\\-\\-json",
        "EXIT STATUS",
    ] {
        assert!(page.contains(word), "man page lacks {word}");
    }
    assert!(
        !page.contains("__listener") && !page.contains("__fork"),
        "internal subcommands stay hidden"
    );
}
