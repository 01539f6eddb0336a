// Command goref is the ceiling of Go's net/http on the machine, for
// bench/feed.sh: it serves one file's bytes from memory, gzipped, with the
// bare minimum (304 on any If-None-Match). antenne serves the feed through
// the same net/http server, so antenne/goref is the share antenne's own
// code leaves, apart from what the HTTP server costs against nginx.
//
// usage: goref ADDR FILE.gz
//
// ADDR may have port 0: the address listened on is printed on stdout.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goref ADDR FILE.gz")
		os.Exit(2)
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	size := strconv.Itoa(len(body))
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", size)
		w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
