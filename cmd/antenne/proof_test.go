package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/episodes/episodestest"
	"github.com/picasoft/antenne/storage/bucket"
	"github.com/picasoft/antenne/storage/storagetest/faultproxy"
	"github.com/picasoft/antenne/web/federation/gotosocialtest"
)

// TestFaults is the proof under faults of issue 21: three `antenne serve`
// replicas behind one TLS front, and the CLI, on one MinIO, each reaching
// MinIO through its own fault proxy (latency, stalls longer than the
// store's timeouts, cut connections); MinIO restarted once; replicas
// SIGKILLed and restarted at random; a real GoToSocial following the
// show. Hosts upload (Mumble WAVs and MP3s), replace recordings while
// they are processed, edit, rename, publish, unpublish and delete, on a
// seeded random schedule (the seed is logged; ANTENNE_FAULTS_SEED replays
// it, ANTENNE_FAULTS_DURATION runs it longer: make soak). Once the faults
// stop and the work settles, the invariants are checked and printed as a
// table. A request that failed (a 5xx, a cut, a replica killed under it)
// may or may not have taken effect: the expectations allow both.
//
// The linearizability of claims and leases is checked on their own, from
// several clients through the same fault proxies:
// storage/bucket.TestLinearizableUnderFaults.
func TestFaults(t *testing.T) {
	// Not in `make test` yet: its invariants still fail on some
	// schedules (a replacement that ends with the earlier recording, a
	// post left on the fediverse for an unpublished episode; see
	// docs/bucket.md), and a red CI would hide every other result. It runs
	// with `make faults` (one short schedule) and `make soak`.
	if os.Getenv("ANTENNE_FAULTS") == "" {
		t.Skip("the proof under faults runs with make faults or make soak (ANTENNE_FAULTS=1)")
	}
	seed, duration := faultproxy.Plan(t, time.Minute)
	start := time.Now()
	p := newProof(t, seed)
	p.run(duration)
	p.settle()
	p.check(seed, time.Since(start))
}

// proof is the fault test's world.
type proof struct {
	t     *testing.T
	seed  uint64
	site  *faultSite
	front *httptest.Server
	base  string // https://127.0.0.1:PORT, the replicas' public URL
	gts   *gotosocialtest.Server
	alice *gotosocialtest.Client

	mu        sync.Mutex
	replicas  []*replica
	transcode map[string]int // episode/lease -> transcodes logged
	delivered []delivered
	events    map[string]int // what the schedule did, for the table
	hosts     []*host
	freq      int // the next tone, so that every recording differs

	cliProxy             *faultproxy.Proxy
	cliKnown, cliUnknown []string // SHA-256 of the CLI's publications
}

// replica is one slot of the three: its fault proxy and its current child
// (nil while killed).
type replica struct {
	name  string
	proxy *faultproxy.Proxy
	child *child
}

// delivered is an activity a replica logged as delivered to GoToSocial.
type delivered struct {
	typ, object string
	at          time.Time
}

const (
	proofPassword = "correct horse battery staple"
	gtsUser       = "alice"
	gtsPassword   = "Correct-Horse-Battery-Staple-42"
)

func newProof(t *testing.T, seed uint64) *proof {
	t.Helper()
	p := &proof{t: t, seed: seed, transcode: map[string]int{}, events: map[string]int{}, freq: 200}
	p.gts = gotosocialtest.New(t)
	p.gts.CreateAccount(gtsUser, gtsPassword)
	p.gts.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("GoToSocial's log:\n%.20000s", p.gts.Log())
		}
	})

	p.site = newFaultSite(t)
	p.site.onLine = p.logged
	// The front: TLS (GoToSocial fetches WebFinger over https), spreading
	// requests over the replicas alive, as a load balancer would.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.base = "https://" + ln.Addr().String()
	p.front = httptest.NewUnstartedServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target, _ := url.Parse(p.pick())
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "front: "+err.Error(), http.StatusBadGateway)
		},
	})
	p.front.Listener.Close()
	p.front.Listener = ln
	p.front.StartTLS()
	t.Cleanup(p.front.Close)

	for i := range 3 {
		r := &replica{name: fmt.Sprintf("replica %d", i+1)}
		r.proxy = faultproxy.Start(t, r.name, p.site.minio.Endpoint())
		p.replicas = append(p.replicas, r)
		p.start(r)
	}
	p.cliProxy = faultproxy.Start(t, "CLI", p.site.minio.Endpoint())
	p.follow()
	return p
}

