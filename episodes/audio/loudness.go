package audio

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Loudness metering after ITU-R BS.1770-4 (K-weighting, 400 ms gating
// blocks, true peak) with EBU R 128's gates and EBU Tech 3342's loudness
// range:
//   https://www.itu.int/rec/R-REC-BS.1770
//   https://tech.ebu.ch/publications/r128
//   https://tech.ebu.ch/publications/tech3342
// Memory is bounded whatever the length: the blocks are kept as counts in
// histograms of 0.01 LU, as ffmpeg's ebur128 filter does.

const (
	absoluteGate = -70.0 // LUFS, the gate of both the integrated loudness and the range
	relativeGate = -10.0 // LU under the ungated mean, for the integrated loudness
	rangeGate    = -20.0 // LU under the ungated mean, for the loudness range

	histStep = 0.01 // LU per histogram bin
	histTop  = 30.0 // LUFS; louder blocks count in the top bin
	histBins = int((histTop-absoluteGate)/histStep) + 1

	// chunkFrames is how many frames the meter buffers before filtering.
	chunkFrames = 4096
)

// Meter measures the loudness of a recording written to it as interleaved
// little-endian float32 PCM (what `ffmpeg -f f32le` writes): integrated
// loudness, loudness range, sample and true peak. Its memory does not grow
// with the length of the recording. A Meter is not safe for concurrent
// use; results may be read at any point and writing may go on after.
type Meter struct {
	rate       int
	weights    []float64 // per channel, BS.1770-4 table 3
	frameBytes int

	// Pending input, one buffer per channel: truePeakHistory samples of
	// the previous chunk, then up to chunkFrames new ones.
	bufs    [][]float64
	pending int
	carry   []byte // the start of a frame split across two writes
	frames  int64

	filters   []kFilter
	segLen    int       // frames in 100 ms
	segFill   int       // frames of the current segment seen so far
	segEnergy []float64 // per channel, sum of squares of the current segment
	segRing   [30]float64
	segCount  int64

	momentary gateHistogram // 400 ms blocks, every 100 ms
	shortTerm gateHistogram // 3 s blocks, every 100 ms

	peak       *truePeakFilter
	truePeak   float64 // linear, over every channel
	samplePeak float64
	blockMax   [][]float64 // per channel, the largest |sample| of each peakBlock samples of bufs

	levels *levels // kept when RecordLevels was called, for Plan
}

// NewMeter returns a meter for PCM at rate Hz with channels interleaved: 1
// (mono), 2 (stereo), 5 (L R C Ls Rs) or 6 (5.1: L R C LFE Ls Rs).
func NewMeter(rate, channels int) (*Meter, error) {
	var weights []float64
	switch channels {
	case 1:
		weights = []float64{1}
	case 2:
		weights = []float64{1, 1}
	case 5:
		weights = []float64{1, 1, 1, 1.41, 1.41}
	case 6:
		weights = []float64{1, 1, 1, 0, 1.41, 1.41}
	default:
		return nil, fmt.Errorf("loudness meter: %d channels, want 1, 2, 5 or 6", channels)
	}
	if rate < 8000 || rate > 384000 {
		return nil, fmt.Errorf("loudness meter: sample rate %d Hz, want 8000 to 384000", rate)
	}
	m := &Meter{
		rate:       rate,
		weights:    weights,
		frameBytes: 4 * channels,
		carry:      make([]byte, 0, 4*channels),
		filters:    make([]kFilter, channels),
		segLen:     (rate + 5) / 10,
		segEnergy:  make([]float64, channels),
		momentary:  newGateHistogram(true),
		shortTerm:  newGateHistogram(false),
		peak:       sharedTruePeakFilter,
	}
	coef := kWeighting(float64(rate))
	for c := range m.filters {
		m.filters[c].coef = coef
	}
	m.bufs = make([][]float64, channels)
	m.blockMax = make([][]float64, channels)
	for c := range m.bufs {
		m.bufs[c] = make([]float64, truePeakHistory+chunkFrames)
		m.blockMax[c] = make([]float64, (truePeakHistory+chunkFrames+peakBlock-1)/peakBlock)
	}
	return m, nil
}

// Write adds PCM to the measure: interleaved little-endian float32 frames,
// which may be split anywhere across writes. It never fails. Samples that
// are not finite (NaN, infinities) count as silence.
func (m *Meter) Write(p []byte) (int, error) {
	n := len(p)
	if len(m.carry) > 0 {
		k := copy(m.carry[len(m.carry):cap(m.carry)], p)
		m.carry = m.carry[:len(m.carry)+k]
		p = p[k:]
		if len(m.carry) < m.frameBytes {
			return n, nil
		}
		m.deinterleave(m.carry)
		m.carry = m.carry[:0]
	}
	for len(p) >= m.frameBytes {
		k := min(chunkFrames-m.pending, len(p)/m.frameBytes)
		m.deinterleave(p[:k*m.frameBytes])
		p = p[k*m.frameBytes:]
	}
	m.carry = append(m.carry, p...)
	return n, nil
}

// deinterleave copies whole frames of p, at most what the buffers hold,
// into them, and filters them when they are full.
func (m *Meter) deinterleave(p []byte) {
	frames := len(p) / m.frameBytes
	at := truePeakHistory + m.pending
	for c, buf := range m.bufs {
		dst := buf[at : at+frames]
		src := p[4*c:]
		step := m.frameBytes
		for i := range dst {
			dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[i*step:])))
		}
	}
	m.pending += frames
	m.frames += int64(frames)
	if m.pending == chunkFrames {
		m.process()
	}
}

