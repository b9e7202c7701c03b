"""DHCP (RFC 2131/2132) and DHCPv6 (RFC 8415): who asked for an address, and who got which."""