// start starts the replica's antenne, its proxy healed for the start.
func (p *proof) start(r *replica) {
	p.t.Helper()
	r.proxy.Set(faultproxy.Healthy)
	c := p.site.serve(p.t,
		"ANTENNE_S3_ENDPOINT="+r.proxy.Addr(),
		"ANTENNE_BASE_URL="+p.base,
		"ANTENNE_FETCH_ALLOW_PRIVATE=true",
		"ANTENNE_INGEST_WORKERS=1",
		"ANTENNE_LOG_LEVEL=debug",
	)
	p.mu.Lock()
	r.child = c
	p.mu.Unlock()
}

// kill SIGKILLs the replica's antenne.
func (p *proof) kill(r *replica) {
	p.mu.Lock()
	c := r.child
	r.child = nil
	p.mu.Unlock()
	if c != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
}

// pick returns the URL of a replica alive, at random; the first slot's
// last URL when none is.
func (p *proof) pick() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var alive []string
	for _, r := range p.replicas {
		if r.child != nil {
			alive = append(alive, r.child.url)
		}
	}
	if len(alive) == 0 {
		return "http://127.0.0.1:1"
	}
	return alive[rand.IntN(len(alive))]
}

var (
	logTranscode = regexp.MustCompile(`msg=transcode .*episode_id=(\S+) lease=(\S+)`)
	logDelivered = regexp.MustCompile(`msg=delivered .*type=(\S+) object=(\S+)`)
)

// logged reads the lines replicas print: transcodes and deliveries.
func (p *proof) logged(_, line string) {
	if m := logTranscode.FindStringSubmatch(line); m != nil {
		p.mu.Lock()
		p.transcode[m[1]+" "+m[2]]++
		p.mu.Unlock()
	}
	if m := logDelivered.FindStringSubmatch(line); m != nil {
		p.mu.Lock()
		p.delivered = append(p.delivered, delivered{typ: m[1], object: m[2], at: time.Now()})
		p.mu.Unlock()
	}
}

