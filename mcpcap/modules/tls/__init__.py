"""TLS over TCP and QUIC: server names, versions, ciphers, certificates and JA4 fingerprints."""
