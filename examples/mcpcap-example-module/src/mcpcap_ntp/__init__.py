"""NTP for mcpcap: client/server exchanges with their clock offset, delay and stratum."""
