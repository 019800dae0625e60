package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The input document of `client` mode, as read from JSON. Every key but `requests` is optional;
// durations are strings in Go syntax (time.ParseDuration). Unknown keys are refused.
type specDoc struct {
	configDoc
	Requests []requestDoc `json:"requests"`
}

// configDoc is the client's configuration: `client` mode's document without `requests`, and
// line 1 of `session` mode.
type configDoc struct {
	Settings *settingsDoc        `json:"settings"`
	Resolve  map[string][]string `json:"resolve"`
	CAFile   *string             `json:"ca_file"`
	CAPEM    *string             `json:"ca_pem"`
	Insecure bool                `json:"insecure"`
	// Proxy: every request through this proxy (http.ProxyURL), loopback included; absent: Go's
	// ProxyFromEnvironment.
	Proxy *string `json:"proxy"`
}

type settingsDoc struct {
	Connect                *string `json:"connect"`
	ConnKeepAlive          *string `json:"conn_keep_alive"`
	TLSHandshake           *string `json:"tls_handshake"`
	ExpectContinue         *string `json:"expect_continue"`
	ResponseHeader         *string `json:"response_header"`
	IdleConn               *string `json:"idle_conn"`
	MaxAllIdleConns        *int    `json:"max_all_idle_conns"`
	MaxHostIdleConns       *int    `json:"max_host_idle_conns"`
	DualStackFallbackDelay *string `json:"dual_stack_fallback_delay"`
	// ProxyConnect: Go's bound on a proxy's answer to CONNECT is a fixed minute (dialConn); only
	// that value can be mirrored, any other is refused by name.
	ProxyConnect *string       `json:"proxy_connect"`
	KeepAlive    *keepAliveDoc `json:"keep_alive"`
}

// keepAliveDoc is Go 1.23's net.KeepAliveConfig.
type keepAliveDoc struct {
	Enable   *bool   `json:"enable"`
	Idle     *string `json:"idle"`
	Interval *string `json:"interval"`
	Count    *int    `json:"count"`
}

