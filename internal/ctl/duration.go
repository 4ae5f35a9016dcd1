package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a span of time: a time.Duration in Go, a number of seconds in
// JSON (90, 0.5, 1.000000001), exact to the nanosecond both ways, so that
// scripts read seconds and a snapshot survives a JSON round trip unchanged.
type Duration time.Duration

// Seconds returns n seconds as a Duration: ctl.Seconds(90) is 90s.
func Seconds(n int64) Duration { return Duration(time.Duration(n) * time.Second) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a decimal number of seconds with at most nine
// decimals and no trailing zeros.
func (d Duration) MarshalJSON() ([]byte, error) {
	var b []byte
	u := uint64(d) // two's complement: exact also for math.MinInt64
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	if frac := u % 1e9; frac != 0 {
		s := strconv.FormatUint(frac+1e9, 10)[1:] // nine digits, leading zeros kept
		b = append(b, '.')
		b = append(b, bytes.TrimRight([]byte(s), "0")...)
	}
	return b, nil
}

var errDuration = errors.New("a duration is a number of seconds")

// UnmarshalJSON reads a number of seconds. Plain decimals are read exactly;
// digits past the nanosecond are dropped. Exponent forms are accepted,
// through float64.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(s) == 0 || bytes.ContainsAny(b, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.Abs(f*1e9) >= math.MaxInt64 {
			return fmt.Errorf("%w: %s", errDuration, s)
		}
		*d = Duration(math.Round(f * 1e9))
		return nil
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || !digits(whole) || !digits(frac) {
		return fmt.Errorf("%w: %s", errDuration, b)
	}
	sec, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || sec > math.MaxInt64/uint64(time.Second) {
		return fmt.Errorf("%w: %s out of range", errDuration, b)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var ns uint64
	if frac != "" {
		ns, _ = strconv.ParseUint(frac, 10, 64)
		for i := len(frac); i < 9; i++ {
			ns *= 10
		}
	}
	u := sec*1e9 + ns
	switch {
	case !neg && u > math.MaxInt64, neg && u > 1<<63:
		return fmt.Errorf("%w: %s out of range", errDuration, b)
	case neg:
		*d = Duration(-u) // two's complement: exact also for 1<<63
	default:
		*d = Duration(u)
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
