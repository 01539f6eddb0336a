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

// Ingest jobs. An upload that needs transcoding is made safe at receipt
// (Ingest with Upload.Background: original stored, episode written with
// Pending set); the work left is a job that any replica may run:
//
//   - The episode document says there is work: Pending set, no Failure.
//   - The job document shows/<show>/jobs/<id>.json holds the lease: the
//     replica that owns it (a random id per Service) and until when. A
//     replica takes a job by creating that document (If-None-Match: *) or,
//     when its lease expired, by rewriting it (If-Match its ETag); the
//     conditional write decides, so a job never runs twice at once. The
//     owner renews the lease, with the progress, while it works; a killed
//     replica's job is taken over once its lease expires.
//   - When the job ends the episode document is updated (media stored,
//     Pending cleared; or Pending.Failure set), then the job document is
//     deleted. A crash in between leaves a job document that nothing
//     reads; Sweep removes it.

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
	// Owner is the replica running the job; empty when it let go.
	Owner string `json:"owner"`
	// LeaseUntil is when another replica may take the job over.
	LeaseUntil time.Time `json:"lease_until"`
	// Attempts counts the times the job was taken.
	Attempts int `json:"attempts"`
	// Progress is how far the current attempt is, 0 to 1.
	Progress float64   `json:"progress"`
	Updated  time.Time `json:"updated"`
}

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

// Job timing. A lease lasts jobLease; its owner renews it every
// jobRenew, and writes the progress at most every jobProgressEvery.
const (
	defaultJobLease  = 20 * time.Second
	defaultJobScan   = 2 * time.Second
	jobProgressEvery = 2 * time.Second
)

// jobRunner is the state of a Service's job workers.
type jobRunner struct {
	replica string
	wake    chan struct{}

	mu      sync.Mutex
	seen    map[string]Job  // show/id -> the job document last read or written
	running map[string]bool // show/id -> this replica runs it
	queued  int

	done, failed atomic.Uint64
	nanos        atomic.Int64
}

func newJobRunner() *jobRunner {
	var b [8]byte
	rand.Read(b[:])
	return &jobRunner{
		replica: hex.EncodeToString(b[:]),
		wake:    make(chan struct{}, 1),
		seen:    map[string]Job{},
		running: map[string]bool{},
	}
}

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
	if !ok || !j.leased(s.opts.Now()) {
		return JobStatus{State: JobQueued}
	}
	return JobStatus{State: JobRunning, Progress: j.Progress}
}

// leased reports whether a replica holds the job at now.
func (j *Job) leased(now time.Time) bool {
	return j.Owner != "" && now.Before(j.LeaseUntil)
}

// enqueue makes an upload that needs transcoding safe: it stores the
// original (and artwork, transcript) and writes the episode of id ("":
// drawn by CreateEpisode) Pending, then wakes the workers.
func (s *Service) enqueue(ctx context.Context, up Upload, id, path string, orig *audio.ProbeResult) (*Episode, error) {
	e, art, err := newEpisode(up, id, orig)
	if err != nil {
		return nil, err
	}
	e.Original = originalMedia(up.Show, orig, up.Name)
	e.Pending = &Pending{}
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
	next.Pending.Failure = nil
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
			etag, err := bucket.Read(ctx, s.blobs, jobKey(show, e.ID), &job)
			switch {
			case errors.Is(err, ErrNotFound):
				job, etag = Job{Show: show, Episode: e.ID}, ""
			case err != nil:
				report(fmt.Errorf("read the job of episode %s: %w", e.ID, err))
				continue
			}
			s.noteJob(key, job)
			if job.leased(s.opts.Now()) {
				continue
			}
			queued++
			select {
			case free <- struct{}{}:
			default:
				continue // every worker is busy
			}
			// The catalog may lag behind the store: make sure the job
			// was not finished by another replica meanwhile.
			if !s.stillPending(ctx, show, e.ID) {
				<-free
				continue
			}
			job, etag, err = s.claimJob(ctx, job, etag)
			if err != nil {
				<-free
				if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) && ctx.Err() == nil {
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
				if err := s.runJob(ctx, job, etag); err != nil && ctx.Err() == nil {
					report(err)
				}
			})
		}
	}
	s.jobs.mu.Lock()
	s.jobs.queued = queued
	s.jobs.mu.Unlock()
}

