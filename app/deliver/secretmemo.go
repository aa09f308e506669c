package deliver

import (
	"context"
	"sync"
)

// secretMemo opens a target's secrets once per batch: a batch of 64 deliveries that sign or log
// in reads its secret from the database once, not 64 times. A secret changed meanwhile is used
// from the next batch on.
type secretMemo struct {
	open     func(ctx context.Context, targetID, purpose string) (string, error)
	targetID string
	mu       sync.Mutex // parallel attempts share the batch's memo
	opened   map[string]string
}

func (e *Engine) memoFor(targetID string) *secretMemo {
	return &secretMemo{open: e.opts.Secret, targetID: targetID}
}

// get opens the secret for purpose, or returns the one opened before; an error is not kept.
func (m *secretMemo) get(ctx context.Context, purpose string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.opened[purpose]; ok {
		return v, nil
	}
	v, err := m.open(ctx, m.targetID, purpose)
	if err != nil {
		return "", err
	}
	if m.opened == nil {
		m.opened = map[string]string{}
	}
	m.opened[purpose] = v
	return v, nil
}
