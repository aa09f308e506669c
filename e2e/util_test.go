package e2e

import (
	"bytes"
	"os/exec"
	"sync"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func lookPath(name string) (string, error) { return exec.LookPath(name) }