// process filters the pending frames and keeps the last of them as the
// history the true-peak filter needs.
func (m *Meter) process() {
	n := m.pending
	if n == 0 {
		return
	}
	for c := range m.bufs {
		m.scanPeaks(m.bufs[c][:truePeakHistory+n], m.blockMax[c])
	}
	for off := 0; off < n; {
		k := min(n-off, m.segLen-m.segFill)
		if m.levels != nil {
			k = min(k, m.levels.blockEnd(m.segLen)-m.segFill)
		}
		for c := range m.bufs {
			x := m.bufs[c][truePeakHistory+off : truePeakHistory+off+k]
			var e float64
			if m.weights[c] != 0 {
				e = m.filters[c].run(x)
				m.segEnergy[c] += e
			}
			if m.levels != nil {
				m.levels.add(m.weights[c]*e, x)
			}
		}
		off += k
		m.segFill += k
		if m.levels != nil && m.segFill == m.levels.blockEnd(m.segLen) {
			m.levels.closeBlock()
		}
		if m.segFill == m.segLen {
			m.closeSegment()
		}
	}
	for c := range m.bufs {
		m.filters[c].flushDenormals()
		m.measurePeaks(m.bufs[c][:truePeakHistory+n], m.blockMax[c])
		copy(m.bufs[c], m.bufs[c][n:truePeakHistory+n])
	}
	m.pending = 0
}

// closeSegment ends a 100 ms segment: every segment closes a 400 ms
// momentary block (75 % overlap) and a 3 s short-term block.
func (m *Meter) closeSegment() {
	var e float64
	for c, w := range m.weights {
		e += w * m.segEnergy[c]
		m.segEnergy[c] = 0
	}
	m.segRing[m.segCount%int64(len(m.segRing))] = e
	m.segCount++
	m.segFill = 0
	if m.segCount >= 4 {
		m.momentary.add(m.blockEnergy(4))
	}
	if m.segCount >= 30 {
		m.shortTerm.add(m.blockEnergy(30))
	}
}

