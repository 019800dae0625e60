package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client runs the requests of a spec through one http.Client and one Transport.
type client struct {
	spec      *spec
	transport *http.Transport
	http      *http.Client

	outMu sync.Mutex
	out   *bufio.Writer

	dials, reuses, requests, failed int64  // atomic
	opened                          *int64 // atomic: connections dialled, traced or not

	// session mode: each request also reads CLOCK_MONOTONIC at its start and the keep-alive
	// socket options at GotConn.
	session bool

	connMu sync.Mutex
	conns  map[net.Conn]int // our number for each connection (1, 2, ...)
}

func runClient(stdin io.Reader, stdout io.Writer) int {
	s, err := readSpec(stdin)
	if err != nil {
		return badInput(err)
	}
	c, err := newClient(s, stdout)
	if err != nil {
		return badInput(err)
	}
	for i := range s.requests {
		r := &s.requests[i]
		if r.waitBefore > 0 {
			time.Sleep(r.waitBefore)
		}
		var workers sync.WaitGroup
		for w := 1; w <= r.parallel; w++ {
			workers.Add(1)
			go func(worker int) {
				defer workers.Done()
				for seq := 1; seq <= r.count; seq++ {
					c.do(i, worker, seq, r)
					if seq < r.count && r.interval > 0 {
						time.Sleep(r.interval)
					}
				}
			}(w)
		}
		workers.Wait()
	}
	c.transport.CloseIdleConnections()
	c.writeLine([]byte(fmt.Sprintf(`{"pool":{"dials":%d,"reuses":%d,"requests":%d}}`,
		atomic.LoadInt64(&c.dials), atomic.LoadInt64(&c.reuses), atomic.LoadInt64(&c.requests))))
	if atomic.LoadInt64(&c.failed) > 0 {
		return exitFailed
	}
	return exitOK
}

// newClient builds the Transport as the AWS SDK for Go V2 BuildableClient does
// (aws/transport/http: defaultDialer and defaultHTTPTransport), HTTP/1.1 only.
func newClient(s *spec, stdout io.Writer) (*client, error) {
	st := s.settings
	dialer := &net.Dialer{
		Timeout:       st.connect,
		KeepAlive:     st.connKeepAlive,
		FallbackDelay: st.dualStackFallbackDelay,
	}
	if k := st.keepAlive; k != nil && k.enable {
		control, err := keepAliveControl(*k)
		if err != nil {
			return nil, err
		}
		dialer.Control = control
		dialer.KeepAlive = -1 // Go 1.23 ignores KeepAlive when KeepAliveConfig.Enable is set
	}
	dial := dialer.DialContext
	if len(s.resolve) > 0 {
		names, dns := newOverrides(s.resolve)
		overridden := *dialer
		overridden.Resolver = dns.resolver()
		dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(address); err == nil {
				if name, ok := names[resolveKey(host, port)]; ok {
					return overridden.DialContext(ctx, network, net.JoinHostPort(name, port))
				}
			}
			return dialer.DialContext(ctx, network, address)
		}
	}
	// Counts every connection dialled, for `bench`, whose requests carry no httptrace.
	opened := new(int64)
	counted := func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err == nil {
			atomic.AddInt64(opened, 1)
		}
		return conn, err
	}
	proxy := http.ProxyFromEnvironment
	if s.proxy != nil {
		proxy = http.ProxyURL(s.proxy)
	}
	transport := &http.Transport{
		Proxy:                 proxy,
		DialContext:           counted,
		TLSHandshakeTimeout:   st.tlsHandshake,
		MaxIdleConns:          st.maxAllIdleConns,
		MaxIdleConnsPerHost:   st.maxHostIdleConns,
		IdleConnTimeout:       st.idleConn,
		ExpectContinueTimeout: st.expectContinue,
		ResponseHeaderTimeout: st.responseHeader,
		ForceAttemptHTTP2:     false,
		// A non-nil empty map: HTTP/2 is never negotiated.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            s.roots,
			InsecureSkipVerify: s.insecure,
		},
	}
	return &client{
		spec:      s,
		transport: transport,
		// Redirects are not followed: the 3xx is the response (as `tunedhttp request` does).
		http: &http.Client{
			Transport:     transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		out:    bufio.NewWriter(stdout),
		conns:  map[net.Conn]int{},
		opened: opened,
	}, nil
}

