package web

import (
	"context"
	"net"
)

// connKey is where ConnContext leaves a request's connection.
type connKey struct{}

// ConnContext is for http.Server.ConnContext: it gives each request its
// connection, so that counting listens can ask the kernel how many bytes
// the client acknowledged (bytesAcked). Without it, a listen is counted on
// the bytes antenne wrote, which the socket buffers may hold unread.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// connOf is the request's connection, nil when ConnContext was not set.
func connOf(ctx context.Context) net.Conn {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	return c
}

// ackCounter tells how many bytes the peer of a TCP connection has
// acknowledged so far, when the system says (Linux: TCP_INFO).
type ackCounter struct{ conn net.Conn }

// acked is the count of bytes the peer acknowledged since the connection
// opened; ok is false when it is unknown (not TCP, not Linux, closed).
func (a ackCounter) acked() (n int64, ok bool) {
	if a.conn == nil {
		return 0, false
	}
	tc, isTCP := a.conn.(*net.TCPConn)
	if !isTCP {
		return 0, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	return bytesAcked(raw)
}