// follow makes GoToSocial's alice follow the show.
func (p *proof) follow() {
	t := p.t
	p.alice = p.gts.Login(gtsUser, gtsPassword)
	handle := "@lvel@" + strings.TrimPrefix(p.base, "https://")
	acct, status := p.alice.Resolve(handle)
	if acct.ID == "" {
		t.Fatalf("GoToSocial could not resolve %s (HTTP %d): %s", handle, status, p.gts.Log())
	}
	if st := p.alice.Call(http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil); st != http.StatusOK {
		t.Fatalf("follow: HTTP %d", st)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for following, _ := p.alice.Following(acct.ID); !following; following, _ = p.alice.Following(acct.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("the follow was not accepted within 2 min")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (p *proof) count(event string) {
	p.mu.Lock()
	p.events[event]++
	p.mu.Unlock()
}

// run runs the hosts and the CLI for d while the faults come and go.
func (p *proof) run(d time.Duration) {
	ctx, cancel := context.WithTimeout(p.t.Context(), d)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		h := p.newHost(i)
		p.hosts = append(p.hosts, h)
		wg.Go(func() { h.run(ctx) })
	}
	wg.Go(func() { p.cli(ctx) })
	p.faults(ctx, d)
	wg.Wait()
}

// faults is the schedule of faults, drawn from the seed, until ctx ends:
// every 0.5 to 2.5 s a replica's proxy (or the CLI's) gets a fault or
// heals, or a replica is killed and started again; once, a quarter in,
// a replica's proxy stalls for longer than the store's operation timeout
// (bucket.OpTimeout); MinIO restarts once, midway.
func (p *proof) faults(ctx context.Context, d time.Duration) {
	rng := rand.New(rand.NewPCG(p.seed, 1))
	begin := time.Now()
	minioAt, stallAt := begin.Add(d/2), begin.Add(d/4)
	var stalled *replica
	var stalledUntil time.Time
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(500*time.Millisecond + time.Duration(rng.IntN(2000))*time.Millisecond):
		}
		if ctx.Err() != nil {
			break
		}
		if stalled != nil && time.Now().After(stalledUntil) {
			stalled.proxy.Set(faultproxy.Healthy)
			stalled = nil
		}
		i := rng.IntN(len(p.replicas) + 1)
		switch {
		case !minioAt.IsZero() && time.Now().After(minioAt):
			p.site.minio.Stop()
			time.Sleep(time.Duration(2000+rng.IntN(3000)) * time.Millisecond)
			p.site.minio.Start()
			minioAt = time.Time{}
			p.count("MinIO restarted")
			continue
		case !stallAt.IsZero() && time.Now().After(stallAt):
			stalled, stalledUntil = p.replicas[i%len(p.replicas)], time.Now().Add(bucket.OpTimeout+5*time.Second)
			stalled.proxy.Set(faultproxy.Stall)
			stallAt = time.Time{}
			p.count(fmt.Sprintf("proxy: stall of %v", bucket.OpTimeout+5*time.Second))
			continue
		case i == len(p.replicas):
			f := faultproxy.Faults[rng.IntN(len(faultproxy.Faults))]
			p.cliProxy.Set(f)
			p.count("CLI's proxy: " + string(f))
			continue
		}
		r := p.replicas[i]
		if r == stalled {
			continue
		}
		switch n := rng.IntN(10); {
		case n < 2:
			p.kill(r)
			p.count("replica SIGKILLed and restarted")
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
			p.start(r)
		case n < 7:
			f := faultproxy.Faults[1+rng.IntN(len(faultproxy.Faults)-1)]
			r.proxy.Set(f)
			p.count("proxy: " + string(f))
		default:
			r.proxy.Set(faultproxy.Healthy)
			p.count("proxy: healed")
		}
	}
	p.cliProxy.Set(faultproxy.Healthy)
	for _, r := range p.replicas {
		r.proxy.Set(faultproxy.Healthy)
		if r.child == nil {
			p.start(r)
		}
	}
}

// cli publishes an MP3 with `antenne publish` every few seconds, through
// its own fault proxy: one more replica.
func (p *proof) cli(ctx context.Context) {
	vars := map[string]string{}
	for k, v := range p.site.vars {
		vars[k] = v
	}
	vars["ANTENNE_S3_ENDPOINT"] = p.cliProxy.Addr()
	c := &cli{t: p.t, vars: vars}
	rng := rand.New(rand.NewPCG(p.seed, 2))
	for n := 0; ctx.Err() == nil; n++ {
		p.mu.Lock()
		p.freq += 7
		freq := p.freq
		p.mu.Unlock()
		data := p.tone("mp3", 2, freq)
		path := filepath.Join(p.t.TempDir(), "cli.mp3")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			p.t.Error(err)
			return
		}
		code, _, _ := c.run("publish", path, "--title", fmt.Sprintf("Par la CLI %d", n))
		os.Remove(path)
		p.mu.Lock()
		if code == 0 {
			p.cliKnown = append(p.cliKnown, sha256Hex(data))
		} else {
			p.cliUnknown = append(p.cliUnknown, sha256Hex(data))
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(2000+rng.IntN(4000)) * time.Millisecond):
		}
	}
}

// Expectations. A set of the values a field may end with: one after a
// request known to have succeeded, more after one of unknown outcome.
type set[T comparable] map[T]bool

func one[T comparable](v T) set[T] { return set[T]{v: true} }

func (s set[T]) add(v T) set[T] {
	out := set[T]{v: true}
	for k := range s {
		out[k] = true
	}
	return out
}

func (s set[T]) String() string {
	var vs []string
	for k := range s {
		vs = append(vs, fmt.Sprint(k))
	}
	sort.Strings(vs)
	return "{" + strings.Join(vs, ", ") + "}"
}