func (c *client) writeLine(line []byte) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.Write(line)
	c.out.WriteByte('\n')
	c.out.Flush()
}

func (c *client) connNumber(conn net.Conn) int {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	n, ok := c.conns[conn]
	if !ok {
		n = len(c.conns) + 1
		c.conns[conn] = n
	}
	return n
}

// do sends one request, reads its body to the end and prints its line.
func (c *client) do(specIndex, worker, seq int, r *requestSpec) {
	rec, result := c.run(r)
	c.writeLine(rec.line(result, func(field func(name, value string)) {
		field("spec", strconv.Itoa(specIndex))
		field("worker", strconv.Itoa(worker))
		field("seq", strconv.Itoa(seq))
	}, nil))
}

// run sends one request and reads its body to the end.
func (c *client) run(r *requestSpec) (*recorder, *outcome) {
	atomic.AddInt64(&c.requests, 1)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if r.deadline > 0 {
		ctx, cancel = context.WithTimeout(ctx, r.deadline)
	}
	defer cancel()
	rec := &recorder{client: c, ctx: ctx, points: map[string]*point{}}
	if c.session {
		rec.monoStart = monotonicNow() // just before start: the same instant, on the C++ clock
	}
	rec.start = time.Now()
	ctx = httptrace.WithClientTrace(ctx, rec.hooks())

	result := &outcome{}
	req, err := newRequest(ctx, r)
	var resp *http.Response
	if err == nil {
		rejected := false
		if proxy, _ := c.transport.Proxy(req); proxy != nil && req.URL.Scheme == "https" {
			rejected = true // refined below, once the error is known
		}
		resp, err = c.http.Do(req)
		var u *url.Error
		if errors.As(err, &u) {
			err = u.Err // Go's error without the `Get "URL": ` prefix of Client.Do
		}
		if err != nil && rejected {
			rec.mu.Lock()
			rejected = rec.connected && rec.points["tls_handshake_start"] == nil &&
				rec.points["got_conn"] == nil && isBareError(err)
			rec.mu.Unlock()
		}
		result.rejected = rejected
	}
	if err == nil {
		rec.mark("got_response_headers")
		result.bodyBytes, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil {
			rec.mark("response_done")
			result.status = resp.StatusCode
			result.message = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
		}
	}
	result.elapsed = time.Since(rec.start)
	if err != nil {
		f := &failure{err: err, text: err.Error(), expired: ctx.Err() == context.DeadlineExceeded,
			rejected: result.rejected}
		result.err = errorName(f)
		result.message = f.text
		atomic.AddInt64(&c.failed, 1)
	}
	return rec, result
}

type outcome struct {
	status    int // 0: none (failed)
	err       string
	message   string
	elapsed   time.Duration
	bodyBytes int64
	rejected  bool
}

func newRequest(ctx context.Context, r *requestSpec) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = strings.NewReader(*r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		var u *url.Error
		if errors.As(err, &u) {
			return nil, &parseError{err}
		}
		return nil, err
	}
	if r.bodySize >= 0 {
		size := r.bodySize
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) { return newFiller(size), nil }
		req.Body, _ = req.GetBody()
		if size == 0 {
			req.Body, req.GetBody = http.NoBody, nil
		}
	}
	for name, value := range r.headers {
		if strings.EqualFold(name, "Host") {
			req.Host = value // Go sends req.Host, never Header["Host"]
			continue
		}
		req.Header.Set(name, value)
	}
	return req, nil
}

// filler is a body of n bytes of 'x', generated as it is read.
type filler struct{ left int64 }

