//! The two system databases rnetstat reads by name: /etc/services and /etc/passwd. One parser
//! each, shared by the name resolver (number → name, for output) and the filter (name →
//! number, for input), so both read the files the same way.

/// One `/etc/services` entry: `name port/proto [aliases...] [# comment]`.
pub struct Service<'a> {
    /// The official name, then the aliases.
    pub names: Vec<&'a str>,
    pub port: u16,
    /// `"tcp"` or `"udp"`; other protocols are skipped.
    pub proto: &'static str,
}

/// The well-formed entries of an /etc/services text, in file order; others are skipped.
pub fn services(text: &str) -> impl Iterator<Item = Service<'_>> {
    text.lines().filter_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut f = line.split_whitespace();
        let name = f.next()?;
        let (port, proto) = f.next()?.split_once('/')?;
        let port = port.parse::<u16>().ok()?;
        let proto = match proto {
            "tcp" => "tcp",
            "udp" => "udp",
            _ => return None,
        };
        Some(Service {
            names: std::iter::once(name).chain(f).collect(),
            port,
            proto,
        })
    })
}

/// The `(name, uid)` of each well-formed /etc/passwd line (`name:x:uid:...`), in file order.
pub fn passwd(text: &str) -> impl Iterator<Item = (&str, u32)> {
    text.lines().filter_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        (!name.is_empty()).then_some((name, uid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_entries_with_aliases_and_comments() {
        let text = "# c\nssh\t\t22/tcp\t\t\t# SSH\nhttp 80/tcp www\ndomain 53/udp\nbad x/tcp\nsctp 9/sctp\n";
        let got: Vec<_> = services(text).map(|s| (s.names, s.port, s.proto)).collect();
        assert_eq!(
            got,
            vec![
                (vec!["ssh"], 22, "tcp"),
                (vec!["http", "www"], 80, "tcp"),
                (vec!["domain"], 53, "udp"),
            ]
        );
    }

    #[test]
    fn passwd_entries() {
        let text =
            "root:x:0:0::/root:/bin/sh\nbroken\nnobody:x:65534:65534::/:/bin/false\n:x:5:5\n";
        assert_eq!(
            passwd(text).collect::<Vec<_>>(),
            [("root", 0), ("nobody", 65534)]
        );
    }
}
