complete -c rnetstat -s c -l continuous -d 'Print the listing again every SECONDS (default 1, at least 0.01) until interrupted' -r
complete -c rnetstat -s A -l protocol -d 'Address families, as netstat\'s -A: inet, inet6, unix, comma-separated (repeatable)' -r
complete -c rnetstat -l source -d 'Where socket tables come from (and, for -r, -i and -g, netlink means rtnetlink)' -r -f -a "auto\t'netlink sock_diag, falling back to /proc/net per table when netlink cannot serve it'
netlink\t'netlink sock_diag only; a table it cannot serve is an error'
proc\t'/proc/net text files only'"
complete -c rnetstat -l owner-scan -d 'How -p and the owner filters find which processes hold which sockets' -r -f -a "auto\t'the BPF task_file iterator where it can run (root, BTF, initial pid namespace), else /proc'
bpf\t'the BPF iterator only; when it cannot run, that is an error'
proc\t'/proc/PID/fd only'"
complete -c rnetstat -l pid -d 'Only sockets owned by this process (repeatable)' -r
complete -c rnetstat -l process -d 'Only sockets owned by a process with this exact name (comm; repeatable)' -r
complete -c rnetstat -s N -l netns -d 'List the sockets (or the -r, -i, -g tables) of network namespace NS, with a first column naming it: a name under /run/netns, a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), pid:PID, or all for every namespace on the host (repeatable; see NETWORK NAMESPACES)' -r
complete -c rnetstat -l container -d 'Only sockets owned by a process in this container: a prefix of its id, or its name (repeatable; see CONTAINERS)' -r
complete -c rnetstat -l uid -d 'Only sockets of this user, by number or name (repeatable)' -r -f -a "(__fish_complete_users)"
complete -c rnetstat -l watch -d 'Follow the listing every SECONDS (default 1, at least 0.01) and print NEW, state changes and GONE as they happen' -r
complete -c rnetstat -l listen -d 'With --metrics: serve GET /metrics over HTTP on this address (such as 127.0.0.1:9464 or [::1]:9464) until interrupted' -r
complete -c rnetstat -l completions -d 'Print the completion script for SHELL and exit (see SHELL COMPLETION in the man page)' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c rnetstat -l proc-root -d 'Read /proc from this directory instead (for testing against a captured tree)' -r -F
complete -c rnetstat -s a -l all -d 'Show both listening and non-listening sockets'
complete -c rnetstat -s l -l listening -d 'Show only listening sockets (and unconnected UDP, UDP-Lite and raw sockets)'
complete -c rnetstat -s p -l programs -d 'Show the PID and name of every process owning each socket'
complete -c rnetstat -s n -l numeric -d 'Show numerical addresses, ports and users instead of resolving names'
complete -c rnetstat -l numeric-hosts -d 'Show numerical host addresses but resolve ports and users'
complete -c rnetstat -l numeric-ports -d 'Show numerical port numbers but resolve hosts and users'
complete -c rnetstat -l numeric-users -d 'Show numerical user IDs but resolve hosts and ports'
complete -c rnetstat -s e -l extend -d 'Show extended information: the owning user and the socket inode'
complete -c rnetstat -s o -l timers -d 'Show networking timers: on, keepalive, timewait, probe or off, with remaining seconds'
complete -c rnetstat -s W -l wide -d 'Wide output. Accepted for netstat compatibility: rnetstat never truncates addresses'
complete -c rnetstat -s t -l tcp -d 'TCP sockets'
complete -c rnetstat -s u -l udp -d 'UDP sockets'
complete -c rnetstat -s U -l udplite -d 'UDP-Lite sockets'
complete -c rnetstat -s w -l raw -d 'Raw sockets'
complete -c rnetstat -s x -l unix -d 'Unix domain sockets'
complete -c rnetstat -s 4 -l inet -d 'IPv4 sockets only (with no -x: no unix sockets)'
complete -c rnetstat -s 6 -l inet6 -d 'IPv6 sockets only (with no -x: no unix sockets)'
complete -c rnetstat -s r -l route -d 'Show the kernel routing table (IPv4; IPv6 with -6 or -A inet6), as netstat -r'
complete -c rnetstat -s i -l interfaces -d 'Show the interface table (-a: also interfaces that are down; -e: the long form)'
complete -c rnetstat -s g -l groups -d 'Show IPv4 and IPv6 multicast group memberships'
complete -c rnetstat -s C -l cache -d 'With -r: the routing cache instead of the table'
complete -c rnetstat -s F -l fib -d 'With -r: the routing table (the default)'
complete -c rnetstat -s M -l masquerade -d 'Masqueraded connections: the kernel has had no ip_masquerade table since Linux 2.4, so this says so and exits 1, as netstat does'
complete -c rnetstat -s Z -l context -d 'SELinux contexts of sockets: not supported; says so and exits 1, as netstat does where SELinux is off'
complete -c rnetstat -l symbolic -d 'Accepted for netstat compatibility and ignored (as netstat ignores it, except that -r then prints numeric addresses); the short -N is left to network namespaces'
complete -c rnetstat -s v -l verbose -d 'Say on stderr which source served each table and why a fallback was taken'
complete -c rnetstat -l json -d 'Print one JSON array of socket objects instead of the table (see JSON SCHEMA in the man page)'
complete -c rnetstat -l json-lines -d 'Print one JSON object per socket, one per line, as the listing streams (with -c, every listing; with --watch or --events, one object per event)'
complete -c rnetstat -s H -l no-header -d 'Print no section headers and no column titles, only rows (like ss -H; also for -r, -i, -g)'
complete -c rnetstat -l info -d 'Show TCP internals from tcp_info on a second line: rtt, rto, mss, cwnd, windows, bytes, rates'
complete -c rnetstat -l memory -d 'Show socket memory (skmeminfo) on a second line'
complete -c rnetstat -l extended -d 'Show v6only, mark, cgroup path and shutdown state on a second line'
complete -c rnetstat -l events -d 'Print socket destruction events from the kernel as they happen (any user: every TCP and UDP socket of this network namespace)'
complete -c rnetstat -s s -l statistics -d 'Show per-protocol statistics from /proc/net/snmp, netstat and snmp6, like netstat -s'
complete -c rnetstat -s K -l kill -d 'Close the sockets the filter selects (SOCK_DESTROY, as ss -K; with -N in each namespace) and print those closed; needs CAP_NET_ADMIN and a filter or state selection'
complete -c rnetstat -l summary -d 'Show totals by protocol and state, like ss -s'
complete -c rnetstat -l metrics -d 'Print the selected sockets as Prometheus metrics (text format 0.0.4) once, or serve them with --listen (see METRICS in the man page)'
complete -c rnetstat -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rnetstat -s V -l version -d 'Print version'
# Filter words (clap_complete's fish generator leaves positional arguments out).
complete -c rnetstat -f -n 'not string match -q -- "-*" (commandline -ct)' -a 'state exclude sport dport src dst dev fwmark cgroup autobound and or not established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing all connected synchronized bucket big'
