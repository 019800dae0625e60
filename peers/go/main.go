// Command tunedhttp-go-peer is Go's net/http as a project tool: the answer to "what would Go's
// net/http do here" for the tuned C++ client, and the Go side of benchmarks.
//
//	tunedhttp-go-peer client < spec.json   run the requests a JSON document describes
//	tunedhttp-go-peer session              one client driven by JSON-line commands (stdin)
//	tunedhttp-go-peer server [flags]       Go's HTTP/1.1 server answering 200 to everything
//
// docs/go-peer.md describes the input and output formats.
package main

import (
	"fmt"
	"os"
)

const program = "tunedhttp-go-peer"

// Exit statuses, as `tunedhttp request` uses them.
const (
	exitOK     = 0 // every request got a response
	exitFailed = 1 // at least one request failed
	exitUsage  = 2 // bad input: JSON, a duration, a flag
)

const usage = `usage:
  tunedhttp-go-peer client < spec.json
      Runs the requests of one JSON document (stdin) through one net/http Transport built
      like the AWS SDK for Go V2 BuildableClient; prints one JSON line per request and a
      final {"pool": ...} line. Exit 0: every request got a response; 1: some failed;
      2: bad input.
  tunedhttp-go-peer session
      One client (as in client mode) for a whole scenario, driven step by step: line 1 of
      stdin is the config (ready: {"op":"ready"}), then one JSON command per line
      (requests, pool, close_idle), answered by JSON lines; requests run concurrently with
      later commands. EOF on stdin: exit 0 at once. Bad config: exit 2.
  tunedhttp-go-peer server [--listen 127.0.0.1:0] [--tls] [--body-size N]
      Go's net/http server answering every request 200 with a fixed body. Prints its base
      URL (and with --tls the PEM path of its self-signed certificate) and runs until
      SIGINT, SIGTERM or SIGHUP.
See docs/go-peer.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(exitUsage)
	}
	switch os.Args[1] {
	case "client":
		if len(os.Args) != 2 {
			usageError("client takes no arguments (the spec is read from stdin)")
		}
		os.Exit(runClient(os.Stdin, os.Stdout))
	case "session":
		if len(os.Args) != 2 {
			usageError("session takes no arguments (the commands are read from stdin)")
		}
		os.Exit(runSession(os.Stdin, os.Stdout))
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
		os.Exit(exitOK)
	default:
		usageError(fmt.Sprintf("unknown mode %q (client, session or server)", os.Args[1]))
	}
}

// usageError prints one line naming the problem and exits 2.
func usageError(message string) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", program, message)
	os.Exit(exitUsage)
}

// badInput reports bad input on one stderr line and gives the usage exit code (for callers
// that return it rather than exit).
func badInput(err error) int {
	fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
	return exitUsage
}
