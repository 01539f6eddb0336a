package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

var healthcheckCommand = command{
	name:    "healthcheck",
	summary: "exit 0 when the antenne serving here is ready (for container health checks)",
	usage: `usage: antenne healthcheck [--url URL]

Asks the antenne serve of this machine (or container) whether it is ready:
GET /readyz on the port of ANTENNE_ADDR (:8080 by default) at the loopback
address, or at --url. Exits 0 when it answers 200 within 5 seconds, 1
otherwise (store unreachable, not started, stopped). Container images
rarely have curl: HEALTHCHECK CMD ["antenne", "healthcheck"].`,
	run: runHealthcheck,
}

// healthcheckTimeout bounds the whole check.
const healthcheckTimeout = 5 * time.Second

func runHealthcheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags("healthcheck")
	target := fs.String("url", "", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	u := *target
	if u == "" {
		addr, _ := lookup(e.getenv, "ANTENNE_ADDR")
		var err error
		if u, err = readyzURL(addr); err != nil {
			return usageErrorf("ANTENNE_ADDR: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageErrorf("healthcheck: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s %s", u, resp.Status, body)
	}
	fmt.Fprintf(e.stdout, "ready (%s)\n", u)
	return nil
}

// readyzURL is the /readyz URL of the server listening on addr (host:port,
// empty for the default :8080), reached through the loopback when it
// listens on every address.
func readyzURL(addr string) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("want host:port, got %q", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
