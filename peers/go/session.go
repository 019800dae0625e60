package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// `session` mode: one client (one http.Client and Transport, built as in `client` mode) for a
// whole scenario, driven by JSON lines on stdin and answering with JSON lines on stdout.
//
//	line 1: the config (client mode's document without `requests`, plus `ca_pem`) -> {"op":"ready"}
//	{"op":"requests","id":N,"requests":[...]} -> later, one {"op":"result",...} line per request
//	{"op":"pool","id":N}                      -> {"op":"pool","id":N,"dials":..,"reuses":..,"requests":..}
//	{"op":"close_idle","id":N}                -> {"op":"done","id":N}
//	{"op":"bench","id":N,"url":U,"workers":W,"count":C}
//	                                          -> {"op":"bench","id":N,"elapsed_ns":..,"failed":..,"dials":..}
//	  C GETs of U from W goroutines, as fast as they go, without httptrace or result lines:
//	  Go's client for the benchmarks (bench/peers.cpp), timed by Go itself.
//	anything else                             -> {"op":"error","id":N,"message":"..."}
//
// Requests run in their own goroutines while later commands are read. EOF on stdin exits 0 at
// once, abandoning the requests still in flight.

// keepAliveState is what getsockopt says about a connection's keep-alive options.
type keepAliveState struct {
	enabled               bool // SO_KEEPALIVE
	idle, interval, count int  // TCP_KEEPIDLE, TCP_KEEPINTVL (seconds), TCP_KEEPCNT
}

type sessionCommand struct {
	Op       *string           `json:"op"`
	ID       *int64            `json:"id"`
	Requests []json.RawMessage `json:"requests"`
	URL      *string           `json:"url"`     // bench
	Workers  *int              `json:"workers"` // bench
	Count    *int64            `json:"count"`   // bench
}

// sessionRequestDoc is one request of a `requests` command: a request spec of `client` mode
// without count, parallel, interval and wait_before (each entry is one request).
type sessionRequestDoc struct {
	Method   *string           `json:"method"`
	URL      *string           `json:"url"`
	Headers  map[string]string `json:"headers"`
	Body     *string           `json:"body"`
	BodySize *int64            `json:"body_size"`
	Deadline *string           `json:"deadline"`
}

func runSession(stdin io.Reader, stdout io.Writer) int {
	in := bufio.NewReaderSize(stdin, 64<<10)
	line, readErr := in.ReadBytes('\n')
	if readErr != nil && readErr != io.EOF {
		fmt.Fprintf(os.Stderr, "%s: reading stdin: %v\n", program, readErr)
		return exitUsage
	}
	s, err := readConfig(line)
	if err != nil {
		return badInput(err)
	}
	c, err := newClient(s, stdout)
	if err != nil {
		return badInput(err)
	}
	c.session = true
	c.writeLine([]byte(`{"op":"ready"}`))
	for readErr == nil {
		line, readErr = in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			c.command(line)
		}
	}
	// EOF (or a failed read): exit at once, without waiting for the requests in flight. The
	// output lock stays held, so that no line is cut in half by the exit.
	c.outMu.Lock()
	return exitOK
}

// readConfig decodes and validates line 1.
func readConfig(line []byte) (*spec, error) {
	const where = "on stdin line 1"
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, &inputError{"bad JSON " + where + ": empty (expected the config object)"}
	}
	decoder := json.NewDecoder(bytes.NewReader(line))
	decoder.DisallowUnknownFields()
	var doc configDoc
	if err := decoder.Decode(&doc); err != nil {
		return nil, jsonError(where, err)
	}
	var extra json.RawMessage
	if err := decoder.Decode(&extra); err != io.EOF {
		return nil, &inputError{"bad JSON " + where + ": more than one JSON value"}
	}
	return validateConfig(&doc)
}

