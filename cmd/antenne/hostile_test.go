package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The hostile clients of issue 8 that only the real server's settings
// answer: slow headers (slowloris), slow bodies, big headers. The other
// hostile inputs are in web/hostile_test.go.

func TestSlowAndBigClients(t *testing.T) {
	// Not parallel: it measures how long the server holds slow clients.
	s := startServe(t, map[string]string{
		"ANTENNE_DATA_DIR":          t.TempDir(),
		"ANTENNE_BODY_IDLE_TIMEOUT": "1s",
	})
	addr := strings.TrimPrefix(s.url, "http://")

	t.Run("big headers get 431", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
		req.Header.Set("X-Filler", strings.Repeat("x", 100<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("got %d, want 431", resp.StatusCode)
		}
	})

	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		// Trickle a header line a byte at a time, never ending the headers.
		closed := make(chan time.Duration, 1)
		go func() {
			io.Copy(io.Discard, conn)
			closed <- time.Since(start)
		}()
		for i := 0; ; i++ {
			select {
			case took := <-closed:
				if took > readHeaderTimeout+5*time.Second {
					t.Errorf("a slowloris client held the connection %v, want about %v", took, readHeaderTimeout)
				}
				return
			case <-time.After(500 * time.Millisecond):
				if _, err := conn.Write([]byte("X")); err != nil {
					return // closed by the server
				}
				if time.Since(start) > 3*readHeaderTimeout {
					t.Fatalf("the server kept a slowloris connection for %v", time.Since(start))
				}
			}
		}
	})

	t.Run("a stalled body is dropped", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The login form is read before anything is checked.
		fmt.Fprint(conn, "POST /studio/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\nlogin=alice&password=")
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("stalled body: got %d, want a 4xx", resp.StatusCode)
			}
		}
		took := time.Since(start)
		// The bound is far from the 1 s idle timeout so that a loaded
		// machine does not fail it; without the idle timeout the request
		// would be held for the server's ReadTimeout (30 minutes).
		if took > 45*time.Second {
			t.Errorf("a stalled body held the request %v", took)
		}
		if took < 900*time.Millisecond {
			t.Errorf("answered after %v: the body was not waited for, the test proves nothing", took)
		}
	})

	if code := status(t, http.MethodGet, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after hostile clients: got %d", code)
	}
}
