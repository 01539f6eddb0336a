package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Levelling: the gain that brings a recording to a loudness target, and a
// look-ahead true-peak limiter for the peaks that gain would push over a
// ceiling. Both run in Go on the PCM that ffmpeg then only encodes. The
// meter's pass predicts what the limiter will take off the loudness (Plan),
// so that the level is right the first time.

// Limiter timing. The gain reaches its lowest over limiterAttack before a
// peak (look-ahead, so that nothing overshoots), holds it limiterAttack,
// then comes back with the time constant limiterRelease.
const (
	limiterAttack  = 0.005 // seconds
	limiterRelease = 0.040 // seconds
)

// levelBlocks is how many blocks of a 100 ms segment RecordLevels keeps.
const levelBlocks = 10

// ErrSilent is returned by Plan when the recording has nothing loud enough
// to measure (no 400 ms over -70 LUFS): it cannot be brought to a loudness.
var ErrSilent = errors.New("the recording is silent: there is nothing to normalise")

// Leveling is how a recording is brought to a loudness: a gain, then,
// when the gain would push the true peak over the ceiling, a limiter that
// holds it under.
type Leveling struct {
	Gain    float64 // dB, applied to every sample
	Limit   bool    // whether the limiter acts
	Ceiling float64 // dBTP the limiter holds the true peak under
	// Expected is the integrated loudness predicted for the result, LUFS.
	Expected float64
}

func (l Leveling) String() string {
	if !l.Limit {
		return fmt.Sprintf("gain %+.2f dB", l.Gain)
	}
	return fmt.Sprintf("gain %+.2f dB, limited at %.1f dBTP", l.Gain, l.Ceiling)
}

// levels is a recording's level over time, block by block (a tenth of a
// 100 ms segment): its K-weighted energy and its sample peak, in four
// bytes per block (1 MB for 45 minutes), what Plan needs to simulate the
// limiter.
type levels struct {
	energy, peak []uint16 // levelCode of the energy and of the squared peak
	e, p         float64  // of the current block
	block        int      // the current block's rank in its segment
}

// RecordLevels makes the meter keep the level of each 10 ms of what is
// written, for Plan: four bytes per block, so its memory grows by 1.4 MB
// an hour. Call it before the first Write.
func (m *Meter) RecordLevels() {
	if m.levels == nil && m.frames == 0 {
		m.levels = &levels{}
	}
}

// blockEnd is where, in frames from its segment's start, the current
// block ends.
func (l *levels) blockEnd(segLen int) int { return (l.block + 1) * segLen / levelBlocks }

// add counts the weighted energy and the samples x of one channel in the
// current block.
func (l *levels) add(energy float64, x []float64) {
	l.e += energy
	p := l.p
	for _, v := range x {
		p = max(p, math.Abs(v))
	}
	l.p = p
}

func (l *levels) closeBlock() {
	l.energy = append(l.energy, levelCode(l.e))
	l.peak = append(l.peak, levelCode(l.p*l.p))
	l.e, l.p = 0, 0
	l.block = (l.block + 1) % levelBlocks
}

// levelCode packs a power (energy or squared amplitude) in 16 bits: 0 for
// nothing, else its decibels in steps of 0.01 dB from -400 dB.
func levelCode(power float64) uint16 {
	if !(power > 0) {
		return 0
	}
	return uint16(min(max(math.Round((10*math.Log10(power)+400)*100), 1), math.MaxUint16))
}

// levelPower is the power of each levelCode.
var levelPower = func() *[1 << 16]float64 {
	var t [1 << 16]float64
	for c := 1; c < len(t); c++ {
		t[c] = math.Pow(10, (float64(c)/100-400)/10)
	}
	return &t
}()

