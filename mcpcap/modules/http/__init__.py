"""HTTP/1.0, 1.1 and 0.9 on any TCP port: who fetched what, from which host, with which client."""
