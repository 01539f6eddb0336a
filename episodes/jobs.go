package episodes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
	"github.com/picasoft/antenne/storage/bucket"
)

// Ingest jobs. An upload (or a replacement recording) that needs
// transcoding is made safe at receipt (Upload.Background: original stored,
// episode written with Pending set); the work left is a job that any
// replica may run:
//
//   - The episode document says there is work: Pending set, no Failure.
//     Pending.Job names that work: a new recording gets a new one, so a
//     job started for an older recording is superseded.
//   - The job document shows/<show>/jobs/<id>.json holds the lease
//     (bucket.Leases: at least twice the store timeout, its expiry taken
//     at the write), the Pending.Job it serves and the progress. A replica
//     takes a job by creating that document or, when its lease expired or
//     it serves a superseded Pending.Job, by rewriting it; the conditional
//     write decides, so a job never runs twice at once. The owner renews
//     the lease with the progress while it works, and stops as soon as a
//     renewal fails or its deadline passes.
//   - The result is fenced: the episode is updated only if it still waits
//     for the same Pending.Job, and only right after a renewal of the lease
//     succeeded, within one store timeout (the lease lasts twice that). A
//     job that lost its lease or was superseded stores nothing, and the
//     media it stored is deleted only if no document, read afresh,
//     references it.
//   - When the job ends the job document is deleted. A crash in between
//     leaves a job document that nothing reads; Sweep removes it.

// jobsDir is the folder of a show's job documents.
const jobsDir = "jobs/"

func jobKey(show, id string) string {
	return showsPrefix + show + "/" + jobsDir + id + docExtension
}

// Job is the lease and progress of an ingest job, stored as
// shows/<show>/jobs/<episode-id>.json.
type Job struct {
	Version int    `json:"version"`
	Show    string `json:"show"`
	Episode string `json:"episode"`
	// Job is the Pending.Job this lease serves; another value in the
	// episode means the job was superseded by a newer recording.
	Job string `json:"job,omitempty"`
	bucket.Lease
	// Progress is how far the current attempt is, 0 to 1.
	Progress float64   `json:"progress"`
	Updated  time.Time `json:"updated"`
}

// LeaseOf makes a Job a bucket.Leased document.
func (j *Job) LeaseOf() *bucket.Lease { return &j.Lease }

// JobState is where the processing of an episode's recording stands.
type JobState string

// Job states.
const (
	JobQueued  JobState = "queued"  // waiting for a worker
	JobRunning JobState = "running" // a replica works on it
	JobFailed  JobState = "failed"  // see Failure; a retry queues it again
	JobDone    JobState = "done"    // the episode is ready
)

// JobStatus is what a host is shown of the processing of an episode.
type JobStatus struct {
	State    JobState
	Progress float64 // 0 to 1 while running; 1 when done
	Failure  *Failure
}

// JobStats are counters of the jobs of this replica, for metrics.
type JobStats struct {
	Queued  int     // pending episodes of the catalog that no replica runs
	Running int     // jobs this replica runs now
	Done    uint64  // jobs finished by this replica
	Failed  uint64  // jobs failed on this replica
	Seconds float64 // time spent in jobs that ended, done or failed
}

// Job timing. A lease lasts Options.JobLease (twice the store timeout by
// default); its owner renews it every quarter of that, and writes the
// progress at most every jobProgressEvery.
const (
	defaultJobScan   = 2 * time.Second
	jobProgressEvery = 2 * time.Second
)

// jobRunner is the state of a Service's job workers.
type jobRunner struct {
	replica string
	leases  *bucket.Leases
	wake    chan struct{}

	mu      sync.Mutex
	seen    map[string]Job  // show/id -> the job document last read or written
	running map[string]bool // show/id -> this replica runs it
	queued  int

	done, failed atomic.Uint64
	nanos        atomic.Int64
}