type requestDoc struct {
	Method     *string           `json:"method"`
	URL        *string           `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       *string           `json:"body"`
	BodySize   *int64            `json:"body_size"`
	Count      *int              `json:"count"`
	Parallel   *int              `json:"parallel"`
	Interval   *string           `json:"interval"`
	Deadline   *string           `json:"deadline"`
	WaitBefore *string           `json:"wait_before"`
}

// The validated input.
type spec struct {
	settings settings
	resolve  map[string][]net.IP // "host:port" (host lower-cased) -> addresses, in the given order
	roots    *x509.CertPool      // nil: the system store
	insecure bool
	proxy    *url.URL // nil: the environment's
	requests []requestSpec
}

// settings holds the eight settings of tunedhttp::Settings plus the dialer's extras, with the
// AWS SDK for Go V2 BuildableClient defaults.
type settings struct {
	connect                time.Duration
	connKeepAlive          time.Duration
	tlsHandshake           time.Duration
	expectContinue         time.Duration
	responseHeader         time.Duration
	idleConn               time.Duration
	maxAllIdleConns        int
	maxHostIdleConns       int
	dualStackFallbackDelay time.Duration
	keepAlive              *keepAliveConfig // nil: not set (Go 1.19's Dialer.KeepAlive applies)
}

// keepAliveConfig mirrors Go 1.23's net.KeepAliveConfig.
type keepAliveConfig struct {
	enable   bool
	idle     time.Duration // 0: 15s; negative: leave the OS value
	interval time.Duration // 0: 15s; negative: leave the OS value
	count    int           // 0: 9; negative: leave the OS value
}

func defaultSettings() settings {
	return settings{
		connect:                30 * time.Second,
		connKeepAlive:          30 * time.Second,
		tlsHandshake:           10 * time.Second,
		expectContinue:         1 * time.Second,
		responseHeader:         0,
		idleConn:               90 * time.Second,
		maxAllIdleConns:        100,
		maxHostIdleConns:       10,
		dualStackFallbackDelay: 300 * time.Millisecond,
	}
}

type requestSpec struct {
	method     string
	url        string
	headers    map[string]string
	body       *string // nil: no body (unless bodySize >= 0)
	bodySize   int64   // -1: not set
	count      int
	parallel   int
	interval   time.Duration
	deadline   time.Duration // 0: none
	waitBefore time.Duration
}

// Limits on the input: the same caps the scenarios have.
const (
	maxParallel = 1000
	maxCount    = 1000000
	maxBodySize = 16 << 30
	maxResolve  = 64 // addresses per `resolve` key
)

// inputError is a bad input: one line naming the field, exit 2.
type inputError struct{ message string }

func (e *inputError) Error() string { return e.message }

func badField(field, format string, args ...interface{}) error {
	return &inputError{field + ": " + fmt.Sprintf(format, args...)}
}

// readSpec decodes and validates the one JSON document on r.
func readSpec(r io.Reader) (*spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &inputError{"reading stdin: " + err.Error()}
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	var doc specDoc
	if err := decoder.Decode(&doc); err != nil {
		return nil, jsonError("on stdin", err)
	}
	var extra json.RawMessage
	if err := decoder.Decode(&extra); err != io.EOF {
		return nil, &inputError{"bad JSON on stdin: more than one JSON document"}
	}
	return validate(&doc)
}

// jsonError names a decoding error; where says where the JSON came from ("on stdin").
func jsonError(where string, err error) error {
	bad := "bad JSON"
	if where != "" {
		bad += " " + where
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &inputError{fmt.Sprintf("%s at byte %d: %v", bad, syntax.Offset, err)}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &inputError{fmt.Sprintf("%s: expected a JSON object, got JSON %s", bad, typeErr.Value)}
		}
		return badField(typeErr.Field, "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
	case err == io.EOF:
		return &inputError{bad + ": empty input (expected one JSON object)"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &inputError{bad + ": " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return &inputError{bad + ": " + err.Error()}
}

func parseDuration(field string, text *string, into *time.Duration) error {
	if text == nil {
		return nil
	}
	d, err := time.ParseDuration(*text)
	if err != nil {
		return badField(field, "bad duration %s (Go syntax: 250ms, 1.5s, 2m)", strconv.Quote(*text))
	}
	*into = d
	return nil
}

func validate(doc *specDoc) (*spec, error) {
	if doc.Requests == nil {
		return nil, &inputError{"requests: missing (a list of request specs)"}
	}
	out, err := validateConfig(&doc.configDoc)
	if err != nil {
		return nil, err
	}
	for i := range doc.Requests {
		request, err := validateRequest(i, &doc.Requests[i])
		if err != nil {
			return nil, err
		}
		out.requests = append(out.requests, request)
	}
	return out, nil
}

// validateConfig checks everything but the requests.
func validateConfig(doc *configDoc) (*spec, error) {
	out := &spec{settings: defaultSettings(), insecure: doc.Insecure}
	if s := doc.Settings; s != nil {
		o := &out.settings
		for _, d := range []struct {
			field string
			text  *string
			into  *time.Duration
		}{
			{"settings.connect", s.Connect, &o.connect},
			{"settings.conn_keep_alive", s.ConnKeepAlive, &o.connKeepAlive},
			{"settings.tls_handshake", s.TLSHandshake, &o.tlsHandshake},
			{"settings.expect_continue", s.ExpectContinue, &o.expectContinue},
			{"settings.response_header", s.ResponseHeader, &o.responseHeader},
			{"settings.idle_conn", s.IdleConn, &o.idleConn},
			{"settings.dual_stack_fallback_delay", s.DualStackFallbackDelay, &o.dualStackFallbackDelay},
		} {
			if err := parseDuration(d.field, d.text, d.into); err != nil {
				return nil, err
			}
		}
		if s.ProxyConnect != nil {
			var bound time.Duration
			if err := parseDuration("settings.proxy_connect", s.ProxyConnect, &bound); err != nil {
				return nil, err
			}
			if bound != time.Minute {
				return nil, badField("settings.proxy_connect",
					"Go's bound on the answer to CONNECT is a fixed 1m0s (Transport.dialConn); got %s", bound)
			}
		}
		if s.MaxAllIdleConns != nil {
			o.maxAllIdleConns = *s.MaxAllIdleConns
		}
		if s.MaxHostIdleConns != nil {
			o.maxHostIdleConns = *s.MaxHostIdleConns
		}
		if k := s.KeepAlive; k != nil {
			config := &keepAliveConfig{enable: true}
			if k.Enable != nil {
				config.enable = *k.Enable
			}
			if err := parseDuration("settings.keep_alive.idle", k.Idle, &config.idle); err != nil {
				return nil, err
			}
			if err := parseDuration("settings.keep_alive.interval", k.Interval, &config.interval); err != nil {
				return nil, err
			}
			if k.Count != nil {
				config.count = *k.Count
			}
			o.keepAlive = config
		}
	}
	if len(doc.Resolve) > 0 {
		out.resolve = map[string][]net.IP{}
		for key, addresses := range doc.Resolve {
			field := "resolve[" + strconv.Quote(key) + "]"
			host, port, err := net.SplitHostPort(key)
			if err != nil || host == "" {
				return nil, badField(field, "the key must be host:port")
			}
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				return nil, badField(field, "bad port %s", strconv.Quote(port))
			}
			if len(addresses) == 0 || len(addresses) > maxResolve {
				return nil, badField(field, "needs 1..%d addresses", maxResolve)
			}
			var ips []net.IP
			for _, address := range addresses {
				ip := net.ParseIP(strings.Trim(address, "[]"))
				if ip == nil {
					return nil, badField(field, "%s is not an IP address", strconv.Quote(address))
				}
				ips = append(ips, ip)
			}
			out.resolve[resolveKey(host, port)] = ips
		}
	}
	if doc.Proxy != nil {
		proxy, err := url.Parse(*doc.Proxy)
		if err != nil || proxy.Host == "" {
			return nil, badField("proxy", "want http://[user:password@]host:port, got %s", strconv.Quote(*doc.Proxy))
		}
		out.proxy = proxy
	}
	if doc.CAFile != nil && doc.CAPEM != nil {
		return nil, badField("ca_file", "give ca_file or ca_pem, not both")
	}
	if doc.CAFile != nil {
		pem, err := os.ReadFile(*doc.CAFile)
		if err != nil {
			return nil, badField("ca_file", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badField("ca_file", "%s holds no PEM certificate", strconv.Quote(*doc.CAFile))
		}
		out.roots = pool
	}
	if doc.CAPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(*doc.CAPEM)) {
			return nil, badField("ca_pem", "holds no PEM certificate")
		}
		out.roots = pool
	}
	return out, nil
}

func validateRequest(index int, r *requestDoc) (requestSpec, error) {
	prefix := fmt.Sprintf("requests[%d].", index)
	out := requestSpec{method: "GET", bodySize: -1, count: 1, parallel: 1, headers: r.Headers}
	if r.URL == nil {
		return out, badField(prefix+"url", "missing")
	}
	out.url = *r.URL
	if r.Body != nil && r.BodySize != nil {
		return out, badField(prefix+"body", "give body or body_size, not both")
	}
	if r.BodySize != nil {
		if *r.BodySize < 0 || *r.BodySize > maxBodySize {
			return out, badField(prefix+"body_size", "%d is out of range 0..%d", *r.BodySize, int64(maxBodySize))
		}
		out.bodySize = *r.BodySize
	}
	out.body = r.Body
	if r.Body != nil || r.BodySize != nil {
		out.method = "POST"
	}
	if r.Method != nil {
		out.method = *r.Method
	}
	if r.Count != nil {
		if *r.Count < 1 || *r.Count > maxCount {
			return out, badField(prefix+"count", "%d is out of range 1..%d", *r.Count, maxCount)
		}
		out.count = *r.Count
	}
	if r.Parallel != nil {
		if *r.Parallel < 1 || *r.Parallel > maxParallel {
			return out, badField(prefix+"parallel", "%d is out of range 1..%d", *r.Parallel, maxParallel)
		}
		out.parallel = *r.Parallel
	}
	for _, d := range []struct {
		field string
		text  *string
		into  *time.Duration
	}{
		{"interval", r.Interval, &out.interval},
		{"deadline", r.Deadline, &out.deadline},
		{"wait_before", r.WaitBefore, &out.waitBefore},
	} {
		if err := parseDuration(prefix+d.field, d.text, d.into); err != nil {
			return out, err
		}
		if *d.into < 0 {
			return out, badField(prefix+d.field, "must not be negative")
		}
	}
	return out, nil
}

// resolveKey is the canonical form of a `resolve` key and of a dial address.
func resolveKey(host, port string) string {
	return net.JoinHostPort(strings.ToLower(strings.TrimSuffix(host, ".")), port)
}