// expected is what a host expects of one of its episodes.
type expected struct {
	id         string
	upload     string // SHA-256 of the first recording
	known      bool   // the upload is known to have been accepted
	recordings set[string]
	titles     set[string]
	published  set[bool]
	deleted    set[bool]
	wav        time.Time // when its last WAV was sent (processing)
	// unpublished: when a request to unpublish or delete it was first
	// sent (a Delete sent before is a contradiction).
	unpublished time.Time
}

// host is a host of the show working on its own episodes, one request at
// a time.
type host struct {
	p        *proof
	id       int
	rng      *rand.Rand
	client   *http.Client // through the front, with a studio session
	episodes []*expected
	unknown  []string // SHA-256 of uploads of unknown outcome
	results  map[string]int
}

func (p *proof) newHost(i int) *host {
	jar, _ := cookiejar.New(nil)
	tr := p.front.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	c := &http.Client{Jar: jar, Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &host{p: p, id: i, rng: rand.New(rand.NewPCG(p.seed, uint64(10+i))), client: c, results: map[string]int{}}
}

// recording returns a new recording: a Mumble WAV (24-bit mono, 48 kHz)
// or an MP3.
func (h *host) recording() (data []byte, wav bool) {
	h.p.mu.Lock()
	h.p.freq += 7
	freq := h.p.freq
	h.p.mu.Unlock()
	wav = h.rng.IntN(3) > 0
	if wav {
		return h.p.tone("wav", 4+h.rng.IntN(5), freq), true
	}
	return h.p.tone("mp3", 2, freq), false
}

// tone makes a recording of a sine with ffmpeg: a Mumble WAV (24-bit mono
// 48 kHz) or an MP3. Unlike episodestest's, nothing is kept in memory: a
// soak makes thousands.
func (p *proof) tone(format string, seconds, freq int) []byte {
	codec := []string{"-ar", "48000", "-c:a", "pcm_s24le"}
	if format == "mp3" {
		codec = []string{"-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k"}
	}
	path := filepath.Join(p.t.TempDir(), "tone."+format)
	args := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:duration=%d", freq, seconds), "-ac", "1"}, codec...)
	out, err := exec.Command(episodestest.FFmpeg(p.t), append(args, path)...).CombinedOutput()
	if err != nil {
		p.t.Errorf("ffmpeg: %v\n%s", err, out)
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		p.t.Error(err)
	}
	os.Remove(path)
	return data
}

// outcome classifies a response: applied (2xx, 3xx), refused (4xx: known
// not applied) or unknown (5xx, no answer).
type outcome int

const (
	applied outcome = iota
	refused
	unknown
)

func (h *host) do(what string, req *http.Request) (outcome, []byte) {
	req.Header.Set("Authorization", "Bearer "+h.p.site.token)
	resp, err := h.client.Do(req)
	if err != nil {
		h.results[what+" unknown"]++
		return unknown, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode < 400:
		h.results[what+" applied"]++
		return applied, body
	case resp.StatusCode < 500:
		h.results[what+" refused"]++
		return refused, body
	}
	h.results[what+" unknown"]++
	return unknown, body
}

func (h *host) api(ctx context.Context, method, path string, body io.Reader) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, method, h.p.base+"/api/v1/shows/lvel/episodes"+path, body)
	return req
}

func (h *host) run(ctx context.Context) {
	h.login(ctx)
	for ctx.Err() == nil {
		live := h.live()
		n := h.rng.IntN(20)
		if len(live) == 0 || n < 4 {
			h.upload(ctx)
			continue
		}
		e := live[h.rng.IntN(len(live))]
		switch {
		case n < 7:
			// Replace a recording still processing when there is one.
			for _, c := range live {
				if time.Since(c.wav) < 10*time.Second {
					e = c
				}
			}
			h.replace(ctx, e)
		case n < 10:
			h.edit(ctx, e, "title", fmt.Sprintf("Émission %d.%d", h.id, h.rng.IntN(1000)))
		case n < 12:
			h.edit(ctx, e, "slug", fmt.Sprintf("sujet-%d", h.rng.IntN(4)))
		case n < 15:
			h.publish(ctx, e, true)
		case n < 18:
			h.publish(ctx, e, false)
		default:
			h.delete(ctx, e)
		}
		time.Sleep(time.Duration(200+h.rng.IntN(800)) * time.Millisecond)
	}
}

