package hook

import "time"

// Activity is what the endpoint list shows beside an endpoint.
type Activity struct {
	Events    int64
	Last      time.Time // zero when there is none
	PerMinute [60]int   // events in each of the last 60 minutes, oldest first
}
