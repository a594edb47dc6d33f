# `make install` additions: gluedctl, the systemd unit and the man pages.
# PREFIX and DESTDIR are honoured; the unit's ExecStart follows PREFIX.

SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: install-ops
install: install-ops

install-ops: $(BUILD)/gluedctl
	install -D -m 0755 $(BUILD)/gluedctl $(DESTDIR)$(BINDIR)/gluedctl
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/glued.service >$(DESTDIR)$(UNITDIR)/glued.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/glued.service
	install -m 0644 man/glued.8 man/gluedctl.8 $(DESTDIR)$(MANDIR)/man8/