// live lists the episodes that may still exist.
func (h *host) live() []*expected {
	var out []*expected
	for _, e := range h.episodes {
		if e.deleted[false] && e.id != "" {
			out = append(out, e)
		}
	}
	return out
}

// login opens a studio session (for replacing recordings), retried while
// the faults refuse it.
func (h *host) login(ctx context.Context) {
	for ctx.Err() == nil {
		form := url.Values{"login": {"alice"}, "password": {proofPassword}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.p.base+"/studio/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusSeeOther {
				return
			}
		}
		time.Sleep(time.Second)
	}
}

func (h *host) upload(ctx context.Context) {
	data, wav := h.recording()
	sum := sha256Hex(data)
	title := fmt.Sprintf("Émission %d.%d", h.id, len(h.episodes))
	q := url.Values{"title": {title}, "name": {"enregistrement.mp3"}}
	if wav {
		q.Set("name", "mumble.wav")
	}
	draft := h.rng.IntN(3) == 0
	if draft {
		q.Set("draft", "true")
	}
	req := h.api(ctx, http.MethodPost, "?"+q.Encode(), bytes.NewReader(data))
	req.Header.Set("Content-Type", map[bool]string{true: "audio/wav", false: "audio/mpeg"}[wav])
	sent := time.Now()
	out, body := h.do("upload", req)
	switch out {
	case refused:
		return
	case unknown:
		h.unknown = append(h.unknown, sum)
		return
	}
	var ep apiEpisode
	if err := json.Unmarshal(body, &ep); err != nil || ep.ID == "" {
		h.p.t.Errorf("upload: answer without an episode: %s", body)
		return
	}
	e := &expected{id: ep.ID, upload: sum, known: true, recordings: one(sum), titles: one(title),
		published: one(!draft), deleted: one(false)}
	if wav {
		e.wav = sent
	}
	h.episodes = append(h.episodes, e)
}

