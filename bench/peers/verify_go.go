// verify_go is the program a Go shop would write instead of certscan:
// crypto/x509 parses each certificate and checks its signature with the
// signer whose subject is its issuer, on N goroutines.
//
// Usage: verify_go SIGNERS.json CERTS.bin WORKERS
// Prints one JSON line: certificates, verified, seconds.
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type signerEntry struct {
	Certificates string `json:"certificates"`
}

func loadSigners(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var envelope struct {
		Result []signerEntry `json:"result"`
	}
	if err := json.Unmarshal(data, &envelope); err != nil {
		return nil, err
	}
	var signers []*x509.Certificate
	for _, entry := range envelope.Result {
		block, _ := pem.Decode([]byte(entry.Certificates))
		if block == nil {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err == nil {
			signers = append(signers, cert)
		}
	}
	return signers, nil
}

func readCerts(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs [][]byte
	for pos := 0; pos+4 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[pos:]))
		certs = append(certs, data[pos+4:pos+4+n])
		pos += 4 + n
	}
	return certs, nil
}

func check(der []byte, signers []*x509.Certificate) bool {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return false
	}
	for _, signer := range signers {
		if !bytes.Equal(cert.RawIssuer, signer.RawSubject) {
			continue
		}
		err := signer.CheckSignature(cert.SignatureAlgorithm,
			cert.RawTBSCertificate, cert.Signature)
		return err == nil
	}
	return false
}

func main() {
	signers, err := loadSigners(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	certs, err := readCerts(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	workers, _ := strconv.Atoi(os.Args[3])
	var verified int64
	var next int64 = -1
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(certs)) {
					return
				}
				if check(certs[i], signers) {
					atomic.AddInt64(&verified, 1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("{\"peer\": \"go-crypto-x509\", \"certificates\": %d, "+
		"\"verified\": %d, \"seconds\": %f}\n",
		len(certs), verified, time.Since(start).Seconds())
}
