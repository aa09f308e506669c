package endpoints

import (
	"context"
	"sync"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// activity keeps per-endpoint counts in memory, loaded once in the background at start and then
// followed from ingest's commits, so the GUI never counts a large table.
type activity struct {
	mu      sync.Mutex
	ready   bool
	byID    map[string]*endpointActivity
	pending []arrival // arrivals while loading
}

// arrival is what activity keeps of a committed event until its counts are loaded.
type arrival struct {
	id         int64
	endpointID string
	at         time.Time
}

type endpointActivity struct {
	events  int64
	last    time.Time
	minutes [60]int   // ring indexed by unix minute % 60
	stamps  [60]int64 // the unix minute each slot holds
}

func (a *endpointActivity) add(at time.Time) {
	a.events++
	if at.After(a.last) {
		a.last = at
	}
	a.bucket(at, 1)
}

// bucket counts n arrivals in at's minute.
func (a *endpointActivity) bucket(at time.Time, n int) {
	m := at.Unix() / 60
	slot := m % 60
	if a.stamps[slot] != m {
		a.stamps[slot], a.minutes[slot] = m, 0
	}
	a.minutes[slot] += n
}

// Observe counts newly stored events. It is one of ingest's committed callbacks: it must not
// block nor keep evs.
func (s *Service) Observe(evs []*hook.Event) {
	a := &s.activity
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ev := range evs {
		if !a.ready {
			a.pending = append(a.pending, arrival{ev.ID, ev.EndpointID, ev.ReceivedAt})
			continue
		}
		a.get(ev.EndpointID).add(ev.ReceivedAt)
	}
}

func (a *activity) get(id string) *endpointActivity {
	if a.byID == nil {
		a.byID = map[string]*endpointActivity{}
	}
	ea := a.byID[id]
	if ea == nil {
		ea = &endpointActivity{}
		a.byID[id] = ea
	}
	return ea
}

// ReloadActivity counts events per endpoint again, in the background: at start, and after
// events were removed.
func (s *Service) ReloadActivity() {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := s.activity.load(s.ctx, s.opts.Store, s.opts.Clock.Now()); err != nil && s.ctx.Err() == nil {
			s.opts.Log.Error("counting events failed", "err", err)
		}
	}()
}

// load reads counts and the last hour from the database, up to the newest event at the time.
// Events committed meanwhile are queued and counted afterwards if the load did not see them.
func (a *activity) load(ctx context.Context, store Store, now time.Time) error {
	a.mu.Lock()
	a.ready = false // queue arrivals until the new counts are in
	a.mu.Unlock()
	upTo, err := store.NewestEventID(ctx)
	if err != nil {
		return err
	}
	counts, err := store.CountByEndpoint(ctx, upTo)
	if err != nil {
		return err
	}
	arrivals, err := store.ArrivalsSince(ctx, now.Add(-time.Hour), upTo)
	if err != nil {
		return err
	}
	byID := map[string]*endpointActivity{}
	for id, st := range counts {
		byID[id] = &endpointActivity{events: st.Events, last: st.Last}
	}
	for _, ar := range arrivals {
		if ea := byID[ar.EndpointID]; ea != nil {
			ea.bucket(ar.At, ar.Count)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byID = byID
	for _, ar := range a.pending {
		if ar.id > upTo {
			a.get(ar.endpointID).add(ar.at)
		}
	}
	a.pending, a.ready = nil, true
	return nil
}

// Activity returns an endpoint's event count, newest event and events per minute over the last
// hour. It answers from memory.
func (s *Service) Activity(endpointID string) hook.Activity {
	a := &s.activity
	a.mu.Lock()
	defer a.mu.Unlock()
	var out hook.Activity
	ea := a.byID[endpointID]
	if ea == nil {
		return out
	}
	out.Events, out.Last = ea.events, ea.last
	nowMin := s.opts.Clock.Now().Unix() / 60
	for i := range 60 {
		m := nowMin - 59 + int64(i)
		slot := m % 60
		if ea.stamps[slot] == m {
			out.PerMinute[i] = ea.minutes[slot]
		}
	}
	return out
}