// Plan says how to bring what was written to the loudness target (LUFS)
// with a true peak at most ceiling (dBTP): the gain alone when it keeps
// the true peak under the ceiling; else a gain and the limiter, the gain
// raised by what the limiter is predicted to take off the loudness. The
// prediction replays the limiter on the levels RecordLevels kept. It fails
// with ErrSilent when nothing passes the loudness gates.
func (m *Meter) Plan(target, ceiling float64) (Leveling, error) {
	before := m.Integrated()
	if math.IsInf(before, -1) {
		return Leveling{}, ErrSilent
	}
	gain := target - before
	if m.TruePeak()+gain <= ceiling {
		return Leveling{Gain: gain, Ceiling: ceiling, Expected: target}, nil
	}
	if m.levels == nil {
		return Leveling{}, errors.New("plan the levelling: the meter kept no levels (RecordLevels)")
	}
	// The loudness after the limiter grows with the gain: bisect.
	lo, hi := gain, gain+24
	for range 30 {
		mid := (lo + hi) / 2
		if m.levels.predict(m.segLen, mid, ceiling) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return Leveling{Gain: hi, Limit: true, Ceiling: ceiling, Expected: m.levels.predict(m.segLen, hi, ceiling)}, nil
}

// predict replays the limiter block by block on the levels at gain (dB)
// and ceiling (dBTP) and returns the integrated loudness of the result.
func (l *levels) predict(segLen int, gain, ceiling float64) float64 {
	g2 := math.Pow(10, gain/10)                     // the gain, squared
	t2 := math.Pow(10, (ceiling-gain)/10)           // the threshold before the gain, squared
	blockSeconds := 0.1 / levelBlocks               // the block's duration
	rel := math.Exp(-blockSeconds / limiterRelease) // what is left of a reduction a block later
	segs := make([]float64, 0, len(l.energy)/levelBlocks)
	var seg float64
	carry := 1.0
	for b, ec := range l.energy {
		r := 1.0
		if p2 := levelPower[l.peak[b]]; p2 > t2 {
			r = math.Sqrt(t2 / p2)
		}
		carry = min(r, 1-(1-carry)*rel)
		seg += levelPower[ec] * carry * carry
		if b%levelBlocks == levelBlocks-1 {
			segs = append(segs, seg*g2)
			seg = 0
		}
	}
	return integratedOf(segs, segLen)
}

// integratedOf is the integrated loudness of the 100 ms segments' energies
// (sums of weighted squares of segLen frames each), gated as Integrated
// gates the meter's blocks.
func integratedOf(segs []float64, segLen int) float64 {
	block := func(j int) float64 { return (segs[j-3] + segs[j-2] + segs[j-1] + segs[j]) / float64(4*segLen) }
	var sum float64
	var n int
	for j := 3; j < len(segs); j++ {
		if e := block(j); loudness(e) >= absoluteGate {
			sum += e
			n++
		}
	}
	if n == 0 {
		return math.Inf(-1)
	}
	gate := loudness(sum/float64(n)) + relativeGate
	sum, n = 0, 0
	for j := 3; j < len(segs); j++ {
		if e := block(j); loudness(e) >= absoluteGate && loudness(e) >= gate {
			sum += e
			n++
		}
	}
	return loudness(sum / float64(n))
}

// Leveler applies a Leveling to interleaved little-endian float32 PCM
// written to it and writes the result, in the same format and with as
// many frames, to the writer it was made with: the gain, then the
// limiter, which looks ahead limiterAttack plus the true-peak filter's
// half-width (its output lags its input by that much until Close). Its
// memory does not grow with the recording. Not safe for concurrent use.
type Leveler struct {
	w          io.Writer
	channels   int
	frameBytes int
	gain       float64 // linear
	limit      bool
	threshold  float64 // linear: the ceiling before the gain
	attack     int     // frames
	release    float64 // what is left of a reduction a frame later

	carry  []byte      // the start of a frame split across two writes
	in     [][]float64 // per channel, frames from base on
	base   int64       // the index of in's first frame
	next   int64       // the next centre whose reduction is computed
	frames int64       // frames written

	// The reductions r of the last attack centres, their running minimum
	// (a deque of indices into rs), the held gain and the last attack
	// held gains, summed.
	minIdx  []int64
	minVal  []float64
	held    float64
	ring    []float64
	ringPos int
	ringSum float64

	steady   int       // centres since the held gain is 1
	r        []float64 // reductions of the centres being computed
	groupMax []float64 // per peakBlock frames of in, the largest magnitude over the channels
	out      []byte
	err      error
}

// NewLeveler returns a Leveler of l for PCM at rate Hz with channels
// interleaved, writing to w.
func NewLeveler(w io.Writer, rate, channels int, l Leveling) (*Leveler, error) {
	if channels < 1 || channels > 8 || rate < 8000 || rate > 384000 {
		return nil, fmt.Errorf("leveler: %d channels at %d Hz, want 1 to 8 at 8000 to 384000", channels, rate)
	}
	v := &Leveler{
		w:          w,
		channels:   channels,
		frameBytes: 4 * channels,
		gain:       math.Pow(10, l.Gain/20),
		limit:      l.Limit,
		threshold:  math.Pow(10, (l.Ceiling-l.Gain)/20),
		attack:     max(1, int(math.Round(limiterAttack*float64(rate)))),
		release:    math.Exp(-1 / (limiterRelease * float64(rate))),
		carry:      make([]byte, 0, 4*channels),
		held:       1,
	}
	if v.limit {
		v.in = make([][]float64, channels)
		for c := range v.in {
			// The true-peak window's history before the first frame: silence.
			v.in[c] = make([]float64, windowHalf, windowHalf+chunkFrames+v.attack+2*windowHalf)
		}
		v.base = -windowHalf
		v.ring = make([]float64, v.attack)
		for i := range v.ring {
			v.ring[i] = 1
		}
		v.ringSum = float64(v.attack)
	}
	return v, nil
}

// Write levels whole frames of p, which may be split anywhere across
// writes. It fails with the writer's error.
func (v *Leveler) Write(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n := len(p)
	if len(v.carry) > 0 {
		k := copy(v.carry[len(v.carry):cap(v.carry)], p)
		v.carry = v.carry[:len(v.carry)+k]
		p = p[k:]
		if len(v.carry) < v.frameBytes {
			return n, nil
		}
		v.take(v.carry)
		v.carry = v.carry[:0]
	}
	whole := len(p) / v.frameBytes * v.frameBytes
	for off := 0; off < whole; {
		k := min(whole-off, chunkFrames*v.frameBytes)
		v.take(p[off : off+k])
		off += k
	}
	v.carry = append(v.carry, p[whole:]...)
	return n, v.err
}

// take levels whole frames.
func (v *Leveler) take(p []byte) {
	frames := len(p) / v.frameBytes
	v.frames += int64(frames)
	if !v.limit {
		v.out = v.out[:0]
		for i := 0; i < len(p); i += 4 {
			s := float64(math.Float32frombits(binary.LittleEndian.Uint32(p[i:]))) * v.gain
			v.out = binary.LittleEndian.AppendUint32(v.out, math.Float32bits(float32(finite(s))))
		}
		v.flush()
		return
	}
	for c := range v.in {
		for i := range frames {
			s := float64(math.Float32frombits(binary.LittleEndian.Uint32(p[i*v.frameBytes+4*c:])))
			v.in[c] = append(v.in[c], finite(s))
		}
	}
	v.limitUpTo(v.base + int64(len(v.in[0])) - 1)
}

// finite is s, or silence when s is NaN or infinite.
func finite(s float64) float64 {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0
	}
	return s
}

