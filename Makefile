# Build and install rnetstat like a system tool: both binaries, both man pages and the shell
# completions, under PREFIX (default /usr/local), staged under DESTDIR for packagers.
#
#   make                                  # cargo build --locked --release (as yourself)
#   sudo make install                     # into /usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/stage
#   sudo make uninstall                   # the same PREFIX/DESTDIR as the install
#
# `install` copies what `make` built and never runs cargo itself (so `sudo make install` does not
# compile as root); it stops with a message if the binaries are missing.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man/man1
# Where each shell looks for completions of commands installed under PREFIX.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CARGO      ?= cargo
TARGET_DIR ?= target
RELEASE    := $(TARGET_DIR)/release
INSTALL    ?= install
# The release profile keeps line tables (for profiling): installed binaries are stripped (25 MB
# to 2 MB each). `make install INSTALL_STRIP=` keeps them.
INSTALL_STRIP ?= -s

BINS  := rnetstat rnetstat-demo
MANS  := man/rnetstat.1 man/rnetstat-demo.1

.PHONY: all build install uninstall

all: build

build:
	$(CARGO) build --locked --release --workspace --bins

install:
	@for b in $(BINS); do \
	  test -x $(RELEASE)/$$b || { echo "make install: $(RELEASE)/$$b is missing; run 'make' first" >&2; exit 1; }; \
	done
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 755 $(INSTALL_STRIP) $(addprefix $(RELEASE)/,$(BINS)) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(MANS) $(DESTDIR)$(MANDIR)/
	$(INSTALL) -m 644 completions/rnetstat.bash $(DESTDIR)$(BASHCOMPDIR)/rnetstat
	$(INSTALL) -m 644 completions/_rnetstat $(DESTDIR)$(ZSHCOMPDIR)/_rnetstat
	$(INSTALL) -m 644 completions/rnetstat.fish $(DESTDIR)$(FISHCOMPDIR)/rnetstat.fish

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(BINS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MANS)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/rnetstat $(DESTDIR)$(ZSHCOMPDIR)/_rnetstat \
	  $(DESTDIR)$(FISHCOMPDIR)/rnetstat.fish