// replace sends a new recording for e through the studio.
func (h *host) replace(ctx context.Context, e *expected) {
	data, wav := h.recording()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	name := "nouveau.mp3"
	if wav {
		name = "nouveau.wav"
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.p.base+"/studio/lvel/"+e.id+"/replace", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	sent := time.Now()
	out, _ := h.do("replace", req)
	sum := sha256Hex(data)
	switch out {
	case applied:
		e.recordings = one(sum)
		if wav {
			e.wav = sent
		}
	case unknown:
		e.recordings = e.recordings.add(sum)
	}
}

func (h *host) edit(ctx context.Context, e *expected, field, value string) {
	b, _ := json.Marshal(map[string]string{field: value})
	req := h.api(ctx, http.MethodPatch, "/"+e.id, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	out, _ := h.do(field, req)
	if field != "title" {
		return // slugs are checked for uniqueness, whoever holds them
	}
	switch out {
	case applied:
		e.titles = one(value)
	case unknown:
		e.titles = e.titles.add(value)
	}
}

func (h *host) publish(ctx context.Context, e *expected, publish bool) {
	what := "publish"
	if !publish {
		what = "unpublish"
		if e.unpublished.IsZero() {
			e.unpublished = time.Now()
		}
	}
	out, _ := h.do(what, h.api(ctx, http.MethodPost, "/"+e.id+"/"+what, nil))
	switch out {
	case applied:
		e.published = one(publish)
	case unknown:
		e.published = e.published.add(publish)
	}
}

func (h *host) delete(ctx context.Context, e *expected) {
	if e.unpublished.IsZero() {
		e.unpublished = time.Now()
	}
	out, _ := h.do("delete", h.api(ctx, http.MethodDelete, "/"+e.id, nil))
	switch out {
	case applied:
		e.deleted = one(true)
	case unknown:
		e.deleted = e.deleted.add(true)
	}
}

// settle waits, faults healed and every replica up, until no job is left
// and the outbox stays empty over more than the federation's poll (the
// replicas announce what they see change within it).
func (p *proof) settle() {
	t := p.t
	deadline := time.Now().Add(8 * time.Minute)
	for quiet := 0; quiet < 3; {
		pending, outbox := 0, len(p.site.keys("federation/outbox/"))
		svc := p.catalog(0)
		eps, _ := svc.Episodes("lvel", episodes.ListOptions{})
		for _, e := range eps {
			if e.Pending != nil && e.Pending.Failure == nil {
				pending++
			}
		}
		if time.Now().After(deadline) {
			t.Logf("after the faults: %d jobs still pending, %d deliveries queued", pending, outbox)
			return
		}
		if pending > 0 || outbox > 0 {
			quiet = 0
			time.Sleep(time.Second)
			continue
		}
		quiet++
		time.Sleep(8 * time.Second)
	}
}

// catalog loads the bucket's catalog with the clock moved on by ahead
// (two hours for the sweep: orphans are then old enough).
func (p *proof) catalog(ahead time.Duration) *episodes.Service {
	p.t.Helper()
	svc := episodes.NewService(p.site.store, episodes.Options{Now: func() time.Time { return time.Now().Add(ahead) }})
	if err := svc.Load(p.t.Context()); err != nil {
		p.t.Fatalf("load the catalog: %v", err)
	}
	return svc
}

// invariant is one row of the table.
type invariant struct {
	name, detail string
	ok           bool
}

func (p *proof) check(seed uint64, took time.Duration) {
	t := p.t
	var rows []invariant
	row := func(name string, problems []string, detail string) {
		if len(problems) > 0 {
			detail = strings.Join(problems, "; ")
		}
		rows = append(rows, invariant{name: name, detail: detail, ok: len(problems) == 0})
	}

	svc := p.catalog(2 * time.Hour)
	eps, err := svc.Episodes("lvel", episodes.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	byID := map[string]*episodes.Episode{}
	for _, e := range eps {
		byID[e.ID] = e
	}
	recordingOf := func(e *episodes.Episode) string {
		if e.Original != nil {
			return e.Original.SHA256
		}
		return e.Media.SHA256
	}

	// Every accepted upload published once, with its latest recording.
	var problems []string
	accepted, kept := 0, 0
	bySum := map[string][]string{}
	for _, e := range eps {
		bySum[recordingOf(e)] = append(bySum[recordingOf(e)], e.ID)
	}
	claimed := map[string]bool{}
	for _, h := range p.hosts {
		for _, want := range h.episodes {
			accepted++
			claimed[want.id] = true
			got, ok := byID[want.id]
			switch {
			case !ok && !want.deleted[true]:
				problems = append(problems, fmt.Sprintf("episode %s lost", want.id))
				continue
			case !ok:
				continue
			case !want.deleted[false]:
				problems = append(problems, fmt.Sprintf("episode %s still there after its deletion", want.id))
				continue
			}
			kept++
			if got.Pending != nil {
				problems = append(problems, fmt.Sprintf("episode %s: processing not finished (%+v)", want.id, got.Pending))
			}
			if !want.recordings[recordingOf(got)] {
				problems = append(problems, fmt.Sprintf("episode %s holds recording %.12s, want one of %v", want.id, recordingOf(got), want.recordings))
			}
			if !want.titles[got.Title] {
				problems = append(problems, fmt.Sprintf("episode %s titled %q, want one of %v", want.id, got.Title, want.titles))
			}
			if published := got.Status(now) == episodes.Published; !want.published[published] {
				problems = append(problems, fmt.Sprintf("episode %s published=%v, want %v", want.id, published, want.published))
			}
		}
		for _, sum := range h.unknown {
			if ids := bySum[sum]; len(ids) > 1 {
				problems = append(problems, fmt.Sprintf("an upload of unknown outcome made %d episodes", len(ids)))
			} else if len(ids) == 1 {
				claimed[ids[0]] = true
			}
		}
	}
	p.mu.Lock()
	for _, sum := range p.cliKnown {
		accepted++
		if ids := bySum[sum]; len(ids) != 1 {
			problems = append(problems, fmt.Sprintf("a publication by the CLI made %d episodes, want 1", len(ids)))
		} else {
			claimed[ids[0]] = true
			kept++
		}
	}
	for _, sum := range p.cliUnknown {
		if ids := bySum[sum]; len(ids) == 1 {
			claimed[ids[0]] = true
		}
	}
	p.mu.Unlock()
	for sum, ids := range bySum {
		if len(ids) > 1 {
			problems = append(problems, fmt.Sprintf("recording %.12s in %d episodes", sum, len(ids)))
		}
	}
	for _, e := range eps {
		if !claimed[e.ID] {
			problems = append(problems, fmt.Sprintf("episode %s (%q) comes from no upload", e.ID, e.Title))
		}
	}
	row("every accepted upload kept once, processed, with its latest recording, title and publication", problems,
		fmt.Sprintf("%d uploads accepted, %d kept, %d deleted", accepted, kept, accepted-kept))

	// The bucket as check sees it, before and after a sweep (which also
	// removes claims left by renames and deletions that failed halfway).
	before, err := svc.Check(t.Context(), episodes.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	swept, err := svc.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	after, err := svc.Check(t.Context(), episodes.CheckOptions{SkipHashes: true})
	if err != nil {
		t.Fatal(err)
	}

	// Slugs unique, and each held by its claim (after the sweep).
	problems = nil
	slugs := map[string]string{}
	for _, e := range eps {
		if other, dup := slugs[e.Slug]; dup {
			problems = append(problems, fmt.Sprintf("slug %s given to %s and %s", e.Slug, other, e.ID))
		}
		slugs[e.Slug] = e.ID
	}
	for _, s := range after.Slugs {
		problems = append(problems, fmt.Sprintf("slug claim after the sweep: %+v", s))
	}
	row("slugs unique, each claimed by its episode", problems, fmt.Sprintf("%d slugs, %d claims to repair before the sweep", len(slugs), len(before.Slugs)))

	// Each job's transcode ran once per lease.
	problems = nil
	p.mu.Lock()
	leases, transcodes, jobs := len(p.transcode), 0, map[string]bool{}
	for k, n := range p.transcode {
		transcodes += n
		jobs[strings.Fields(k)[0]] = true
		if n > 1 {
			problems = append(problems, fmt.Sprintf("%s transcoded %d times", k, n))
		}
	}
	p.mu.Unlock()
	if leases == 0 {
		problems = append(problems, "no transcode logged: the count sees nothing")
	}
	row("each job's transcode ran once per lease", problems, fmt.Sprintf("%d transcodes under %d leases, for %d episodes", transcodes, leases, len(jobs)))

	// Every object a document references exists; no orphan survives the
	// sweep.
	problems = nil
	for _, pr := range before.Problems {
		problems = append(problems, fmt.Sprintf("%+v", pr))
	}
	for _, pr := range after.Problems {
		problems = append(problems, fmt.Sprintf("after the sweep: %+v", pr))
	}
	for _, o := range append(after.Orphans, after.RecentOrphans...) {
		problems = append(problems, fmt.Sprintf("orphan after the sweep: %v", o))
	}
	row("every object referenced exists; no orphan survives the sweep", problems, fmt.Sprintf("%d orphans swept", len(swept)))

	// GoToSocial: one post per published episode, with its latest title;
	// none for the others. GoToSocial processes what it receives in the
	// background: polled for up to two minutes.
	var posted int
	for end := time.Now().Add(2 * time.Minute); ; {
		problems, posted = p.posts(eps, now)
		if len(problems) == 0 || time.Now().After(end) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	row("one post on GoToSocial per published episode, with its latest title; deleted and unpublished ones gone", problems,
		fmt.Sprintf("%d published, %d posts", posted, posted))

	// No Delete sent for an episode while it is published: every Delete
	// follows a host's request to unpublish or delete it.
	problems = nil
	asked := map[string]time.Time{}
	for _, h := range p.hosts {
		for _, e := range h.episodes {
			if !e.unpublished.IsZero() {
				asked[p.base+"/ap/shows/lvel/notes/"+e.id] = e.unpublished
			}
		}
	}
	deletes := 0
	p.mu.Lock()
	for _, d := range p.delivered {
		if d.typ != "Delete" {
			continue
		}
		deletes++
		if at, ok := asked[d.object]; !ok || d.at.Before(at) {
			problems = append(problems, fmt.Sprintf("Delete of %s sent at %s, never asked before", d.object, d.at.Format(time.TimeOnly)))
		}
	}
	total := len(p.delivered)
	p.mu.Unlock()
	row("no Delete sent for an episode unless a host unpublished or deleted it", problems, fmt.Sprintf("%d activities delivered, %d Deletes", total, deletes))

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "seed %d, %v (replay: ANTENNE_FAULTS_SEED=%d)\n", seed, took.Round(time.Second), seed)
	var events []string
	p.mu.Lock()
	for k, n := range p.events {
		events = append(events, fmt.Sprintf("%s: %d", k, n))
	}
	p.mu.Unlock()
	slices.Sort(events)
	fmt.Fprintf(tw, "faults: %s\n", strings.Join(events, ", "))
	results := map[string]int{}
	for _, h := range p.hosts {
		for k, n := range h.results {
			results[k] += n
		}
	}
	var rs []string
	for k, n := range results {
		rs = append(rs, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(rs)
	fmt.Fprintf(tw, "requests: %s\n", strings.Join(rs, ", "))
	fmt.Fprintln(tw, "invariant\tresult\tdetail")
	for _, r := range rows {
		res := "held"
		if !r.ok {
			res = "FAILED"
			t.Errorf("%s: %s", r.name, r.detail)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, res, r.detail)
	}
	tw.Flush()
	t.Logf("\n%s", table.String())
	if os.Getenv("ANTENNE_FAULTS_TABLE") != "" {
		os.WriteFile(os.Getenv("ANTENNE_FAULTS_TABLE"), []byte(table.String()), 0o644)
	}
}

// posts compares alice's home timeline with the episodes: one post per
// published episode, with its title, none for the others.
func (p *proof) posts(eps []*episodes.Episode, now time.Time) (problems []string, posted int) {
	statuses := map[string][]gotosocialtest.Status{}
	for _, st := range p.timeline() {
		statuses[st.URI] = append(statuses[st.URI], st)
	}
	for _, e := range eps {
		note := p.base + "/ap/shows/lvel/notes/" + e.ID
		sts := statuses[note]
		delete(statuses, note)
		if e.Status(now) != episodes.Published {
			if len(sts) > 0 {
				problems = append(problems, fmt.Sprintf("%s (%s) has %d posts", e.ID, e.Status(now), len(sts)))
			}
			continue
		}
		posted++
		switch {
		case len(sts) != 1:
			problems = append(problems, fmt.Sprintf("published %s has %d posts, want 1", e.ID, len(sts)))
		case !strings.Contains(sts[0].Content, htmlEscape(e.Title)):
			problems = append(problems, fmt.Sprintf("the post of %s lacks its title %q: %.200s", e.ID, e.Title, sts[0].Content))
		}
	}
	for uri, sts := range statuses {
		problems = append(problems, fmt.Sprintf("%d posts of a deleted episode: %s", len(sts), uri))
	}
	return problems, posted
}

// timeline reads alice's whole home timeline (40 statuses a page).
func (p *proof) timeline() []gotosocialtest.Status {
	var all []gotosocialtest.Status
	path := "/api/v1/timelines/home?limit=40"
	for range 50 {
		var page []gotosocialtest.Status
		p.alice.Call(http.MethodGet, path, nil, &page)
		all = append(all, page...)
		if len(page) < 40 {
			break
		}
		path = "/api/v1/timelines/home?limit=40&max_id=" + page[len(page)-1].ID
	}
	return all
}

// htmlEscape escapes a title as a post's HTML content shows it.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