// Close levels and writes the frames still held for the look-ahead. It
// drops a partial frame.
func (v *Leveler) Close() error {
	if v.err != nil || !v.limit {
		return v.err
	}
	// Silence after the end lets the last frames be computed.
	last := v.frames - 1
	pad := v.attack + 2*windowHalf
	for c := range v.in {
		for range pad {
			v.in[c] = append(v.in[c], 0)
		}
	}
	v.limitUpTo(last + int64(v.attack) + windowHalf)
	return v.err
}

// limitUpTo computes the reductions of the centres whose true-peak window
// ends at or before frame end, and writes the frames whose gain is then
// known (at most up to the last frame written).
func (v *Leveler) limitUpTo(end int64) {
	const half = windowHalf
	last := end - half
	if last < v.next {
		return
	}
	v.reductions(int(v.next-v.base), int(last-v.next)+1)
	attack := int64(v.attack)
	// The frames written are those out of centre next-attack+1 on, up to
	// the last frame written.
	first, stop := max(v.next-attack+1, 0), min(v.next+int64(len(v.r))-attack+1, v.frames)
	v.out = slices.Grow(v.out[:0], max(int(stop-first), 0)*v.frameBytes)[:max(int(stop-first), 0)*v.frameBytes]
	// Locals: the loop runs once per frame.
	held, steady, ring, pos, sum := v.held, v.steady, v.ring, v.ringPos, v.ringSum
	minVal, minIdx := v.minVal, v.minIdx
	gain, release, scale := v.gain, v.release, v.gain/float64(len(v.ring))
	in, base, outBuf, next := v.in, v.base, v.out, v.next
	for _, r := range v.r {
		i := next
		next++
		g := gain
		if r != 1 || steady < v.attack {
			// The lowest reduction of the last attack centres: a deque
			// of increasing reductions.
			for len(minVal) > 0 && minVal[len(minVal)-1] >= r {
				minVal, minIdx = minVal[:len(minVal)-1], minIdx[:len(minIdx)-1]
			}
			minVal, minIdx = append(minVal, r), append(minIdx, i)
			if minIdx[0] <= i-attack {
				minVal, minIdx = minVal[1:], minIdx[1:]
			}
			held = min(minVal[0], 1-(1-held)*release)
			if held > 1-1e-6 {
				held = 1 // recovered: -0.00001 dB
			}
			if held == 1 {
				steady++
			} else {
				steady = 0
			}
			sum += held - ring[pos]
			ring[pos] = held
			if pos++; pos == len(ring) {
				pos = 0
			}
			// The mean of the held gains of centres out..i is the gain
			// of frame out: none of them is over the reduction out needs.
			if steady < v.attack {
				g = sum * scale
			}
		}
		out := i - attack + 1
		if out < first || out >= stop {
			continue
		}
		o, w := int(out-base), int(out-first)*v.frameBytes
		for c, x := range in {
			binary.LittleEndian.PutUint32(outBuf[w+4*c:], math.Float32bits(float32(g*x[o])))
		}
	}
	v.held, v.steady, v.ringPos, v.ringSum, v.next = held, steady, pos, sum, next
	v.minVal, v.minIdx = minVal, minIdx
	// Keep what the next centres need: their windows, and the frames not
	// written yet.
	keep := min(v.next-half, v.next-attack+1) - v.base
	if keep > 0 {
		for c, x := range v.in {
			v.in[c] = x[:copy(x, x[keep:])]
		}
		v.base += keep
	}
	v.ringSum = 0 // summed again: no drift over hours
	for _, h := range v.ring {
		v.ringSum += h
	}
	v.flush()
}