// newJobRunner returns the job workers' state of a replica whose leases
// last lease, each write bounded by opTimeout; it panics when the lease is
// shorter than bucket.MinLease(opTimeout), a programmer's error.
func newJobRunner(lease, opTimeout time.Duration, now func() time.Time) *jobRunner {
	replica := randomHex(8)
	leases, err := bucket.NewLeases(bucket.LeaseConfig{Owner: replica, Duration: lease, OpTimeout: opTimeout, Now: now})
	if err != nil {
		panic(err)
	}
	return &jobRunner{
		replica: replica,
		leases:  leases,
		wake:    make(chan struct{}, 1),
		seen:    map[string]Job{},
		running: map[string]bool{},
	}
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newJobID names a new piece of work for Pending.Job.
func newJobID() string { return randomHex(8) }

// Replica is the random id this Service writes as the owner of the jobs it
// runs.
func (s *Service) Replica() string { return s.jobs.replica }

// wakeJobs tells RunJobs to look for work now.
func (s *Service) wakeJobs() {
	select {
	case s.jobs.wake <- struct{}{}:
	default:
	}
}

// JobStats reports this replica's job counters.
func (s *Service) JobStats() JobStats {
	j := s.jobs
	j.mu.Lock()
	st := JobStats{Queued: j.queued, Running: len(j.running)}
	j.mu.Unlock()
	st.Done, st.Failed = j.done.Load(), j.failed.Load()
	st.Seconds = time.Duration(j.nanos.Load()).Seconds()
	return st
}

// JobStatus tells where the processing of the episode stands, as this
// replica last saw it (its own work at once, other replicas' within a
// scan interval).
func (s *Service) JobStatus(e *Episode) JobStatus {
	switch {
	case e.Pending == nil:
		return JobStatus{State: JobDone, Progress: 1}
	case e.Pending.Failure != nil:
		f := *e.Pending.Failure
		return JobStatus{State: JobFailed, Failure: &f}
	}
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	j, ok := s.jobs.seen[e.Show+"/"+e.ID]
	if !ok || j.Job != e.Pending.Job || !j.HeldAt(s.opts.Now()) {
		return JobStatus{State: JobQueued}
	}
	return JobStatus{State: JobRunning, Progress: j.Progress}
}

// enqueue makes an upload that needs transcoding safe: it stores the
// original (and artwork, transcript) and writes the episode of id ("":
// drawn by CreateEpisode) Pending, then wakes the workers.
func (s *Service) enqueue(ctx context.Context, up Upload, id, path string, orig *audio.ProbeResult) (*Episode, error) {
	e, art, err := s.newEpisode(up, id, orig)
	if err != nil {
		return nil, err
	}
	e.Original = originalMedia(up.Show, orig, up.Name)
	e.Pending = &Pending{Job: newJobID()}
	var sent int64
	report := func(n int64) {
		sent += n
		if up.Progress != nil {
			up.Progress(StageStore, float64(sent)/float64(max(orig.Size, 1)))
		}
	}
	if err := s.putFile(ctx, e.Original.Key, path, e.Original.Type, report); err != nil {
		return nil, err
	}
	keys := []string{e.Original.Key}
	img, err := s.storeArtwork(ctx, e.Show, art)
	if err != nil {
		s.deleteUnreferenced(ctx, keys)
		return nil, err
	}
	if img != nil {
		keys = append(keys, img.Key)
		e.Artwork = img
	}
	created, err := s.createUploaded(ctx, up, e, keys)
	if err != nil {
		return nil, err
	}
	s.wakeJobs()
	return created, nil
}

// RetryJob queues again the failed job of an episode. It fails with
// ErrNotFound when the episode does not exist and with a *FieldError when
// its processing did not fail.
func (s *Service) RetryJob(ctx context.Context, show, id string) (*Episode, error) {
	cur, etag, ok := s.cat.episode(show, id)
	if !ok {
		return nil, fmt.Errorf("episode %s of show %q: %w", id, show, ErrNotFound)
	}
	if cur.Pending == nil || cur.Pending.Failure == nil {
		return nil, invalid("status", "status.not_failed", "only an episode whose processing failed can be retried")
	}
	next := cur.clone()
	next.Pending = &Pending{Job: newJobID()}
	next.Updated = s.opts.Now().UTC()
	e, err := s.storeEpisode(ctx, next, etag)
	if err != nil {
		return nil, err
	}
	s.wakeJobs()
	return e, nil
}

// RunJobs runs the ingest jobs of every show with at most workers at
// once (DefaultIngestWorkers when workers <= 0), until ctx ends: it looks
// for runnable jobs every JobScanInterval and at once when this Service
// queued one or a job ended.
// Jobs cut short by ctx are let go, so that another replica takes them
// without waiting for the lease to expire. Errors go to report (which may
// be nil).
func (s *Service) RunJobs(ctx context.Context, workers int, report func(error)) {
	if report == nil {
		report = func(error) {}
	}
	if workers <= 0 {
		workers = DefaultIngestWorkers()
	}
	free := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.opts.JobScanInterval)
	defer tick.Stop()
	for {
		s.scanJobs(ctx, free, &wg, report)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.jobs.wake:
		}
	}
}

