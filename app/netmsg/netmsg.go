// Package netmsg says why a request over the network failed in a sentence a user can act on,
// instead of Go's chain of errors ("dial tcp: lookup api.github.com on 127.0.0.53:53: …"). The
// error itself is kept (Unwrap) for logs and for errors.Is.
package netmsg

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
)

// Explain is why a request to host failed, as a sentence; "" when err is not a network failure
// it knows.
func Explain(host string, err error) string {
	var dns *net.DNSError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("%s is not a name the network knows: check the address", orName(host, dns.Name))
	case errors.As(err, &dns):
		return fmt.Sprintf("this computer could not look up %s (no answer from its DNS server): is it online?", orName(host, dns.Name))
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection: is anything listening there?", host)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("%s cannot be reached from this computer (no route to it): is it online?", host)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("%s did not answer in time", host)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s closed the connection before answering", host)
	case errors.As(err, &unknown):
		return fmt.Sprintf("%s's certificate is not signed by an authority this computer trusts", host)
	case errors.As(err, &hostname):
		return fmt.Sprintf("%s's certificate is for another name (%s)", host, hostname.Certificate.Subject.CommonName)
	case errors.As(err, &invalid):
		return fmt.Sprintf("%s's certificate is not valid (expired, or not yet valid)", host)
	}
	return ""
}

func orName(host, name string) string {
	if host != "" {
		return host
	}
	return name
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Error is a network failure said in a sentence, wrapping the failure.
type Error struct {
	Sentence string
	Err      error
}

func (e *Error) Error() string { return e.Sentence }
func (e *Error) Unwrap() error { return e.Err }

// Wrap is err said in a sentence when Explain knows it (host from the URL in the error, when
// there is one), else err.
func Wrap(host string, err error) error {
	if host == "" {
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				host = u.Host
			}
		}
	}
	if s := Explain(host, err); s != "" {
		return &Error{Sentence: s, Err: err}
	}
	return err
}

// Sentence is err's text, said in a sentence when it is a network failure Explain knows.
func Sentence(err error) string {
	if err == nil {
		return ""
	}
	return Wrap("", err).Error()
}
