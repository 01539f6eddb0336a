package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// checkTimeout bounds `ffmpeg -version`; checkOutputMax the output read.
const (
	checkTimeout   = 10 * time.Second
	checkOutputMax = 4 << 10
)

// Check finds ffmpeg and runs `ffmpeg -version`, for antenne to say at
// start what it will use: the path found and the first line of the
// version ("ffmpeg version 5.1.6-0+deb12u1 Copyright ..."). The error
// wraps ErrMissing when ffmpeg is not found or does not run.
func (t *Runner) Check(ctx context.Context) (path, version string, err error) {
	path, err = t.ffmpegPath()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-hide_banner", "-nostdin", "-version")
	dieWithParent(cmd)
	cmd.WaitDelay = time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return path, "", err
	}
	if err := cmd.Start(); err != nil {
		return path, "", fmt.Errorf("%w (%s: %v)", ErrMissing, path, err)
	}
	head, _ := io.ReadAll(io.LimitReader(out, checkOutputMax))
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return path, "", fmt.Errorf("%w (%s -version: %v)", ErrMissing, path, err)
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	version = strings.TrimSpace(string(first))
	if !strings.HasPrefix(version, "ffmpeg version ") {
		return path, version, fmt.Errorf("%w (%s -version printed %q, not ffmpeg's version)", ErrMissing, path, version)
	}
	return path, version, nil
}