var fillerChunk = bytes.Repeat([]byte{'x'}, 32*1024)

func newFiller(n int64) io.ReadCloser { return &filler{left: n} }

func (f *filler) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n := 0
	for n < len(p) {
		n += copy(p[n:], fillerChunk)
	}
	f.left -= int64(n)
	return n, nil
}

func (f *filler) Close() error { return nil }

// recorder holds one request's trace: each trace point's time in ms since the request began
// (a point seen twice keeps its later time, except dial_start: the first dns_start or
// connect_start), the
// connect attempts, and what GotConn said.
type recorder struct {
	client    *client
	ctx       context.Context // the request's context before tracing (its deadline)
	start     time.Time
	monoStart int64 // session mode: CLOCK_MONOTONIC in ns at start

	mu        sync.Mutex
	points    map[string]*point
	order     int
	connects  []*attempt
	connected bool // some connect attempt succeeded
	gotConns  int
	reused    bool
	idle      time.Duration
	conn      int
	keepAlive *keepAliveState // session mode: the options of the connection at GotConn
}

type point struct {
	ms    float64
	order int
}

type attempt struct {
	address, family string
	start, done     float64
	finished        bool
	err             error
	expired         bool // the caller's deadline had expired when the attempt ended
}

func (r *recorder) now() float64 { return float64(time.Since(r.start).Nanoseconds()) / 1e6 }

func (r *recorder) markLocked(name string, ms float64) {
	if p, ok := r.points[name]; ok {
		p.ms = ms
		return
	}
	r.order++
	r.points[name] = &point{ms: ms, order: r.order}
}

func (r *recorder) mark(name string) {
	ms := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked(name, ms)
}

func (r *recorder) hooks() *httptrace.ClientTrace {
	mark := func(name string) func() { return func() { r.mark(name) } }
	return &httptrace.ClientTrace{
		GetConn:              func(string) { r.mark("get_conn") },
		DNSStart:             r.dnsStart,
		DNSDone:              func(httptrace.DNSDoneInfo) { r.mark("dns_done") },
		ConnectStart:         r.connectStart,
		ConnectDone:          r.connectDone,
		TLSHandshakeStart:    mark("tls_handshake_start"),
		TLSHandshakeDone:     func(tls.ConnectionState, error) { r.mark("tls_handshake_done") },
		GotConn:              r.gotConn,
		WroteHeaders:         mark("wrote_headers"),
		Wait100Continue:      mark("wait_100_continue"),
		Got100Continue:       mark("got_100_continue"),
		WroteRequest:         func(httptrace.WroteRequestInfo) { r.mark("wrote_request") },
		GotFirstResponseByte: mark("got_first_response_byte"),
		Got1xxResponse: func(int, textproto.MIMEHeader) error {
			r.mark("got_1xx_response")
			return nil
		},
		PutIdleConn: func(err error) {
			if err == nil {
				r.mark("put_idle_conn")
			}
		},
	}
}

// dnsStart also starts the dial: Go's Dialer.Timeout (connect) covers the name's resolution, so
// dial_start is the earlier of the first DNSStart and the first ConnectStart.
func (r *recorder) dnsStart(httptrace.DNSStartInfo) {
	ms := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.points["dial_start"] == nil {
		r.markLocked("dial_start", ms)
	}
	r.markLocked("dns_start", ms)
}

func (r *recorder) connectStart(network, address string) {
	ms := r.now()
	family := "tcp6"
	if host, _, err := net.SplitHostPort(address); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			family = "tcp4"
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.points["dial_start"] == nil {
		r.markLocked("dial_start", ms)
	}
	r.markLocked("connect_start", ms)
	r.connects = append(r.connects, &attempt{address: address, family: family, start: ms})
}

