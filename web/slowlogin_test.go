package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestSlowLoginBodyCut sends a login form one byte every 300 ms: the
// server answers 408 and drops it long before the form is complete (the
// whole body has 10 s, whatever the idle timeout).
func TestSlowLoginBodyCut(t *testing.T) {
	env := newStudioEnv(t, 0)
	u, _ := url.Parse(env.srv.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 200
	fmt.Fprintf(conn, "POST /studio/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", u.Host, size)
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- nil
			return
		}
		answered <- resp
	}()
	sent := 0
	for sent < size {
		select {
		case resp := <-answered:
			if resp == nil || resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("after %d of %d bytes: got %v, want 408", sent, size, resp)
			}
			return
		case <-time.After(300 * time.Millisecond):
			conn.Write([]byte("a"))
			sent++
		}
	}
	t.Fatalf("the server read the whole %d-byte form sent over %s", size, time.Duration(size)*300*time.Millisecond)
}
