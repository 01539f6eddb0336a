package episodes

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/picasoft/antenne/episodes/audio"
	"github.com/picasoft/antenne/episodes/audio/ffmpeg"
)

// OpusEncoder makes the small Opus version of a recording (Episode.Opus),
// as loud as its MP3: gainDB is the gain the MP3 got. The Transcoder makes
// it when it can (ffmpeg.Runner does).
type OpusEncoder interface {
	EncodeOpus(ctx context.Context, src string, p *audio.ProbeResult, dst string, gainDB float64) error
}

// addOpus gives a transcoded episode, once published, its Opus version
// made from the original at src (probed as orig), unless the show turned
// it off or the Transcoder cannot make one. It runs after the episode is
// published, so that it never delays the publication; the episode is
// updated only if it still has the media it was made for. It returns
// nil when there is nothing to do.
func (s *Service) addOpus(ctx context.Context, show, id, src string, orig *audio.ProbeResult) error {
	enc, ok := s.opts.Transcoder.(OpusEncoder)
	if !ok {
		return nil
	}
	sh, err := s.Show(show)
	if err != nil || sh.OpusOff {
		return err
	}
	e, err := s.Episode(show, id)
	if err != nil {
		return err
	}
	if e.Original == nil || e.Original.Loudness == nil || e.Opus != nil || e.Media.Key == "" {
		return nil
	}
	dst := filepath.Join(filepath.Dir(src), "opus.ogg")
	if err := enc.EncodeOpus(ctx, src, orig, dst, ffmpeg.TargetLoudness-e.Original.Loudness.Integrated); err != nil {
		return err
	}
	p, err := audio.Probe(ctx, dst)
	if err != nil {
		return fmt.Errorf("probe the Opus version of %s: %w", id, err)
	}
	m := mediaOf(p)
	// The encoder's rate: what the file averages over any real length (a
	// few seconds are mostly Ogg headers).
	m.Bitrate = ffmpeg.OpusBitrate
	m.Key = showObjectsPrefix(show) + "media/" + e.Slug + "-" + m.SHA256[:12] + ".opus"
	if err := s.putFile(ctx, m.Key, dst, m.Type, func(int64) {}); err != nil {
		return err
	}
	mediaKey := e.Media.Key
	_, err = s.UpdateEpisode(ctx, show, id, "", func(cur *Episode) error {
		if cur.Media.Key != mediaKey || cur.Opus != nil {
			return errOpusStale
		}
		cur.Opus = &m
		return nil
	})
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), []string{m.Key})
		if errors.Is(err, errOpusStale) {
			return nil
		}
		return fmt.Errorf("add the Opus version of %s: %w", id, err)
	}
	return nil
}

// errOpusStale: the episode changed its recording (or got its Opus)
// while the Opus version was made.
var errOpusStale = errors.New("the episode's recording changed meanwhile")
