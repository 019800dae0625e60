//go:build !linux

package main

import (
	"errors"
	"net"
	"syscall"
	"time"
)

type dialControl = func(network, address string, c syscall.RawConn) error

func keepAliveControl(config keepAliveConfig) (dialControl, error) {
	return nil, errors.New("settings.keep_alive: only supported on Linux")
}

// readKeepAlive needs Linux's socket options: elsewhere the session prints "keep_alive": null.
func readKeepAlive(net.Conn) *keepAliveState { return nil }

// monotonicNow stands in for CLOCK_MONOTONIC off Linux: ns since an arbitrary origin.
func monotonicNow() int64 { return int64(time.Since(processStart)) }

var processStart = time.Now()