// stillPending reports whether the stored episode still waits for its
// job.
func (s *Service) stillPending(ctx context.Context, show, id string) bool {
	var e Episode
	_, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e)
	return err == nil && e.Pending != nil && e.Pending.Failure == nil
}

// errNotPending: the episode of a job was deleted, or finished by another
// replica, before the job started.
var errNotPending = errors.New("the episode waits for no job")

// noteJob remembers the job document last seen, for JobStatus.
func (s *Service) noteJob(key string, job Job) {
	s.jobs.mu.Lock()
	s.jobs.seen[key] = job
	s.jobs.mu.Unlock()
}

// claimJob takes the job for this replica with a conditional write over
// etag ("" : the job document must not exist). It fails with ErrConflict
// when another replica was faster.
func (s *Service) claimJob(ctx context.Context, job Job, etag string) (Job, string, error) {
	now := s.opts.Now().UTC()
	job.Version = bucket.SchemaVersion
	job.Owner = s.jobs.replica
	job.LeaseUntil = now.Add(s.opts.JobLease)
	job.Attempts++
	job.Progress = 0
	job.Updated = now
	etag, err := bucket.Write(ctx, s.blobs, jobKey(job.Show, job.Episode), &job, etag)
	if err != nil {
		return job, "", err
	}
	s.noteJob(job.Show+"/"+job.Episode, job)
	return job, etag, nil
}

// jobLost is the cause of a job's context when its lease was lost.
var jobLost = errors.New("the job's lease was lost")

// runJob runs a job this replica holds: it keeps the lease (with the
// progress) while the work goes on, then records the result.
func (s *Service) runJob(ctx context.Context, job Job, etag string) error {
	key := job.Show + "/" + job.Episode
	start := time.Now()
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var progress atomic.Uint64 // float64 bits
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		job, etag = s.keepLease(work, cancel, job, etag, &progress)
	}()
	err := s.processJob(work, job.Show, job.Episode, func(done float64) {
		progress.Store(math.Float64bits(done))
	})
	cancel(nil)
	<-keeperDone
	if errors.Is(context.Cause(work), jobLost) {
		return fmt.Errorf("job of episode %s: %w", job.Episode, jobLost)
	}
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil && err != nil && !errors.Is(err, errNotPending) {
		// Cut short by a shutdown: let go, so that another replica takes
		// the job at once.
		job.Owner, job.LeaseUntil, job.Updated = "", time.Time{}, s.opts.Now().UTC()
		if _, werr := bucket.Write(bg, s.blobs, jobKey(job.Show, job.Episode), &job, etag); werr != nil {
			return fmt.Errorf("let go of the job of episode %s: %w", job.Episode, werr)
		}
		return nil
	}
	switch {
	case errors.Is(err, errNotPending):
		err = nil // nothing was done: neither done nor failed
	case err != nil:
		s.jobs.nanos.Add(int64(time.Since(start)))
		s.jobs.failed.Add(1)
		if ferr := s.failJob(bg, job.Show, job.Episode, err); ferr != nil && !errors.Is(ferr, ErrNotFound) {
			return errors.Join(err, ferr)
		}
	default:
		s.jobs.nanos.Add(int64(time.Since(start)))
		s.jobs.done.Add(1)
	}
	derr := s.blobs.Delete(bg, jobKey(job.Show, job.Episode))
	s.jobs.mu.Lock()
	delete(s.jobs.seen, key)
	s.jobs.mu.Unlock()
	if err != nil {
		return fmt.Errorf("job of episode %s failed: %w", job.Episode, err)
	}
	if derr != nil {
		return fmt.Errorf("job of episode %s: remove its job document: %w", job.Episode, derr)
	}
	return nil
}

