package app

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// ErrNotLoopback means an admin API address is not on loopback. The admin API can change every
// setting and read every event, so it never listens where another machine could reach it.
var ErrNotLoopback = errors.New("the admin API listens on loopback only (127.0.0.1, [::1] or localhost)")

// CheckAPIListen refuses an admin API address that is not on loopback.
func CheckAPIListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: %w", addr, ErrNotLoopback)
	}
	return nil
}

// Listener names what a ListenError is about.
type Listener string

// Hooktray's two listeners.
const (
	ReceiverListener Listener = "receiver"
	APIListener      Listener = "admin API"
)

// ListenError is a listener that could not open; the CLI and the GUI say how to choose another
// address in their own words.
type ListenError struct {
	Listener Listener
	Addr     string
	InUse    bool // another program has the port
	Err      error
}

func (e *ListenError) Error() string {
	if e.InUse {
		return fmt.Sprintf("%s: address %s is already in use by another program", e.Listener, e.Addr)
	}
	return fmt.Sprintf("%s: listen on %s: %v", e.Listener, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// listen opens a TCP listener with an error a user can act on.
func listen(what Listener, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Listener: what, Addr: addr, InUse: errors.Is(err, syscall.EADDRINUSE), Err: err}
	}
	return ln, nil
}

// listeners opens the receiver's and the admin API's listeners, both or neither.
func listeners(recvAddr, apiAddr string) (recv, api net.Listener, err error) {
	if err := CheckAPIListen(apiAddr); err != nil {
		return nil, nil, err
	}
	if recv, err = listen(ReceiverListener, recvAddr); err != nil {
		return nil, nil, err
	}
	if api, err = listen(APIListener, apiAddr); err != nil {
		recv.Close()
		return nil, nil, err
	}
	return recv, api, nil
}
