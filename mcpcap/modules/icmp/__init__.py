"""ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861 neighbour discovery): what the network said."""
