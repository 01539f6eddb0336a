package web

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bytesAcked reads tcpi_bytes_acked (Linux 4.1 and later, RFC 4898
// tcpEStatsAppHCThruOctetsAcked): the bytes the peer acknowledged.
func bytesAcked(raw syscall.RawConn) (n int64, ok bool) {
	err := raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil {
			n, ok = int64(info.Bytes_acked), true
		}
	})
	return n, ok && err == nil
}
