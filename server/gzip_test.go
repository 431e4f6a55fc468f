package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

func gunzip(tb testing.TB, b []byte) string {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}