// scanJobs looks at every pending episode of the catalog: it notes the
// progress of the jobs other replicas run and takes the others while a
// worker is free.
func (s *Service) scanJobs(ctx context.Context, free chan struct{}, wg *sync.WaitGroup, report func(error)) {
	queued := 0
	for _, show := range s.cat.showSlugs() {
		eps, _ := s.cat.episodesOf(show)
		for _, e := range eps {
			if ctx.Err() != nil {
				return
			}
			if e.Pending == nil || e.Pending.Failure != nil {
				continue
			}
			key := show + "/" + e.ID
			s.jobs.mu.Lock()
			mine := s.jobs.running[key]
			s.jobs.mu.Unlock()
			if mine {
				continue
			}
			var job Job
			rev, err := bucket.Read(ctx, s.blobs, jobKey(show, e.ID), &job)
			switch {
			case errors.Is(err, ErrNotFound):
				job, rev = Job{Show: show, Episode: e.ID}, ""
			case err != nil:
				report(fmt.Errorf("read the job of episode %s: %w", e.ID, err))
				continue
			}
			s.noteJob(key, job)
			if job.Job == e.Pending.Job && job.HeldAt(s.opts.Now()) {
				continue
			}
			queued++
			select {
			case free <- struct{}{}:
			default:
				continue // every worker is busy
			}
			// The catalog may lag behind the store: take the work the
			// stored episode waits for, if it still waits.
			work, ok := s.pendingJob(ctx, show, e.ID)
			if !ok {
				<-free
				continue
			}
			held, err := s.takeJob(ctx, &job, rev, work)
			if err != nil {
				<-free
				if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) && !errors.Is(err, bucket.ErrLeaseHeld) && ctx.Err() == nil {
					report(fmt.Errorf("take the job of episode %s: %w", e.ID, err))
				}
				continue
			}
			queued--
			s.jobs.mu.Lock()
			s.jobs.running[key] = true
			s.jobs.mu.Unlock()
			wg.Go(func() {
				defer func() {
					s.jobs.mu.Lock()
					delete(s.jobs.running, key)
					s.jobs.mu.Unlock()
					<-free
					s.wakeJobs()
				}()
				if err := s.runJob(ctx, job, held); err != nil && ctx.Err() == nil {
					report(err)
				}
			})
		}
	}
	s.jobs.mu.Lock()
	s.jobs.queued = queued
	s.jobs.mu.Unlock()
}

// pendingJob reads the stored episode and returns the Pending.Job it
// waits for, if it waits for one.
func (s *Service) pendingJob(ctx context.Context, show, id string) (string, bool) {
	var e Episode
	_, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e)
	if err != nil || e.Pending == nil || e.Pending.Failure != nil {
		return "", false
	}
	return e.Pending.Job, true
}

// errNotPending: the episode of a job was deleted, finished by another
// replica, or given a newer recording (the job was superseded).
var errNotPending = errors.New("the episode waits for no job, or for another one")

// noteJob remembers the job document last seen, for JobStatus.
func (s *Service) noteJob(key string, job Job) {
	s.jobs.mu.Lock()
	s.jobs.seen[key] = job
	s.jobs.mu.Unlock()
}

// takeJob takes the lease of job (stored with revision rev; "" when
// there is no job document) for the work of Pending.Job work. A lease
// that serves an older Pending.Job is free: its holder was superseded. It
// fails with ErrConflict when another replica was faster and with
// bucket.ErrLeaseHeld when the lease is held for this work.
func (s *Service) takeJob(ctx context.Context, job *Job, rev, work string) (bucket.Held, error) {
	if job.Job != work {
		job.Owner, job.Until = "", time.Time{}
	}
	job.Version = bucket.SchemaVersion
	job.Job = work
	job.Progress = 0
	job.Updated = s.opts.Now().UTC()
	held, err := s.jobs.leases.Take(ctx, s.blobs, jobKey(job.Show, job.Episode), job, rev)
	if err != nil {
		return held, err
	}
	s.noteJob(job.Show+"/"+job.Episode, *job)
	return held, nil
}

// JobRef names the job a context works for: its episode and the lease it
// runs under (work/owner/takes: the Pending.Job and the lease's token,
// unique to one holding).
type JobRef struct {
	Show, Episode, Lease string
}

