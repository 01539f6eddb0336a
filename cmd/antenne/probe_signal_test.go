package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestProbeAnswersSIGTERM probes a recording followed by 16 GiB of
// (sparse) zeros, which takes minutes to read, and sends SIGTERM a moment
// in: antenne probe stops at its next read and exits, long before the
// file could have been read.
func TestProbeAnswersSIGTERM(t *testing.T) {
	data, err := os.ReadFile(makeMP3(t))
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "long.mp3")
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 16<<30); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "probe", big)
	cmd.Env = append(os.Environ(), "ANTENNE_TEST_RUN_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("antenne probe still running 30 s after SIGTERM")
	}
}
