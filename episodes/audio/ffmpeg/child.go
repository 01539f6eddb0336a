package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of one ffmpeg run: its time, a multiple of the recording's
// duration, and the end of its error output kept for messages.
const (
	childTimeBase    = 2 * time.Minute
	childTimePerTime = 2 // seconds of ffmpeg per second of audio, at most
	stderrKept       = 16 << 10
)

// child is an ffmpeg running, its standard input and output piped when
// asked.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // nil unless asked
	stdout io.ReadCloser  // nil unless asked
	stderr *tailBuffer
	ctx    context.Context // the caller's
	cctx   context.Context // the caller's, bounded in time
	cancel context.CancelFunc
	limit  time.Duration

	stopped  atomic.Bool
	waitOnce sync.Once
	err      error
}

// errStopped is what wait returns for a child that stop killed: the cause
// is elsewhere.
var errStopped = errors.New("ffmpeg stopped")

// startChild starts ffmpeg with args for a recording of duration, its
// standard input (when stdin) and output (when stdout) piped. Cancelling
// ctx, or the run outlasting its bound, kills it. Call wait once it is
// started.
func startChild(ctx context.Context, bin string, duration time.Duration, args []string, stdin, stdout bool) (*child, error) {
	c := &child{ctx: ctx, limit: childTimeBase + childTimePerTime*duration, stderr: &tailBuffer{max: stderrKept}}
	c.cctx, c.cancel = context.WithTimeout(ctx, c.limit)
	full := []string{"-hide_banner", "-nostats", "-loglevel", "error"}
	if !stdin {
		full = append(full, "-nostdin")
	}
	full = append(full, args...)
	c.cmd = exec.CommandContext(c.cctx, bin, full...)
	dieWithParent(c.cmd)
	c.cmd.WaitDelay = 5 * time.Second
	c.cmd.Stderr = c.stderr
	var err error
	if stdin {
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			c.cancel()
			return nil, err
		}
	}
	if stdout {
		if c.stdout, err = c.cmd.StdoutPipe(); err != nil {
			c.cancel()
			return nil, err
		}
	}
	if err := c.cmd.Start(); err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

// stop kills the child: its wait then returns errStopped, unless it had
// failed by itself.
func (c *child) stop() {
	c.stopped.Store(true)
	c.cancel()
}

// wait waits for the child to end, after reading what is left of its
// output, and says why it failed: the caller's context, its time bound,
// stop, or ffmpeg's own error with the end of its messages.
func (c *child) wait() error {
	c.waitOnce.Do(func() {
		if c.stdout != nil {
			io.Copy(io.Discard, c.stdout)
		}
		if c.stdin != nil {
			c.stdin.Close()
		}
		err := c.cmd.Wait()
		switch {
		case c.ctx.Err() != nil:
			c.err = c.ctx.Err()
		case c.stopped.Load() && err != nil:
			c.err = errStopped
		case c.cctx.Err() != nil:
			c.err = fmt.Errorf("ffmpeg took more than %v, stopped", c.limit.Round(time.Second))
		case err != nil:
			c.err = fmt.Errorf("ffmpeg: %w: %s", err, lastLines(c.stderr.Bytes(), 5))
		}
		c.cancel()
	})
	return c.err
}

// firstCause is the first error of errs that is not errStopped (a child
// stopped because of another error), else the first error.
func firstCause(errs ...error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, errStopped) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// tailBuffer keeps the last max bytes written to it, at most twice max in
// memory. It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

// Bytes is the end of what was written.
func (b *tailBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf[max(0, len(b.buf)-b.max):]...)
}

// lastLines is the end of ffmpeg's error output, for error messages.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