func (r *recorder) connectDone(network, address string, err error) {
	ms := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked("connect_done", ms)
	pending := 0
	for _, a := range r.connects {
		if a.address == address && !a.finished {
			a.finished, a.done, a.err = true, ms, err
			a.expired = r.ctx.Err() == context.DeadlineExceeded
			break
		}
	}
	for _, a := range r.connects {
		if !a.finished {
			pending++
		}
	}
	// dial_done: the first attempt that connected, or the last failure when all failed.
	if err == nil && !r.connected {
		r.connected = true
		r.markLocked("dial_done", ms)
	} else if err != nil && !r.connected && pending == 0 {
		r.markLocked("dial_done", ms)
	}
}

func (r *recorder) gotConn(info httptrace.GotConnInfo) {
	ms := r.now()
	number := r.client.connNumber(info.Conn)
	var keepAlive *keepAliveState
	if r.client.session {
		keepAlive = readKeepAlive(info.Conn)
	}
	if info.Reused {
		atomic.AddInt64(&r.client.reuses, 1)
	} else {
		atomic.AddInt64(&r.client.dials, 1)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked("got_conn", ms)
	r.gotConns++
	r.reused, r.conn = info.Reused, number
	r.keepAlive = keepAlive
	r.idle = 0
	if info.WasIdle {
		r.idle = info.IdleTime
	}
}

// line is the request's JSON line, keys in a fixed order, trace points in time order: the keys
// head writes, the request's own keys, then the keys tail writes (head and tail may be nil).
func (r *recorder) line(o *outcome, head, tail func(field func(name, value string))) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	field := func(name string, value string) {
		if b.Len() > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte('{')
		}
		b.WriteString(`"` + name + `":`)
		b.WriteString(value)
	}
	if head != nil {
		head(field)
	}
	if o.status != 0 {
		field("status", strconv.Itoa(o.status))
	} else {
		field("status", "null")
	}
	if o.err != "" {
		field("error", jsonString(o.err))
	} else {
		field("error", "null")
	}
	field("message", jsonString(o.message))
	field("elapsed_ms", ms(float64(o.elapsed.Nanoseconds())/1e6))
	field("reused", strconv.FormatBool(r.reused))
	if r.conn != 0 {
		field("connection", strconv.Itoa(r.conn))
	} else {
		field("connection", "null")
	}
	field("idle_ms", ms(float64(r.idle.Nanoseconds())/1e6))
	field("retried", strconv.FormatBool(r.gotConns > 1))
	field("body_bytes", strconv.FormatInt(o.bodyBytes, 10))

	names := make([]string, 0, len(r.points))
	for name := range r.points {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := r.points[names[i]], r.points[names[j]]
		if a.ms != b.ms {
			return a.ms < b.ms
		}
		return a.order < b.order
	})
	var trace bytes.Buffer
	trace.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			trace.WriteByte(',')
		}
		trace.WriteString(jsonString(name) + ":" + ms(r.points[name].ms))
	}
	trace.WriteByte('}')
	field("trace", trace.String())

	var connects bytes.Buffer
	connects.WriteByte('[')
	for i, a := range r.connects {
		if i > 0 {
			connects.WriteByte(',')
		}
		done, errName, message := "null", "null", "null"
		if a.finished {
			done = ms(a.done)
		}
		if a.err != nil {
			f := &failure{err: a.err, text: a.err.Error(), expired: a.expired}
			errName, message = jsonString(errorName(f)), jsonString(f.text)
		}
		fmt.Fprintf(&connects, `{"address":%s,"family":%s,"start_ms":%s,"done_ms":%s,"error":%s,"message":%s}`,
			jsonString(a.address), jsonString(a.family), ms(a.start), done, errName, message)
	}
	connects.WriteByte(']')
	field("connects", connects.String())
	if tail != nil {
		tail(field)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

func jsonString(s string) string {
	var b bytes.Buffer
	encoder := json.NewEncoder(&b)
	encoder.SetEscapeHTML(false)
	encoder.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func typeName(v interface{}) string { return fmt.Sprintf("%T", v) }