// blockEnergy is the mean square of the last n segments, weighted across
// channels.
func (m *Meter) blockEnergy(n int) float64 {
	var sum float64
	for i := int64(1); i <= int64(n); i++ {
		sum += m.segRing[(m.segCount-i)%int64(len(m.segRing))]
	}
	return sum / float64(n*m.segLen)
}

// Rate is the sample rate of the PCM the meter takes, in Hz.
func (m *Meter) Rate() int { return m.rate }

// Channels is the number of channels of the PCM the meter takes.
func (m *Meter) Channels() int { return len(m.weights) }

// Frames is the number of whole frames written so far.
func (m *Meter) Frames() int64 { return m.frames }

// Integrated is the integrated loudness in LUFS of what was written: the
// mean of the 400 ms blocks over -70 LUFS and over the relative gate 10 LU
// under their mean. It is -Inf when no block passes the gates (silence, or
// less than 400 ms).
func (m *Meter) Integrated() float64 {
	m.process()
	h := &m.momentary
	if h.n == 0 {
		return math.Inf(-1)
	}
	from := binOf(loudness(h.sum/float64(h.n)) + relativeGate)
	var sum float64
	var n uint64
	for i := from; i < histBins; i++ {
		sum += h.energy[i]
		n += h.count[i]
	}
	return loudness(sum / float64(n))
}

// Range is the loudness range in LU (EBU Tech 3342): from the 10th to the
// 95th percentile of the 3 s short-term loudness taken every 100 ms, among
// the blocks over -70 LUFS and over the gate 20 LU under their mean. It is
// 0 when no block passes.
func (m *Meter) Range() float64 {
	m.process()
	h := &m.shortTerm
	if h.n == 0 {
		return 0
	}
	from := binOf(loudness(h.sum/float64(h.n)) + rangeGate)
	var n uint64
	for i := from; i < histBins; i++ {
		n += h.count[i]
	}
	if n == 0 {
		return 0
	}
	return h.percentile(from, n, 0.95) - h.percentile(from, n, 0.10)
}

// TruePeak is the highest true peak over the channels in dBTP: the largest
// magnitude of the signal oversampled four times. It is -Inf for digital
// silence.
func (m *Meter) TruePeak() float64 {
	m.process()
	return 20 * math.Log10(m.truePeak)
}

// SamplePeak is the largest sample magnitude in dBFS, -Inf for silence.
func (m *Meter) SamplePeak() float64 {
	m.process()
	return 20 * math.Log10(m.samplePeak)
}

// Loudness is the measure of what was written so far.
func (m *Meter) Loudness() *Loudness {
	return &Loudness{Integrated: m.Integrated(), TruePeak: m.TruePeak(), Range: m.Range()}
}

// loudness converts a weighted mean square to LUFS (BS.1770-4 eq. 2).
func loudness(energy float64) float64 {
	return -0.691 + 10*math.Log10(energy)
}

// gateHistogram counts blocks by loudness above the absolute gate.
type gateHistogram struct {
	count  []uint64
	energy []float64 // sum of the blocks' energies per bin, when kept
	n      uint64    // blocks over the absolute gate
	sum    float64   // their energies
}

func newGateHistogram(energies bool) gateHistogram {
	h := gateHistogram{count: make([]uint64, histBins)}
	if energies {
		h.energy = make([]float64, histBins)
	}
	return h
}

// add counts a block of the given mean square energy unless it is under
// the absolute gate.
func (h *gateHistogram) add(energy float64) {
	l := loudness(energy)
	if !(l >= absoluteGate) {
		return
	}
	i := binOf(l)
	h.count[i]++
	if h.energy != nil {
		h.energy[i] += energy
	}
	h.n++
	h.sum += energy
}