// reductions sets r to the gain reductions of count centres from index
// from of in: the threshold over the true peak after each, at most 1. The
// peak is computed only where the samples could reach the threshold.
func (v *Leveler) reductions(from, count int) {
	const half = detectorHalf
	d, f := &sharedDetector, sharedTruePeakFilter
	n := len(v.in[0])
	// The largest magnitude of each peakBlock frames, over the channels.
	v.groupMax = v.groupMax[:0]
	for j := 0; j < n; j += peakBlock {
		var hi float64
		for _, x := range v.in {
			for _, s := range x[j:min(j+peakBlock, n)] {
				hi = max(hi, math.Abs(s))
			}
		}
		v.groupMax = append(v.groupMax, hi)
	}
	v.r = v.r[:0]
	for k := from; k < from+count; {
		// The windows of the centres of group g read groups g-1 to g+1.
		g := k / peakBlock
		next := min((g+1)*peakBlock, from+count)
		most := maxOf(v.groupMax[max(g-1, 0):min(g+2, len(v.groupMax))])
		if most*d.gain <= v.threshold {
			for ; k < next; k++ {
				v.r = append(v.r, 1)
			}
			continue
		}
		for ; k < next; k++ {
			var peak float64
			for _, x := range v.in {
				p := d.peak((*[2 * half]float64)(x[k-half+1 : k+half+1]))
				if p*detectorMargin > v.threshold {
					p = f.peak((*[truePeakTaps]float64)(x[k-windowHalf : k+windowHalf+1]))
				}
				peak = max(peak, p)
			}
			r := 1.0
			if peak > v.threshold {
				r = v.threshold / peak
			}
			v.r = append(v.r, r)
		}
	}
}

// The limiter's true-peak detector: the signal oversampled four times
// with a Lanczos kernel of detectorHalf lobes, cheaper than the meter's
// filter (a twelfth of the multiplications) and within a tenth of a dB of
// it below 15 kHz, where the MP3 encoder keeps the sound.
const (
	detectorHalf = 4 // frames read on each side of the interpolated points
	// detectorMargin: where the detector finds a peak over the threshold
	// divided by it (3 dB), the meter's filter computes it exactly.
	detectorMargin = 1.41
	// windowHalf is the frames the exact filter reads on each side.
	windowHalf = truePeakHistory / 2
)