// keepLease renews the job's lease, writing the progress, until ctx ends;
// it cancels ctx with jobLost when another replica took the job or the
// lease is about to expire without a renewal. It returns the job and ETag last
// written.
func (s *Service) keepLease(ctx context.Context, cancel context.CancelCauseFunc, job Job, etag string, progress *atomic.Uint64) (Job, string) {
	renewEvery := s.opts.JobLease / 4
	tick := time.NewTicker(min(jobProgressEvery, renewEvery))
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-ctx.Done():
			return job, etag
		case <-tick.C:
		}
		p := math.Float64frombits(progress.Load())
		if time.Since(lastWrite) < renewEvery && p-job.Progress < 0.01 {
			continue
		}
		next := job
		now := s.opts.Now().UTC()
		next.Progress, next.LeaseUntil, next.Updated = p, now.Add(s.opts.JobLease), now
		newTag, err := bucket.Write(ctx, s.blobs, jobKey(job.Show, job.Episode), &next, etag)
		switch {
		case err == nil:
			job, etag, lastWrite = next, newTag, time.Now()
			s.noteJob(job.Show+"/"+job.Episode, job)
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			cancel(jobLost)
			return job, etag
		case !s.opts.Now().Before(job.LeaseUntil.Add(-renewEvery)):
			// The store has been away for most of the lease: stop
			// before it expires and another replica takes the job.
			cancel(jobLost)
			return job, etag
		}
	}
}

// jobError tags an error of a job with the Failure key the host is told.
type jobError struct {
	key string
	err error
}

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

// failureOf is the Failure a job's error gives.
func failureOf(err error, now time.Time) *Failure {
	f := &Failure{Key: FailureStore, Message: err.Error(), At: now}
	var je *jobError
	switch {
	case errors.Is(err, ffmpeg.ErrMissing):
		f.Key = FailureFFmpegMissing
	case errors.As(err, &je):
		f.Key = je.key
	}
	return f
}

// failJob records the failure of the episode's job.
func (s *Service) failJob(ctx context.Context, show, id string, cause error) error {
	return s.finishEpisode(ctx, show, id, func(e *Episode) error {
		e.Pending.Failure = failureOf(cause, s.opts.Now().UTC())
		return nil
	})
}

// finishEpisode applies done to the stored episode, if it is still
// Pending without failure, and writes it; a concurrent edit by a host is
// read again and done applied again. It returns ErrNotFound when the
// episode is gone or no longer waits for its job.
func (s *Service) finishEpisode(ctx context.Context, show, id string, done func(*Episode) error) error {
	for range 5 {
		var cur Episode
		etag, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &cur)
		if err != nil {
			return err
		}
		if cur.Pending == nil || cur.Pending.Failure != nil {
			return fmt.Errorf("episode %s waits for no job: %w", id, ErrNotFound)
		}
		if err := done(&cur); err != nil {
			return err
		}
		cur.Updated = s.opts.Now().UTC()
		_, err = s.storeEpisode(ctx, &cur, etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("episode %s: %w", id, ErrConflict)
}

// processJob makes the episode's original podcast-ready: it reads it from
// the store, transcodes it, stores the media and updates the episode,
// which then takes the publication asked at upload. progress is told the
// fraction done.
func (s *Service) processJob(ctx context.Context, show, id string, progress func(float64)) error {
	var e Episode
	if _, err := bucket.Read(ctx, s.blobs, episodeKey(show, id), &e); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotPending
		}
		return &jobError{FailureStore, err}
	}
	if e.Pending == nil || e.Pending.Failure != nil || e.Original == nil {
		return errNotPending
	}
	work, err := os.MkdirTemp(s.opts.TempDir, "antenne-job-")
	if err != nil {
		return fmt.Errorf("job of episode %s: %w", id, err)
	}
	defer os.RemoveAll(work)
	path := filepath.Join(work, "original"+filepath.Ext(e.Original.Key))
	if err := s.fetchObject(ctx, e.Original.Key, path); err != nil {
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
	}}
	rec, err := s.prepare(ctx, path, work, up)
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
	err = s.finishEpisode(ctx, show, id, func(cur *Episode) error {
		cur.Media = media
		if cur.Original != nil {
			cur.Original.Loudness = loudnessOf(rec.prep.LoudnessBefore)
		}
		cur.Pending = nil
		if now := s.opts.Now().UTC().Truncate(time.Second); !cur.PublishAt.IsZero() && cur.PublishAt.Before(now) {
			cur.PublishAt = now
		}
		return nil
	})
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), []string{media.Key})
		if errors.Is(err, ErrNotFound) {
			return nil // deleted or changed meanwhile
		}
		return &jobError{FailureStore, err}
	}
	progress(1)
	return nil
}

// fetchObject copies the object at key to the file path.
func (s *Service) fetchObject(ctx context.Context, key, path string) error {
	rc, _, err := s.blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if _, err := io.Copy(f, audio.ReaderWithContext(ctx, rc)); err != nil {
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