// percentile is the loudness of the block of rank p (0..1) among the n
// blocks counted from bin from up, at the centre of its bin.
func (h *gateHistogram) percentile(from int, n uint64, p float64) float64 {
	rank := uint64(math.Round(p * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := from; i < histBins; i++ {
		seen += h.count[i]
		if seen >= rank {
			return absoluteGate + (float64(i)+0.5)*histStep
		}
	}
	return histTop
}

// binOf is the histogram bin of a loudness, clamped to the histogram.
func binOf(l float64) int {
	if !(l > absoluteGate) {
		return 0
	}
	return min(int((l-absoluteGate)/histStep), histBins-1)
}

// kCoef holds the two biquads of the K-weighting filter: a high shelf
// (the head's acoustic effect) then the RLB high-pass; the high-pass's
// numerator is 1, -2, 1.
type kCoef struct {
	b0, b1, b2, a1, a2 float64 // shelf
	r1, r2             float64 // high-pass denominator
}

// kWeighting derives the K-weighting biquads for a sample rate from their
// analog prototypes with the bilinear transform, so that every rate gets
// its own and 48 kHz gives BS.1770-4's table 1 and 2. The prototype
// parameters are those published with libebur128.
func kWeighting(rate float64) kCoef {
	const (
		shelfFreq = 1681.974450955533
		shelfGain = 3.999843853973347 // dB
		shelfQ    = 0.7071752369554196
		passFreq  = 38.13547087602444
		passQ     = 0.5003270373238773
	)
	k := math.Tan(math.Pi * shelfFreq / rate)
	vh := math.Pow(10, shelfGain/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/shelfQ + k*k
	var c kCoef
	c.b0 = (vh + vb*k/shelfQ + k*k) / a0
	c.b1 = 2 * (k*k - vh) / a0
	c.b2 = (vh - vb*k/shelfQ + k*k) / a0
	c.a1 = 2 * (k*k - 1) / a0
	c.a2 = (1 - k/shelfQ + k*k) / a0

	k = math.Tan(math.Pi * passFreq / rate)
	a0 = 1 + k/passQ + k*k
	c.r1 = 2 * (k*k - 1) / a0
	c.r2 = (1 - k/passQ + k*k) / a0
	return c
}

// kFilter is one channel's K-weighting filter with its state.
type kFilter struct {
	coef                   kCoef
	x1, x2, y1, y2, z1, z2 float64
}

// run filters x and returns the sum of the squares of the output.
func (f *kFilter) run(x []float64) float64 {
	c := f.coef
	x1, x2, y1, y2, z1, z2 := f.x1, f.x2, f.y1, f.y2, f.z1, f.z2
	var sum float64
	for _, x0 := range x {
		// The recursive term comes last so that the dependency chain
		// from one sample to the next is one multiply and one subtract.
		y0 := c.b0*x0 + c.b1*x1 + c.b2*x2 - c.a2*y2 - c.a1*y1
		z0 := y0 - 2*y1 + y2 - c.r2*z2 - c.r1*z1
		sum += z0 * z0
		x2, x1 = x1, x0
		y2, y1 = y1, y0
		z2, z1 = z1, z0
	}
	f.x1, f.x2, f.y1, f.y2, f.z1, f.z2 = x1, x2, y1, y2, z1, z2
	return sum
}

// flushDenormals zeroes a state that silence has decayed to nothing:
// subnormal numbers are a hundred times slower on most processors.
func (f *kFilter) flushDenormals() {
	for _, v := range []*float64{&f.x1, &f.x2, &f.y1, &f.y2, &f.z1, &f.z2} {
		if math.Abs(*v) < 1e-30 {
			*v = 0
		}
	}
}

// True peak: the signal oversampled four times by a polyphase windowed-sinc
// interpolator, like ffmpeg's ebur128 filter gets from libswresample's
// defaults (33 taps per phase, cutoff at 0.97 of Nyquist, Kaiser window of
// beta 9, each phase normalised to unit gain), so that both agree on the
// inter-sample peaks of clipped audio.
const (
	truePeakTaps    = 33
	truePeakHistory = truePeakTaps - 1 // samples of the previous chunk each window needs

	// The true peak is bounded block by block: the windows starting in a
	// block of peakBlock samples read that block and peakSpan more.
	peakBlock = 8
	peakSpan  = (truePeakHistory + peakBlock - 1) / peakBlock
)

// truePeakFilter is the interpolator folded on its symmetries, which
// halves the multiplications. Over a window x[0..32], phase p reads x at
// offsets i-16-p/4; the sinc and the window are even functions, so phase 0
// is symmetric around x[16], phase 2 around x[16.5], and phases 1 and 3
// mirror each other around x[16.5] up to their normalisations.
type truePeakFilter struct {
	center0    float64     // phase 0 at x[16]
	even0      [16]float64 // phase 0 at x[i] + x[32-i]
	edge2      float64     // phase 2 at x[0]
	even2      [16]float64 // phase 2 at x[j] + x[33-j], j = 1..16
	edgeSum13  float64     // (phase 1 + phase 3) at x[0], unnormalised
	edgeDiff13 float64     // (phase 1 - phase 3) at x[0], unnormalised
	even13     [16]float64 // (phase 1 + phase 3) at x[j] + x[33-j]
	odd13      [16]float64 // (phase 1 - phase 3) at x[j] - x[33-j]
	scale1     float64     // phase 1 = scale1 * (sum + diff)
	scale3     float64     // phase 3 = scale3 * (sum - diff)
	// gain bounds the interpolated magnitude: at most gain times the
	// largest input magnitude in the window.
	gain float64
	// A tighter bound, window by window: phase p's taps on the samples
	// around the interpolated point (near[i][p] on x[nearFrom+i]) give a
	// part computed exactly, the other taps at most far[p] times the
	// largest magnitude.
	near [4][4]float64
	far  [4]float64
}

// nearFrom is the first of the four samples around the points a window
// interpolates (x[16] to x[17]).
const nearFrom = 15

var sharedTruePeakFilter = newTruePeakFilter()

func newTruePeakFilter() *truePeakFilter {
	const (
		phases = 4
		cutoff = 0.97
		beta   = 9.0
		center = (truePeakTaps - 1) / 2
	)
	// raw[p][i] is phase p's tap i before normalisation.
	var raw [phases][truePeakTaps]float64
	var norm [phases]float64
	f := &truePeakFilter{}
	for p := range phases {
		for i := range truePeakTaps {
			x := math.Pi * (float64(i-center) - float64(p)/phases) * cutoff
			y := 1.0
			if x != 0 {
				y = math.Sin(x) / x
			}
			w := 2 * x / (cutoff * truePeakTaps * math.Pi)
			y *= besselI0(beta * math.Sqrt(max(1-w*w, 0)))
			raw[p][i] = y
			norm[p] += y
		}
		var abs float64
		for i, y := range raw[p] {
			abs += math.Abs(y / norm[p])
			if i >= nearFrom && i < nearFrom+len(f.near) {
				f.near[i-nearFrom][p] = y / norm[p]
			} else {
				f.far[p] += math.Abs(y / norm[p])
			}
		}
		f.gain = max(f.gain, abs)
	}
	f.center0 = raw[0][16] / norm[0]
	for i := range 16 {
		f.even0[i] = raw[0][i] / norm[0]
	}
	f.edge2 = raw[2][0] / norm[2]
	for j := 1; j <= 16; j++ {
		f.even2[j-1] = raw[2][j] / norm[2]
		// raw[3][i] == raw[1][33-i] for i >= 1.
		f.even13[j-1] = (raw[1][j] + raw[1][33-j]) / 2
		f.odd13[j-1] = (raw[1][j] - raw[1][33-j]) / 2
	}
	f.edgeSum13 = (raw[1][0] + raw[3][0]) / 2
	f.edgeDiff13 = (raw[1][0] - raw[3][0]) / 2
	f.scale1 = 1 / norm[1]
	f.scale3 = 1 / norm[3]
	return f
}

// peak is the largest magnitude of the four phases over window x.
func (f *truePeakFilter) peak(x *[truePeakTaps]float64) float64 {
	a0 := f.center0 * x[16]
	a2 := f.edge2 * x[0]
	sum := f.edgeSum13 * x[0]
	diff := f.edgeDiff13 * x[0]
	for i := range 16 {
		a0 += f.even0[i] * (x[i] + x[32-i])
		s, d := x[i+1]+x[32-i], x[i+1]-x[32-i]
		a2 += f.even2[i] * s
		sum += f.even13[i] * s
		diff += f.odd13[i] * d
	}
	a1 := f.scale1 * (sum + diff)
	a3 := f.scale3 * (sum - diff)
	return max(math.Abs(a0), math.Abs(a1), math.Abs(a2), math.Abs(a3))
}

// bound is at least the largest magnitude of the four phases over window
// x whose samples are at most m in magnitude, for a fifth of the work of
// peak.
func (f *truePeakFilter) bound(x *[truePeakTaps]float64, m float64) float64 {
	var a [4]float64
	for i, c := range &f.near {
		v := x[nearFrom+i]
		a[0] += c[0] * v
		a[1] += c[1] * v
		a[2] += c[2] * v
		a[3] += c[3] * v
	}
	return max(math.Abs(a[0])+f.far[0]*m, math.Abs(a[1])+f.far[1]*m,
		math.Abs(a[2])+f.far[2]*m, math.Abs(a[3])+f.far[3]*m)
}

// besselI0 is the modified Bessel function of the first kind of order 0.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1.0; term > 1e-17*sum; k++ {
		term *= (x / (2 * k)) * (x / (2 * k))
		sum += term
	}
	return sum
}

// scanPeaks notes in blocks the largest magnitude of each peakBlock samples
// of one channel's buffer (truePeakHistory samples already seen, then new
// ones) for measurePeaks, updates the sample peak, and replaces the samples that
// are not finite by silence.
func (m *Meter) scanPeaks(buf, blocks []float64) {
	const inf = 0x7ff0000000000000 // the bits of +Inf: greater ones are NaN
	var top uint64
	for j := range blocks[:(len(buf)+peakBlock-1)/peakBlock] {
		// Magnitudes compare as integers: no branch to mispredict on noise.
		var hi uint64
		for _, v := range buf[peakBlock*j : min(peakBlock*j+peakBlock, len(buf))] {
			hi = max(hi, math.Float64bits(v)&^(1<<63))
		}
		if hi >= inf {
			hi = 0
			for i, v := range buf[peakBlock*j : min(peakBlock*j+peakBlock, len(buf))] {
				if math.Float64bits(v)&^(1<<63) >= inf {
					buf[peakBlock*j+i] = 0
				}
				hi = max(hi, math.Float64bits(buf[peakBlock*j+i])&^(1<<63))
			}
		}
		blocks[j] = math.Float64frombits(hi)
		top = max(top, hi)
	}
	m.samplePeak = max(m.samplePeak, math.Float64frombits(top))
}

// measurePeaks updates the true peak with one channel's buffer and the
// blocks scanPeaks noted. The interpolation, the costly part, is skipped where
// the bound on its output cannot beat the peak found so far.
func (m *Meter) measurePeaks(buf, blocks []float64) {
	f := m.peak
	windows := len(buf) - truePeakHistory
	for j := 0; peakBlock*j < windows; j++ {
		// Windows peakBlock*j on read the blocks j to j+peakSpan.
		most := slices.Max(blocks[j : j+peakSpan+1])
		if most*f.gain <= m.truePeak {
			continue
		}
		peak := m.truePeak
		for s := peakBlock * j; s < min(peakBlock*(j+1), windows); s++ {
			w := (*[truePeakTaps]float64)(buf[s : s+truePeakTaps])
			if f.bound(w, most) > peak {
				peak = max(peak, f.peak(w))
			}
		}
		m.truePeak = peak
	}
}
