package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// failure is what the error table looks at: Go's error, its text, and what the request knew
// when it failed.
type failure struct {
	err      error
	text     string // err.Error()
	expired  bool   // the caller's deadline (the request's context) had expired
	rejected bool   // an https request through a proxy failed after the TCP connect to the
	// proxy and before any TLS handshake, with a bare error: Go's non-2xx CONNECT answer
}

// errorTable maps Go's errors to our short error names (the names of tunedhttp::error_name,
// client/src/error.cpp). The first matching row wins, so the order matters: the caller's
// deadline before Go's timeouts (which also match context.DeadlineExceeded), Go's own
// net/http messages before the system errors they may wrap. No row matches: "go_error".
var errorTable = []struct {
	name  string
	match func(f *failure) bool
}{
	{"max_time_exceeded", func(f *failure) bool { return f.expired }},
	{"invalid_url", func(f *failure) bool {
		var u *parseError
		return errors.As(f.err, &u) || has(f, "http: no Host in request URL") ||
			has(f, `unsupported protocol scheme ""`)
	}},
	{"unsupported_scheme", func(f *failure) bool { return has(f, "unsupported protocol scheme") }},
	{"invalid_request", func(f *failure) bool {
		return has(f, "net/http: invalid header field") || has(f, "net/http: invalid method") ||
			has(f, "http: invalid Host header")
	}},
	{"tls_handshake_timeout", func(f *failure) bool { return has(f, "net/http: TLS handshake timeout") }},
	{"response_header_timeout", func(f *failure) bool {
		return has(f, "net/http: timeout awaiting response headers")
	}},
	{"connect_timeout", func(f *failure) bool { return isDialTimeout(f.err) }},
	{"host_not_found", func(f *failure) bool { var d *net.DNSError; return errors.As(f.err, &d) }},
	{"connection_refused", errno(syscall.ECONNREFUSED)},
	{"connection_reset", errno(syscall.ECONNRESET)},
	{"connection_aborted", errno(syscall.ECONNABORTED)},
	{"timed_out", errno(syscall.ETIMEDOUT)},
	{"broken_pipe", errno(syscall.EPIPE)},
	{"network_unreachable", errno(syscall.ENETUNREACH)},
	{"host_unreachable", errno(syscall.EHOSTUNREACH)},
	{"address_not_available", errno(syscall.EADDRNOTAVAIL)},
	{"too_many_open_files", func(f *failure) bool {
		return errors.Is(f.err, syscall.EMFILE) || errors.Is(f.err, syscall.ENFILE)
	}},
	{"certificate_verify_failed", func(f *failure) bool {
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		var hostname x509.HostnameError
		var roots x509.SystemRootsError
		var constraint x509.ConstraintViolationError
		return errors.As(f.err, &unknown) || errors.As(f.err, &invalid) ||
			errors.As(f.err, &hostname) || errors.As(f.err, &roots) || errors.As(f.err, &constraint)
	}},
	{"proxy_connect_failed", func(f *failure) bool { return f.rejected }},
	{"tls_error", func(f *failure) bool {
		var record tls.RecordHeaderError
		return errors.As(f.err, &record) || has(f, "tls: ")
	}},
	{"malformed_response", func(f *failure) bool { return has(f, "malformed HTTP") }},
	{"response_too_large", func(f *failure) bool { return has(f, "server response headers exceeded") }},
	{"too_many_informational", func(f *failure) bool {
		return has(f, "net/http: too many 1xx informational responses")
	}},
	{"server_closed_connection", func(f *failure) bool {
		return errors.Is(f.err, io.EOF) || errors.Is(f.err, io.ErrUnexpectedEOF) ||
			has(f, "http: server closed idle connection")
	}},
	{"operation_aborted", func(f *failure) bool { return errors.Is(f.err, context.Canceled) }},
}

// errorName is the short name of a failure: the first matching row of errorTable.
func errorName(f *failure) string {
	if f.text == "" && f.err != nil {
		f.text = f.err.Error()
	}
	for _, row := range errorTable {
		if row.match(f) {
			return row.name
		}
	}
	return "go_error"
}

func has(f *failure, text string) bool { return strings.Contains(f.text, text) }

func errno(e syscall.Errno) func(f *failure) bool {
	return func(f *failure) bool { return errors.Is(f.err, e) }
}

// isDialTimeout: a timeout of the dial itself (net.Dialer.Timeout), before the connection
// exists: Go's "dial tcp ...: i/o timeout", also under a "proxyconnect" wrapper.
func isDialTimeout(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if op, ok := err.(*net.OpError); ok && op.Op == "dial" && op.Timeout() {
			return true
		}
	}
	return false
}

// parseError marks an error of http.NewRequest's URL parsing (the request never reached Do).
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// isBareError: an error made by errors.New, with no type telling more (Go's CONNECT failure).
func isBareError(err error) bool {
	return err != nil && errors.Unwrap(err) == nil && strings.HasPrefix(typeName(err), "*errors.")
}
