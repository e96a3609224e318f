//! A change seen in the socket tables (`--watch` compares listings, `--events` hears the
//! kernel): produced by those modes, written by the renderers. It lives in the model so the two
//! sides need not import each other.

use super::{Socket, State};

/// What happened to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Present in the first listing.
    Present,
    New,
    State,
    Gone,
    /// Destroyed, as the kernel reported (`--events`).
    Destroyed,
}

impl EventKind {
    pub fn table_name(self) -> &'static str {
        match self {
            EventKind::Present => "EXISTS",
            EventKind::New => "NEW",
            EventKind::State => "STATE",
            EventKind::Gone => "GONE",
            EventKind::Destroyed => "DESTROY",
        }
    }
    pub fn json_name(self) -> &'static str {
        match self {
            EventKind::Present => "exists",
            EventKind::New => "new",
            EventKind::State => "state",
            EventKind::Gone => "gone",
            EventKind::Destroyed => "destroy",
        }
    }
}

/// One line of watch output.
pub struct Event<'a> {
    pub time: &'a str,
    pub kind: EventKind,
    /// The previous state, for [`EventKind::State`].
    pub from: Option<State>,
    /// The socket as last seen (for GONE: as it was before it disappeared).
    pub socket: &'a Socket,
    /// With -N: the namespace the socket is in.
    pub netns: Option<&'a crate::netns::Netns>,
}
