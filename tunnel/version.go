package tunnel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Version is a cloudflared release number. Cloudflare numbers releases by date: year, month and
// the release of that month (2026.8.2).
type Version struct{ Year, Month, Patch int }

// ParseVersion reads "2026.8.2", "v2026.8.2" or the first line of `cloudflared --version`
// ("cloudflared version 2026.8.2 (built …)").
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "cloudflared version "); ok {
		s, _, _ = strings.Cut(rest, " ")
	}
	s = strings.TrimPrefix(s, "v")
	parts := strings.Split(s, ".")
	var v Version
	if len(parts) != 3 {
		return v, fmt.Errorf("%q is not a cloudflared version", s)
	}
	for i, dst := range []*int{&v.Year, &v.Month, &v.Patch} {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("%q is not a cloudflared version", s)
		}
		*dst = n
	}
	if v.Month < 1 || v.Month > 12 {
		return Version{}, fmt.Errorf("%q is not a cloudflared version", s)
	}
	return v, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Year, v.Month, v.Patch) }

// Less reports whether v is an older release than w.
func (v Version) Less(w Version) bool {
	if v.Year != w.Year {
		return v.Year < w.Year
	}
	if v.Month != w.Month {
		return v.Month < w.Month
	}
	return v.Patch < w.Patch
}

// OlderThanAYear reports whether the release is more than a year old at now. Cloudflare supports
// only releases of the last year: older ones may stop connecting.
func (v Version) OlderThanAYear(now time.Time) bool {
	released := time.Date(v.Year, time.Month(v.Month), 1, 0, 0, 0, 0, time.UTC)
	// The month's last day is the latest the release can be from.
	return now.After(released.AddDate(1, 1, 0))
}
