package deliver

import "time"

// bucket is a target's rate limit as a token bucket: tokens come at perMinute/60 a second, and
// at most a second's worth (one at least) wait, so a limit spreads a burst evenly over the
// minute in O(1) memory, however high it is. Times are the monotonic clock's.
type bucket struct {
	perMinute int
	tokens    float64
	at        time.Duration // when tokens was last brought up to date
	started   bool
}

// capacity is how many tokens the bucket holds at most.
func (b *bucket) capacity() float64 { return max(1, float64(b.perMinute)/60) }

// refill brings the tokens up to now; a new limit starts with a full bucket.
func (b *bucket) refill(perMinute int, now time.Duration) {
	if !b.started || perMinute != b.perMinute {
		b.perMinute, b.tokens, b.at, b.started = perMinute, max(1, float64(perMinute)/60), now, true
		return
	}
	b.tokens = min(b.capacity(), b.tokens+(now-b.at).Seconds()*float64(perMinute)/60)
	b.at = now
}

// wait is how long until a token is there (0: one is).
func (b *bucket) wait() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * 60 / float64(b.perMinute) * float64(time.Second))
}

// room is how many may be sent now.
func (b *bucket) room() int { return int(b.tokens) }

// take spends a token.
func (b *bucket) take() { b.tokens-- }
