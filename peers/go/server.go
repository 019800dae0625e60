package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const maxServerBodySize = 1 << 30

// runServer is Go's net/http server with its defaults (keep-alive on, no timeouts), HTTP/1.1
// only, answering every request 200 with a fixed body after reading the request body.
func runServer(args []string) int {
	flags := flag.NewFlagSet(program+" server", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	listen := flags.String("listen", "127.0.0.1:0", "address to listen on")
	useTLS := flags.Bool("tls", false, "serve HTTPS with a fresh self-signed certificate")
	bodySize := flags.Int64("body-size", -1, "answer N bytes of 'x' instead of \"ok\\n\"")
	holdHeaders := flags.Bool("hold-headers", false, "never answer: hold every request until the client goes (as tunedhttp serve --fault hold-headers)")
	if err := flags.Parse(args); err != nil {
		usageError("server: " + err.Error())
	}
	if flags.NArg() > 0 {
		usageError(fmt.Sprintf("server: unexpected argument %q", flags.Arg(0)))
	}
	body := []byte("ok\n")
	if *bodySize >= 0 {
		if *bodySize > maxServerBodySize {
			usageError(fmt.Sprintf("server: --body-size: %d is over %d", *bodySize, maxServerBodySize))
		}
		body = bytes.Repeat([]byte{'x'}, int(*bodySize))
	}
	length := strconv.Itoa(len(body))

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		usageError("server: --listen: " + err.Error())
	}
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if *holdHeaders {
				<-r.Context().Done() // the client closed, or the server stops
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", length)
			w.WriteHeader(http.StatusOK)
			w.Write(body)
		}),
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
	}

	scheme, pemPath := "http", ""
	if *useTLS {
		certificate, pemBytes, err := selfSignedCertificate()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: server: certificate: %v\n", program, err)
			return exitFailed
		}
		file, err := os.CreateTemp("", "tunedhttp-go-peer-*.pem")
		if err == nil {
			_, err = file.Write(pemBytes)
			if closeErr := file.Close(); err == nil {
				err = closeErr
			}
			pemPath = file.Name()
		}
		if err != nil {
			if pemPath != "" {
				os.Remove(pemPath)
			}
			fmt.Fprintf(os.Stderr, "%s: server: writing the certificate: %v\n", program, err)
			return exitFailed
		}
		defer os.Remove(pemPath)
		server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
		listener = tls.NewListener(listener, server.TLSConfig)
		scheme = "https"
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	fmt.Printf("%s://%s/\n", scheme, printable(listener.Addr().(*net.TCPAddr)))
	if pemPath != "" {
		fmt.Println(pemPath)
	}
	select {
	case <-signals:
		server.Close()
		return exitOK
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "%s: server: %v\n", program, err)
			return exitFailed
		}
		return exitOK
	}
}

// printable is the listening address as a client reaches it: a wildcard address becomes the
// loopback address of its family.
func printable(addr *net.TCPAddr) string {
	ip := addr.IP
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

// selfSignedCertificate: ECDSA P-256, valid for 127.0.0.1, ::1 and localhost, its own CA (the
// PEM file is what a client trusts).
func selfSignedCertificate() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tunedhttp-go-peer"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certificate := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return certificate, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
