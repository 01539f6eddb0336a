//go:build !linux

package web

import "syscall"

// bytesAcked is unknown on this system: listens count the bytes written.
func bytesAcked(syscall.RawConn) (int64, bool) { return 0, false }
