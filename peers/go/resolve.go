package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The `resolve` overrides (curl's --resolve) go through Go's real resolver and dialer, so that
// a multi-address answer is dialed exactly as net.Dialer dials a resolved name: the answer is
// sorted by RFC 6724, split by family (primaries: the first address's family), the fallback
// family starts after FallbackDelay or as soon as the primaries fail (dialParallel).
//
// Each overridden "host:port" gets a synthetic DNS name that no hosts file or search list can
// match ("r0.tunedhttp-go-peer.invalid."). The dial of an overridden address goes to that name
// through a net.Dialer whose Resolver (PreferGo) sends its queries to fakeDNS: an in-process DNS
// server over net.Pipe (DNS over a stream: two length bytes, then the message), which answers A
// and AAAA from the table. Go's resolver does the rest, trace hooks (dns_start, dns_done)
// included.

const fakeDNSSuffix = ".tunedhttp-go-peer.invalid."

type fakeDNS struct {
	names map[string][]net.IP // rooted, lower-case name -> addresses
}

// newOverrides returns the synthetic name of each `resolve` key and the DNS server for them.
func newOverrides(resolve map[string][]net.IP) (map[string]string, *fakeDNS) {
	names := map[string]string{}
	dns := &fakeDNS{names: map[string][]net.IP{}}
	i := 0
	for key, addresses := range resolve {
		name := fmt.Sprintf("r%d%s", i, fakeDNSSuffix)
		i++
		names[key] = name
		dns.names[name] = addresses
	}
	return names, dns
}

// resolver is a Go resolver that asks only this server.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go d.serve(server)
			return client, nil
		},
	}
}

func (d *fakeDNS) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	for {
		var length [2]byte
		if _, err := io.ReadFull(conn, length[:]); err != nil {
			return
		}
		query := make([]byte, int(length[0])<<8|int(length[1]))
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		answer := d.answer(query)
		if answer == nil {
			return
		}
		framed := append([]byte{byte(len(answer) >> 8), byte(len(answer))}, answer...)
		if _, err := conn.Write(framed); err != nil {
			return
		}
	}
}

const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
	dnsClassIN  = 1
)

// answer builds the response to one query (RFC 1035 §4.1), or nil for a message it cannot read.
func (d *fakeDNS) answer(query []byte) []byte {
	if len(query) < 12 || query[4] != 0 || query[5] != 1 { // exactly one question
		return nil
	}
	// The question: a name as labels (no compression in a question Go sends), type, class.
	var labels []string
	at := 12
	for {
		if at >= len(query) {
			return nil
		}
		n := int(query[at])
		at++
		if n == 0 {
			break
		}
		if n > 63 || at+n > len(query) {
			return nil
		}
		labels = append(labels, string(query[at:at+n]))
		at += n
	}
	if at+4 > len(query) {
		return nil
	}
	qtype := int(query[at])<<8 | int(query[at+1])
	qclass := int(query[at+2])<<8 | int(query[at+3])
	question := query[12 : at+4]

	addresses, known := d.names[strings.ToLower(strings.Join(labels, ".")+".")]
	var rdata [][]byte
	if qclass == dnsClassIN {
		for _, ip := range addresses {
			if v4 := ip.To4(); v4 != nil && qtype == dnsTypeA {
				rdata = append(rdata, v4)
			} else if v4 == nil && qtype == dnsTypeAAAA {
				rdata = append(rdata, ip.To16())
			}
		}
	}
	rcode := byte(0)
	if !known {
		rcode = 3 // NXDOMAIN
	}
	out := []byte{
		query[0], query[1], // ID
		0x80 | 0x04 | query[2]&0x01, // QR, AA, RD copied
		0x80 | rcode,                // RA, RCODE
		0, 1,                        // QDCOUNT
		0, byte(len(rdata)), // ANCOUNT
		0, 0, 0, 0, // NSCOUNT, ARCOUNT
	}
	out = append(out, question...)
	for _, data := range rdata {
		out = append(out,
			0xc0, 12, // the name: a pointer to the question's
			byte(qtype>>8), byte(qtype), 0, dnsClassIN,
			0, 0, 0, 0, // TTL
			0, byte(len(data)))
		out = append(out, data...)
	}
	return out
}