// peakDetector holds the kernel folded on its symmetries: over x[k-3] to
// x[k+4], phase 2 (halfway between x[k] and x[k+1]) is symmetric, phases 1
// and 3 mirror each other.
type peakDetector struct {
	mid  [detectorHalf]float64 // phase 2 on x[k-i] + x[k+1+i]
	even [detectorHalf]float64 // (phase 1 + phase 3) / 2 on x[k-i] + x[k+1+i]
	odd  [detectorHalf]float64 // (phase 1 - phase 3) / 2 on x[k-i] - x[k+1+i]
	gain float64               // the largest sum of the magnitudes of a phase's taps
}

var sharedDetector = newPeakDetector()

func newPeakDetector() peakDetector {
	lanczos := func(x float64) float64 {
		if x == 0 {
			return 1
		}
		a := math.Pi * x
		return math.Sin(a) / a * math.Sin(a/detectorHalf) / (a / detectorHalf)
	}
	// taps[p][i] weighs x[k-i] and taps[p][detectorHalf+i] x[k+1+i], for
	// the point p/4 after x[k].
	var d peakDetector
	var taps [4][2 * detectorHalf]float64
	for p := 1; p < 4; p++ {
		tau := float64(p) / 4
		var sum, abs float64
		for i := range detectorHalf {
			taps[p][i] = lanczos(tau + float64(i))
			taps[p][detectorHalf+i] = lanczos(tau - 1 - float64(i))
			sum += taps[p][i] + taps[p][detectorHalf+i]
		}
		for i := range taps[p] {
			taps[p][i] /= sum
			abs += math.Abs(taps[p][i])
		}
		d.gain = max(d.gain, abs)
	}
	for i := range detectorHalf {
		d.mid[i] = taps[2][i]
		d.even[i] = (taps[1][i] + taps[1][detectorHalf+i]) / 2
		d.odd[i] = (taps[1][i] - taps[1][detectorHalf+i]) / 2
	}
	return d
}

// peak is the largest magnitude of x[k] (w[3]) and of the three points
// the detector interpolates between x[k] and x[k+1] (w[4]), over the
// window w of x[k-3] to x[k+4].
func (d *peakDetector) peak(w *[2 * detectorHalf]float64) float64 {
	const c = detectorHalf - 1 // x[k] in w
	var mid, even, odd float64
	for i := range detectorHalf {
		s, t := w[c-i]+w[c+1+i], w[c-i]-w[c+1+i]
		mid += d.mid[i] * s
		even += d.even[i] * s
		odd += d.odd[i] * t
	}
	return max(math.Abs(w[c]), math.Abs(mid), math.Abs(even+odd), math.Abs(even-odd))
}

func maxOf(s []float64) float64 {
	var m float64
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// flush writes out.
func (v *Leveler) flush() {
	if len(v.out) == 0 || v.err != nil {
		return
	}
	if _, err := v.w.Write(v.out); err != nil {
		v.err = fmt.Errorf("leveler: write: %w", err)
	}
}

// Densest returns where, in seconds from the start, the window of the
// given length begins in which the most 10 ms blocks come within 1 dB of
// the ceiling once plan's gain is applied (limited or not): the part of
// the recording where the encoder is likeliest to push the peaks over it,
// for a trial encode. It needs RecordLevels; ok is false when no block
// comes that close.
func (m *Meter) Densest(plan Leveling, seconds float64) (start float64, ok bool) {
	if m.levels == nil {
		return 0, false
	}
	// Squared peak, before the gain, from which a block counts.
	near := math.Pow(10, (plan.Ceiling-1-plan.Gain)/10)
	blockSeconds := 0.1 / levelBlocks
	width := max(int(seconds/blockSeconds), 1)
	peaks := m.levels.peak
	count, best, bestAt := 0, 0, 0
	for b := range peaks {
		if levelPower[peaks[b]] >= near {
			count++
		}
		if b >= width && levelPower[peaks[b-width]] >= near {
			count--
		}
		if count > best {
			best, bestAt = count, max(b-width+1, 0)
		}
	}
	return float64(bestAt) * blockSeconds, best > 0
}
