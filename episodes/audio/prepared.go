package audio

// Loudness is a recording's loudness as EBU R128 measures it.
type Loudness struct {
	Integrated float64 // LUFS, integrated over the programme
	TruePeak   float64 // dBTP
	Range      float64 // LU, loudness range
}

// Prepared is a recording made podcast-ready.
type Prepared struct {
	// Original is the recording as uploaded.
	Original *ProbeResult
	// Podcast is the recording to publish: Original itself when it was
	// podcast-ready, else the MP3 written.
	Podcast *ProbeResult
	// Path is the file of Podcast.
	Path       string
	Transcoded bool
	// LoudnessBefore and LoudnessAfter are measured when transcoding, nil
	// otherwise.
	LoudnessBefore, LoudnessAfter *Loudness
}
