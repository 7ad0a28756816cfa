"""The sender half of doctor: each (From domain, relay) pair in DNS: spf, dmarc, dkim, mx, ptr."""
