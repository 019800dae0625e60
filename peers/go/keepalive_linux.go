//go:build linux

package main

import (
	"os"
	"syscall"
	"time"
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