type jobKeyType struct{}

// JobOf reports the job ctx works for, if any: a Transcoder is called
// with it, so that what wraps it can say which job and lease a
// transcode served.
func JobOf(ctx context.Context) (JobRef, bool) {
	ref, ok := ctx.Value(jobKeyType{}).(JobRef)
	return ref, ok
}

// jobLost is the cause of a job's context when its lease was lost.
var jobLost = errors.New("the job's lease was lost")

// leaseKeeper renews a job's lease, with its progress, while the job
// runs, and fences what the job writes: fenced runs a write right after a
// renewal, so that it happens while the lease is surely held. It is safe
// for concurrent use.
type leaseKeeper struct {
	s *Service
	// show, episode and work (the Pending.Job) name the job; they never
	// change.
	show, episode, work string
	progress            atomic.Uint64 // float64 bits

	mu   sync.Mutex
	job  Job // the job document as last written
	held bucket.Held
}

// renew writes the lease again with the progress; on failure the lease
// must be taken as lost.
func (k *leaseKeeper) renewLocked(ctx context.Context) error {
	next := k.job
	next.Progress = math.Float64frombits(k.progress.Load())
	next.Updated = k.s.opts.Now().UTC()
	held := k.held
	if err := k.s.jobs.leases.Renew(ctx, k.s.blobs, &held, &next); err != nil {
		return err
	}
	k.job, k.held = next, held
	k.s.noteJob(next.Show+"/"+next.Episode, next)
	return nil
}

// keep renews the lease until ctx ends; it cancels ctx with jobLost when
// another replica took the job or the lease reached its deadline without
// a renewal.
func (k *leaseKeeper) keep(ctx context.Context, cancel context.CancelCauseFunc) {
	renewEvery := k.s.jobs.leases.Duration() / 4
	tick := time.NewTicker(min(jobProgressEvery, renewEvery))
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.mu.Lock()
		p := math.Float64frombits(k.progress.Load())
		if time.Since(lastWrite) < renewEvery && p-k.job.Progress < 0.01 {
			k.mu.Unlock()
			continue
		}
		err := k.renewLocked(ctx)
		lost := k.held.Lost(time.Now())
		k.mu.Unlock()
		switch {
		case err == nil:
			lastWrite = time.Now()
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound), lost:
			// Taken over, or the store has been away for most of the
			// lease: stop before another replica may take the job.
			cancel(jobLost)
			return
		}
	}
}

// fenced runs write right after renewing the lease, with the rest of the
// lease's safe time (at least one store timeout) as its deadline. It fails
// with jobLost when the lease cannot be renewed.
func (k *leaseKeeper) fenced(ctx context.Context, write func(ctx context.Context) error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.renewLocked(ctx); err != nil {
		return fmt.Errorf("%w: %w", jobLost, err)
	}
	ctx, cancel := context.WithDeadline(ctx, k.held.Deadline)
	defer cancel()
	return write(ctx)
}

