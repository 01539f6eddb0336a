package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/storagetest"
)

// icecast is the Debian package's Icecast server, which the Makefile
// installs.
const icecast = "/usr/bin/icecast2"

// startIcecast starts a real Icecast on 127.0.0.1 with a temporary
// configuration, fed by ffmpeg with a sine tone as MP3 on /live.mp3, and
// returns the stream's URL once it can be listened to. Both processes stop
// with the test (ffmpeg after five minutes at most). Without icecast2 or
// ffmpeg the test is skipped, and fails under CI.
func startIcecast(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{icecast, "ffmpeg"} {
		episodestest.NeedTool(t, tool)
	}
	addr := storagetest.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	// Not t.TempDir: its parent folder is closed to other users.
	dir, err := os.MkdirTemp("", "antenne-icecast-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Icecast refuses to run as root: it then drops to the package's own
	// user, which must be able to write its folder.
	security := "<chroot>0</chroot>"
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("icecast2"); err != nil {
			t.Fatalf("icecast2 runs as root only with its own user, which is missing: %v", err)
		}
		security += "<changeowner><user>icecast2</user><group>icecast</group></changeowner>"
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	const password = "antenne-test-source"
	conf := fmt.Sprintf(`<icecast>
  <location>test</location><admin>test@localhost</admin>
  <limits><clients>20</clients><sources>2</sources><queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>10</source-timeout><burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size></limits>
  <authentication><source-password>%[1]s</source-password><admin-user>admin</admin-user><admin-password>%[1]s</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>%[2]s</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>0</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>%[3]s</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>%[3]s/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security>%[4]s</security>
</icecast>
`, password, port, dir, security)
	confPath := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var serverOut bytes.Buffer
	server := exec.CommandContext(ctx, icecast, "-c", confPath)
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatalf("start icecast2: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		server.Wait()
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("icecast2 output:\n%s\nerror.log:\n%s", serverOut.String(), errLog)
		}
	})
	waitFor(t, 10*time.Second, "icecast2 listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	var feederOut bytes.Buffer
	feeder := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "300",
		"-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
		fmt.Sprintf("icecast://source:%s@%s/live.mp3", password, addr))
	feeder.Stdout, feeder.Stderr = &feederOut, &feederOut
	if err := feeder.Start(); err != nil {
		t.Fatalf("start ffmpeg: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		feeder.Wait()
		if t.Failed() {
			t.Logf("ffmpeg output:\n%s", feederOut.String())
		}
	})
	stream := "http://" + addr + "/live.mp3"
	client := &http.Client{Timeout: 2 * time.Second}
	waitFor(t, 15*time.Second, "the stream on "+stream, func() bool {
		resp, err := client.Get(stream)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		return n > 0
	})
	return stream
}

// waitFor polls ok every 100 ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
