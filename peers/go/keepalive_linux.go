//go:build linux

package main

import (
	"crypto/tls"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Go 1.23's net.KeepAliveConfig emulated on Go 1.19: a Dialer.Control that sets the socket
// options on every socket the dialer creates (before connect; they carry over to the
// connection), with Dialer.KeepAlive = -1 so that Go does not set its own period afterwards.
// Go 1.23's rules: 0 means the default (15 s idle, 15 s interval, 9 probes), a negative value
// leaves the OS setting alone, durations are rounded up to whole seconds.
const (
	defaultKeepAliveIdle     = 15 * time.Second
	defaultKeepAliveInterval = 15 * time.Second
	defaultKeepAliveCount    = 9
)

type dialControl = func(network, address string, c syscall.RawConn) error

func keepAliveControl(config keepAliveConfig) (dialControl, error) {
	return func(network, address string, c syscall.RawConn) error {
		var setErr error
		if err := c.Control(func(fd uintptr) { setErr = applyKeepAlive(int(fd), config) }); err != nil {
			return err
		}
		return setErr
	}, nil
}

func applyKeepAlive(fd int, k keepAliveConfig) error {
	set := func(level, option, value int) error {
		return os.NewSyscallError("setsockopt", syscall.SetsockoptInt(fd, level, option, value))
	}
	if err := set(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1); err != nil {
		return err
	}
	for _, d := range []struct {
		value, fallback time.Duration
		option          int
	}{
		{k.idle, defaultKeepAliveIdle, syscall.TCP_KEEPIDLE},
		{k.interval, defaultKeepAliveInterval, syscall.TCP_KEEPINTVL},
	} {
		value := d.value
		if value < 0 {
			continue
		}
		if value == 0 {
			value = d.fallback
		}
		seconds := int((value + time.Second - 1) / time.Second)
		if err := set(syscall.IPPROTO_TCP, d.option, seconds); err != nil {
			return err
		}
	}
	if k.count >= 0 {
		count := k.count
		if count == 0 {
			count = defaultKeepAliveCount
		}
		if err := set(syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, count); err != nil {
			return err
		}
	}
	return nil
}

// readKeepAlive reads the keep-alive socket options of a connection (for a TLS connection, of
// the TCP connection under it), or nil when they cannot be read.
func readKeepAlive(conn net.Conn) *keepAliveState {
	if t, ok := conn.(*tls.Conn); ok {
		conn = t.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var state keepAliveState
	var getErr error
	err = raw.Control(func(fd uintptr) {
		get := func(level, option int) int {
			value, err := syscall.GetsockoptInt(int(fd), level, option)
			if err != nil && getErr == nil {
				getErr = err
			}
			return value
		}
		state.enabled = get(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) != 0
		state.idle = get(syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		state.interval = get(syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
		state.count = get(syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
	})
	if err != nil || getErr != nil {
		return nil
	}
	return &state
}

// monotonicNow is CLOCK_MONOTONIC in nanoseconds: the clock of the C++ side's
// std::chrono::steady_clock (Go's own monotonic reading has a hidden, per-process origin).
func monotonicNow() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}
