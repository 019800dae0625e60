//go:build !linux

package main

import (
	"errors"
	"syscall"
)

type dialControl = func(network, address string, c syscall.RawConn) error

func keepAliveControl(config keepAliveConfig) (dialControl, error) {
	return nil, errors.New("settings.keep_alive: only supported on Linux")
}
