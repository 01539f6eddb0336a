package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picasoft/antenne/episodes/episodestest"
)

// imageConfig is what the test reads of the image's configuration.
type imageConfig struct {
	Config struct {
		User         string
		Env          []string
		Entrypoint   []string
		Cmd          []string
		WorkingDir   string
		ExposedPorts map[string]any
		Volumes      map[string]any
		Labels       map[string]string
		StopSignal   string
		Healthcheck  struct{ Test []string }
	} `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// needImage is the OCI archive of `make image` (ANTENNE_TEST_IMAGE),
// with root to run it; without them the test is skipped, or fails under
// CI.
func needImage(t *testing.T) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	archive := os.Getenv("ANTENNE_TEST_IMAGE")
	if archive == "" {
		skip("ANTENNE_TEST_IMAGE is not set: `make test` or `make test-image` builds the image and sets it")
	}
	if _, err := os.Stat(archive); err != nil {
		skip("no image (`make image` builds it): %v", err)
	}
	if os.Geteuid() != 0 {
		skip("running the image from its root file system needs root (chroot)")
	}
	return archive
}

// TestImageRootfs unpacks the OCI archive `make image` wrote, checks its
// configuration (user, port, volume, environment, labels, health check),
// then runs its entrypoint as its user with its environment in its root
// file system (a chroot, where a container runtime cannot run): antenne
// starts with the image's ffmpeg, takes a Mumble recording (24-bit mono
// WAV, converted by that ffmpeg), publishes it in the feed, answers its
// health check, and stops cleanly on SIGTERM.
func TestImageRootfs(t *testing.T) {
	archive := needImage(t)
	st, err := os.Stat(archive)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	cfg := unpack(t, archive, root)
	t.Logf("image %s: %.1f MB compressed, root file system %.1f MB", filepath.Base(archive), float64(st.Size())/1e6, float64(diskUsage(t, root))/1e6)

	c := cfg.Config
	uid, gid := userOf(t, root, c.User)
	if uid == 0 {
		t.Errorf("the image runs as root (User %q)", c.User)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts: got %v, want 8080/tcp", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("Volumes: got %v, want /data", c.Volumes)
	}
	env := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if env["ANTENNE_DATA_DIR"] != "/data" || env["ANTENNE_ADDR"] != ":8080" {
		t.Errorf("Env: got %v, want ANTENNE_DATA_DIR=/data and ANTENNE_ADDR=:8080", c.Env)
	}
	documented := documentedVariables(t)
	for k := range env {
		if strings.HasPrefix(k, "ANTENNE_") && !slices.Contains(documented, k) {
			t.Errorf("the image sets %s, which docs/configuration.md does not document", k)
		}
	}
	for _, label := range []string{"version", "revision", "source", "licenses", "created", "title"} {
		if c.Labels["org.opencontainers.image."+label] == "" {
			t.Errorf("no label org.opencontainers.image.%s: %v", label, c.Labels)
		}
	}
	if got := strings.Join(c.Healthcheck.Test, " "); got != "CMD /usr/local/bin/antenne healthcheck" {
		t.Errorf("Healthcheck: got %q", got)
	}
	if fi, err := os.Stat(filepath.Join(root, "data")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(uid) {
		t.Errorf("/data is not the image user's: %v", err)
	}
	for _, dev := range []string{"null", "zero", "random", "urandom"} {
		if _, err := os.Lstat(filepath.Join(root, "dev", dev)); err == nil {
			t.Errorf("the image carries /dev/%s: the runtime provides devices", dev)
		}
	}

	// What a container runtime gives every container: the devices, a
	// private /tmp. (It mounts /proc too; antenne does not need it.)
	for dev, num := range map[string][2]uint32{"null": {1, 3}, "zero": {1, 5}, "random": {1, 8}, "urandom": {1, 9}} {
		path := filepath.Join(root, "dev", dev)
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, int(num[0]<<8|num[1])); err != nil {
			t.Fatalf("mknod /dev/%s: %v", dev, err)
		}
		if err := os.Chmod(path, 0o666); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	base := "http://" + addr
	img := &container{t: t, root: root, uid: uid, gid: gid, cfg: cfg}
	img.env = append(slices.Clone(c.Env), "ANTENNE_ADDR="+addr, "ANTENNE_BASE_URL="+base)

	version := img.run("version")
	if rev := c.Labels["org.opencontainers.image.revision"]; !strings.Contains(version, strings.TrimSuffix(rev, "-dirty")) {
		t.Errorf("antenne version in the image: got %q, want the revision of the label (%s)", version, rev)
	}
	img.run("shows", "create", "lvel", "--title", "La Voix est Libre", "--author", "Picasoft", "--email", "radio@picasoft.net", "--category", "Technology")
	img.runStdin("motdepasse-du-test-assez-long\n", "hosts", "add", "alice", "--admin", "--password-stdin")

	serve := img.start()
	waitHTTP(t, base+"/readyz", http.StatusOK, serve)
	if out := img.run("healthcheck"); !strings.Contains(out, "ready") {
		t.Errorf("antenne healthcheck in the image: %q", out)
	}
	if log := serve.log.String(); !regexp.MustCompile(`msg="ffmpeg found" path=/usr/bin/ffmpeg version="ffmpeg version `).MatchString(log) {
		t.Errorf("antenne does not say it found the image's ffmpeg:\n%s", log)
	}
	// A token made by the CLI while the server runs works at once.
	fields := strings.Fields(img.run("hosts", "token", "create", "alice"))
	token := fields[len(fields)-1]

	wav := episodestest.Make(t, episodestest.Recording{Format: "wav", Seconds: 4, Tags: map[string]string{"title": "Les communs numériques"}})
	data, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/shows/lvel/episodes?name=Mixdown.wav", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "audio/wav")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload of a Mumble WAV: got %d %s, want 202\n%s", resp.StatusCode, body, serve.log)
	}
	location := resp.Header.Get("Location")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+location, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ep struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&ep)
		resp.Body.Close()
		if ep.Status == "published" {
			break
		}
		if ep.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("the recording was not converted and published (status %q)\n%s", ep.Status, serve.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	feed := get(t, base+"/lvel/feed.xml")
	enclosure := regexp.MustCompile(`<enclosure url="([^"]+\.mp3)" length="\d+" type="audio/mpeg"`).FindStringSubmatch(feed)
	if !strings.Contains(feed, "Les communs numériques") || enclosure == nil {
		t.Fatalf("the feed does not list the episode with its MP3:\n%s", feed)
	}
	if mp3 := get(t, enclosure[1]); !strings.HasPrefix(mp3, "ID3") && !strings.HasPrefix(mp3, "\xff") {
		t.Errorf("the enclosure is not an MP3: %q", mp3[:min(len(mp3), 16)])
	}

	// Stopped as a runtime stops it: SIGTERM.
	if err := serve.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-serve.done:
		if err != nil {
			t.Errorf("antenne stopped by SIGTERM: %v\n%s", err, serve.log)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("antenne did not stop within 45 s of SIGTERM\n%s", serve.log)
	}
	if !strings.Contains(serve.log.String(), `msg=stopped`) {
		t.Errorf("no clean stop in the log:\n%s", serve.log)
	}
}