// command runs one command line. It never blocks on a request: `requests` only starts them.
func (c *client) command(line []byte) {
	// The id for an error reply, read leniently first so that a bad command still names it.
	id := "null"
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &probe) == nil && probe.ID != nil {
		var n *int64
		if json.Unmarshal(probe.ID, &n) == nil && n != nil {
			id = strconv.FormatInt(*n, 10)
		}
	}
	fail := func(err error) {
		c.writeLine([]byte(fmt.Sprintf(`{"op":"error","id":%s,"message":%s}`, id, jsonString(err.Error()))))
	}

	decoder := json.NewDecoder(bytes.NewReader(line))
	decoder.DisallowUnknownFields()
	var cmd sessionCommand
	if err := decoder.Decode(&cmd); err != nil {
		fail(jsonError("", err))
		return
	}
	var extra json.RawMessage
	if err := decoder.Decode(&extra); err != io.EOF {
		fail(&inputError{"bad JSON: more than one JSON value on the line"})
		return
	}
	if cmd.ID == nil {
		fail(&inputError{"id: missing (an integer)"})
		return
	}
	if cmd.Op == nil {
		fail(&inputError{"op: missing (requests, pool or close_idle)"})
		return
	}
	if *cmd.Op != "requests" && cmd.Requests != nil {
		fail(badField("requests", "only with op requests"))
		return
	}
	switch *cmd.Op {
	case "requests":
		specs, err := sessionRequests(cmd.Requests)
		if err != nil {
			fail(err)
			return
		}
		for i := range specs {
			go c.sessionRequest(id, i, &specs[i])
		}
	case "pool":
		c.writeLine([]byte(fmt.Sprintf(`{"op":"pool","id":%s,"dials":%d,"reuses":%d,"requests":%d}`,
			id, atomic.LoadInt64(&c.dials), atomic.LoadInt64(&c.reuses), atomic.LoadInt64(&c.requests))))
	case "close_idle":
		c.transport.CloseIdleConnections()
		c.writeLine([]byte(fmt.Sprintf(`{"op":"done","id":%s}`, id)))
	case "bench":
		if cmd.URL == nil || cmd.Workers == nil || cmd.Count == nil {
			fail(&inputError{"bench: needs url, workers and count"})
			return
		}
		if *cmd.Workers < 1 || *cmd.Workers > maxParallel || *cmd.Count < 1 {
			fail(&inputError{fmt.Sprintf("bench: workers 1..%d and count >= 1", maxParallel)})
			return
		}
		go c.bench(id, *cmd.URL, *cmd.Workers, *cmd.Count)
	default:
		fail(badField("op", "unknown %s (requests, pool, close_idle or bench)", strconv.Quote(*cmd.Op)))
	}
}

// bench sends `count` GETs of `url` from `workers` goroutines and reports Go's own timing.
func (c *client) bench(id, url string, workers int, count int64) {
	var next, failed int64
	dialsBefore := atomic.LoadInt64(c.opened)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= count {
				resp, err := c.http.Get(url)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	c.writeLine([]byte(fmt.Sprintf(`{"op":"bench","id":%s,"elapsed_ns":%d,"failed":%d,"dials":%d}`,
		id, elapsed.Nanoseconds(), failed, atomic.LoadInt64(c.opened)-dialsBefore)))
}

// sessionRequests validates every request of a `requests` command; one bad request refuses
// the whole command, and nothing is sent.
func sessionRequests(raw []json.RawMessage) ([]requestSpec, error) {
	if raw == nil {
		return nil, badField("requests", "missing (a list of requests)")
	}
	if len(raw) == 0 || len(raw) > maxParallel {
		return nil, badField("requests", "needs 1..%d requests, got %d", maxParallel, len(raw))
	}
	specs := make([]requestSpec, 0, len(raw))
	for i, text := range raw {
		prefix := fmt.Sprintf("requests[%d]", i)
		decoder := json.NewDecoder(bytes.NewReader(text))
		decoder.DisallowUnknownFields()
		var doc sessionRequestDoc
		if err := decoder.Decode(&doc); err != nil {
			var typeErr *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typeErr) && typeErr.Field != "":
				return nil, badField(prefix+"."+typeErr.Field, "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
			case errors.As(err, &typeErr):
				return nil, badField(prefix, "expected a JSON object, got JSON %s", typeErr.Value)
			}
			return nil, badField(prefix, "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		spec, err := validateRequest(i, &requestDoc{Method: doc.Method, URL: doc.URL,
			Headers: doc.Headers, Body: doc.Body, BodySize: doc.BodySize, Deadline: doc.Deadline})
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// sessionRequest runs one request of a `requests` command and prints its result line.
func (c *client) sessionRequest(id string, index int, r *requestSpec) {
	rec, result := c.run(r)
	c.writeLine(rec.line(result, func(field func(name, value string)) {
		field("op", `"result"`)
		field("id", id)
		field("index", strconv.Itoa(index))
		field("mono_start_ns", strconv.FormatInt(rec.monoStart, 10))
		field("spec", strconv.Itoa(index))
		field("worker", "1")
		field("seq", "1")
	}, func(field func(name, value string)) {
		k := rec.keepAlive
		if k == nil {
			field("keep_alive", "null")
			return
		}
		field("keep_alive", fmt.Sprintf(`{"enabled":%t,"idle_s":%d,"interval_s":%d,"count":%d}`,
			k.enabled, k.idle, k.interval, k.count))
	}))
}