// runJob runs a job this replica holds: it keeps the lease (with the
// progress) while the work goes on, then records the result, fenced.
func (s *Service) runJob(ctx context.Context, job Job, held bucket.Held) error {
	key := job.Show + "/" + job.Episode
	start := time.Now()
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	k := &leaseKeeper{s: s, show: job.Show, episode: job.Episode, work: job.Job, job: job, held: held}
	work = context.WithValue(work, jobKeyType{}, JobRef{Show: job.Show, Episode: job.Episode, Lease: job.Job + "/" + job.Token()})
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		k.keep(work, cancel)
	}()
	err := s.processJob(work, k, func(done float64) {
		k.progress.Store(math.Float64bits(done))
	})
	retry := err != nil && storeAway(err) && job.Takes < maxStoreRetries
	if err != nil && err != errNotPending && !errors.Is(err, jobLost) && work.Err() == nil && !retry {
		s.jobs.failed.Add(1)
		s.jobs.nanos.Add(int64(time.Since(start)))
		if ferr := s.failJob(work, k, err); ferr != nil && !errors.Is(ferr, errNotPending) {
			err = errors.Join(err, ferr)
		}
	} else if err == nil {
		s.jobs.done.Add(1)
		s.jobs.nanos.Add(int64(time.Since(start)))
	}
	cancel(nil)
	<-keeperDone
	bg := context.WithoutCancel(ctx)
	if errors.Is(context.Cause(work), jobLost) || errors.Is(err, jobLost) {
		return fmt.Errorf("job of episode %s: %w", job.Episode, jobLost)
	}
	k.mu.Lock()
	job, held = k.job, k.held
	k.mu.Unlock()
	if (ctx.Err() != nil || retry) && err != nil && !errors.Is(err, errNotPending) {
		// Cut short by a shutdown, or by a store that was away: let go,
		// so that another replica (or this one, at its next scan) takes
		// the job again at once.
		if rerr := s.jobs.leases.Release(bg, s.blobs, &held, &job); rerr != nil && !errors.Is(rerr, ErrConflict) {
			return fmt.Errorf("let go of the job of episode %s: %w", job.Episode, rerr)
		}
		return nil
	}
	// The work is over (done, failed, or superseded): the job document
	// goes, unless another replica took it meanwhile.
	var derr error
	if cur, rev, rerr := s.readJob(bg, job.Show, job.Episode); rerr == nil && rev == held.Rev && cur.Owner == job.Owner {
		derr = s.blobs.Delete(bg, jobKey(job.Show, job.Episode))
	}
	s.jobs.mu.Lock()
	delete(s.jobs.seen, key)
	s.jobs.mu.Unlock()
	switch {
	case errors.Is(err, errNotPending):
		return nil // nothing to record: neither done nor failed
	case err != nil:
		return fmt.Errorf("job of episode %s failed: %w", job.Episode, err)
	case derr != nil:
		return fmt.Errorf("job of episode %s: remove its job document: %w", job.Episode, derr)
	}
	return nil
}

// readJob reads a job document and its revision.
func (s *Service) readJob(ctx context.Context, show, id string) (Job, string, error) {
	var j Job
	rev, err := bucket.Read(ctx, s.blobs, jobKey(show, id), &j)
	return j, rev, err
}

// maxStoreRetries bounds the times a job is taken again after the store
// was away during it; then the failure is recorded (a host may retry).
const maxStoreRetries = 5

// storeAway reports whether err says the store could not be reached or
// did not answer in time (storage.ErrUnavailable, told by its method).
func storeAway(err error) bool {
	var u interface{ StoreUnavailable() bool }
	return errors.As(err, &u) && u.StoreUnavailable() || errors.Is(err, context.DeadlineExceeded)
}

// jobError tags an error of a job with the Failure key the host is told.
type jobError struct {
	key string
	err error
}

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

// failureOf is the Failure a job's error gives: a key, and the reason of
// a recording refused by a rule; nothing of err's own text.
func failureOf(err error, now time.Time) *Failure {
	f := &Failure{Key: FailureStore, At: now}
	var (
		je *jobError
		fe *FieldError
		ua *audio.UnsupportedAudioError
	)
	switch {
	case errors.Is(err, ffmpeg.ErrMissing):
		f.Key = FailureFFmpegMissing
	case errors.As(err, &je):
		f.Key = je.key
	}
	if f.Key == FailureAudio {
		switch {
		case errors.As(err, &fe):
			f.Reason = fe.Reason
		case errors.As(err, &ua):
			f.Reason = ua.Error() // what the file looks like, no path
		case errors.Is(err, ffmpeg.ErrSilent):
			f.Reason = ffmpeg.ErrSilent.Error()
		}
	}
	return f
}

// failJob records the failure of the job k holds, fenced like a success.
func (s *Service) failJob(ctx context.Context, k *leaseKeeper, cause error) error {
	return s.finishEpisode(ctx, k, func(e *Episode) error {
		e.Pending.Failure = failureOf(cause, s.opts.Now().UTC())
		return nil
	})
}

// finishEpisode applies done to the stored episode of the job k holds,
// if it still waits for that job's work, and writes it, fenced by the
// job's lease; a concurrent edit by a host is read again and done applied
// again. It fails with errNotPending when the episode is gone, finished
// or waits for newer work, and with jobLost when the lease was lost.
func (s *Service) finishEpisode(ctx context.Context, k *leaseKeeper, done func(*Episode) error) error {
	show, id, work := k.show, k.episode, k.work
	for range 5 {
		var cur Episode
		etag, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &cur)
		if errors.Is(err, ErrNotFound) {
			return errNotPending
		}
		if err != nil {
			return err
		}
		if cur.Pending == nil || cur.Pending.Failure != nil || cur.Pending.Job != work {
			return errNotPending
		}
		if err := done(&cur); err != nil {
			return err
		}
		cur.Updated = s.opts.Now().UTC()
		err = k.fenced(ctx, func(ctx context.Context) error {
			_, err := s.storeEpisode(ctx, &cur, etag)
			return err
		})
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("episode %s: %w", id, ErrConflict)
}