// container runs the image's entrypoint in its root file system, as its
// user, with its environment and working directory.
type container struct {
	t        *testing.T
	root     string
	uid, gid int
	cfg      imageConfig
	env      []string
}

func (c *container) command(args ...string) *exec.Cmd {
	entry := c.cfg.Config.Entrypoint
	cmd := exec.Command(entry[0], append(slices.Clone(entry[1:]), args...)...)
	cmd.Env = c.env
	cmd.Dir = c.cfg.Config.WorkingDir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     c.root,
		Credential: &syscall.Credential{Uid: uint32(c.uid), Gid: uint32(c.gid)},
		Pdeathsig:  syscall.SIGKILL,
	}
	return cmd
}

func (c *container) run(args ...string) string { return c.runStdin("", args...) }

func (c *container) runStdin(stdin string, args ...string) string {
	c.t.Helper()
	cmd := c.command(args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("antenne %s in the image: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// served is `antenne serve` running in the image.
type served struct {
	cmd  *exec.Cmd
	log  *logBuffer
	done chan error
}

// start runs the image's default command (Cmd: serve).
func (c *container) start() *served {
	c.t.Helper()
	s := &served{cmd: c.command(c.cfg.Config.Cmd...), log: &logBuffer{}, done: make(chan error, 1)}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		c.t.Fatalf("start antenne serve in the image: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	c.t.Cleanup(func() {
		s.cmd.Process.Kill()
		if c.t.Failed() {
			c.t.Logf("antenne serve's log:\n%s", s.log)
		}
	})
	return s
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitHTTP(t *testing.T, url string, want int, s *served) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("antenne serve exited: %v\n%s", err, s.log)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within a minute\n%s", url, want, s.log)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// unpack reads the OCI archive: its index, manifest and configuration,
// and applies its layers in order under root (as a runtime would,
// whiteouts included), owners and modes kept.
func unpack(t *testing.T, archive, root string) imageConfig {
	t.Helper()
	blobs := readArchive(t, archive)
	var index struct{ Manifests []descriptor }
	mustJSON(t, blobs["index.json"], &index)
	if len(index.Manifests) != 1 || index.Manifests[0].MediaType != mediaManifest {
		t.Fatalf("index.json: want one image manifest, got %+v", index.Manifests)
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	mustJSON(t, blobs[blobName(index.Manifests[0])], &manifest)
	var cfg imageConfig
	mustJSON(t, blobs[blobName(manifest.Config)], &cfg)
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		t.Fatalf("%d layers but %d diff_ids", len(manifest.Layers), len(cfg.RootFS.DiffIDs))
	}
	for _, l := range manifest.Layers {
		if err := applyLayer(archive, blobName(l), root); err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
	}
	return cfg
}

// readArchive reads the small files of the archive (index, manifest,
// configuration), not the layers.
func readArchive(t *testing.T, archive string) map[string][]byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[h.Name] = b
		}
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if b == nil {
		t.Fatal("missing from the archive")
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// applyLayer extracts the gzipped layer name of the archive under root.
func applyLayer(archive, name, root string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if err != nil {
			return fmt.Errorf("%s not in the archive: %w", name, err)
		}
		if h.Name == name {
			break
		}
	}
	zr, err := gzip.NewReader(bufio.NewReader(outer))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel := filepath.Clean("/" + h.Name)
		target := filepath.Join(root, rel)
		dir, base := filepath.Split(target)
		if strings.HasPrefix(base, ".wh.") {
			os.RemoveAll(filepath.Join(dir, strings.TrimPrefix(base, ".wh.")))
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			os.Remove(target)
			w, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			w.Close()
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			os.Remove(target)
			if err := os.Link(filepath.Join(root, filepath.Clean("/"+h.Linkname)), target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: entry type %c in a layer", h.Name, h.Typeflag)
		}
		if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeSymlink {
			if err := os.Chmod(target, os.FileMode(h.Mode&0o7777)|modeBits(h.Mode)); err != nil {
				return err
			}
		}
	}
}

// modeBits are the setuid, setgid and sticky bits of a tar mode.
func modeBits(m int64) os.FileMode {
	var out os.FileMode
	if m&0o4000 != 0 {
		out |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

// userOf resolves the image's User (name or uid[:gid]) in its /etc/passwd.
func userOf(t *testing.T, root, user string) (uid, gid int) {
	t.Helper()
	name, group, _ := strings.Cut(user, ":")
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(passwd)) {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) >= 4 && (f[0] == name || f[2] == name) {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			if group != "" {
				gid, _ = strconv.Atoi(group)
			}
			return uid, gid
		}
	}
	t.Fatalf("the image's user %q is not in its /etc/passwd", user)
	return 0, 0
}

func diskUsage(t *testing.T, root string) int64 {
	var n int64
	filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// documentedVariables are the ANTENNE_* variables of the configuration
// table of docs/configuration.md.
func documentedVariables(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(ANTENNE_[A-Z0-9_]+)`(?:, `(ANTENNE_[A-Z0-9_]+)`)?").FindAllStringSubmatch(string(doc), -1) {
		names = append(names, m[1], m[2])
	}
	return names
}