// processJob makes the original of the job k holds podcast-ready: it
// reads it from the store, transcodes it, stores the media and updates
// the episode (fenced), which then takes the publication asked at upload.
// The media of a recording it replaces is removed once unreferenced.
// progress is told the fraction done.
func (s *Service) processJob(ctx context.Context, k *leaseKeeper, progress func(float64)) error {
	show, id, work := k.show, k.episode, k.work
	var e Episode
	if _, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotPending
		}
		return &jobError{FailureStore, err}
	}
	if e.Pending == nil || e.Pending.Failure != nil || e.Pending.Job != work || e.Original == nil {
		return errNotPending
	}
	dir, err := os.MkdirTemp(s.opts.TempDir, "antenne-job-")
	if err != nil {
		return fmt.Errorf("job of episode %s: %w", id, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "original"+filepath.Ext(e.Original.Key))
	wav := audio.NewWAVMeter() // measured as it is read from the store
	if err := s.fetchObject(ctx, e.Original.Key, path, wav); err != nil {
		return &jobError{FailureStore, err}
	}
	// Transcoding is most of the work; storing the MP3 the rest.
	const transcodeShare = 0.95
	up := Upload{Show: show, Name: e.Original.SourceName, Progress: func(stage string, done float64) {
		if stage == StageTranscode {
			progress(done * transcodeShare)
		} else {
			progress(transcodeShare + done*(1-transcodeShare))
		}
	}, measured: wav.Meter()}
	rec, err := s.prepare(ctx, path, dir, up)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &jobError{FailureAudio, err}
	}
	media := podcastMedia(&e, rec.prep, e.Original.SourceName)
	var sent int64
	report := func(n int64) {
		sent += n
		up.Progress(StageStore, float64(sent)/float64(max(media.Size, 1)))
	}
	if err := s.putFile(ctx, media.Key, rec.prep.Path, media.Type, report); err != nil {
		return &jobError{FailureStore, err}
	}
	var staleOpus *Media
	var replaced string
	err = s.finishEpisode(ctx, k, func(cur *Episode) error {
		now := s.opts.Now().UTC().Truncate(time.Second)
		// A new upload asked to be published at a time that passed
		// during processing is published now; a replacement keeps the
		// publication of the episode it replaces the recording of.
		if cur.Media.Key == "" && !cur.PublishAt.IsZero() && cur.PublishAt.Before(now) {
			cur.PublishAt = now
		}
		if cur.Media.Key != media.Key {
			replaced = cur.Media.Key
		}
		cur.Media = media
		staleOpus, cur.Opus = cur.Opus, nil // made from another recording
		if cur.Original != nil {
			cur.Original.Loudness = loudnessOf(rec.prep.LoudnessBefore)
		}
		cur.Pending = nil
		return nil
	})
	bg := context.WithoutCancel(ctx)
	if err != nil {
		// Lost, superseded or failed: the media goes unless a document,
		// read afresh, references it (the same bytes may be another
		// job's published media).
		s.deleteUnreferenced(bg, []string{media.Key})
		if errors.Is(err, errNotPending) || errors.Is(err, jobLost) {
			return err
		}
		return &jobError{FailureStore, err}
	}
	if staleOpus != nil {
		s.deleteUnreferenced(bg, []string{staleOpus.Key})
	}
	if replaced != "" {
		s.deleteUnreferenced(bg, []string{replaced})
	}
	progress(1)
	// Published: now the Opus version, which is optional (a failure
	// leaves the episode without it, as when the show turned it off).
	s.addOpus(ctx, show, id, path, rec.prep.Original)
	return nil
}

// fetchObject copies the object at key to the file path, writing it to
// also on the way.
func (s *Service) fetchObject(ctx context.Context, key, path string, also io.Writer) error {
	rc, _, err := s.blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if _, err := io.Copy(io.MultiWriter(f, also), audio.ReaderWithContext(ctx, rc)); err != nil {
		f.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return nil
}

// DefaultIngestWorkers is the default bound of jobs run at once by a
// replica: half the CPUs, at least 1.
func DefaultIngestWorkers() int { return max(runtime.NumCPU()/2, 1) }
