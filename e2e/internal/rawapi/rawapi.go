// Package rawapi calls a running server's HTTP endpoints from outside its
// process, as a script would, for the cross-process and browser tests: one
// API request with a bearer token, every task of a user by following
// cursors, and a metric scraped from the admin listener.
package rawapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// Call makes one API request and decodes a 2xx JSON answer into out.
func Call(ctx context.Context, base, token, method, path, body string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ListAll returns every task of the user, following cursors.
func ListAll(ctx context.Context, base, token string) (map[authdash.TaskID]authdash.Task, error) {
	all := map[authdash.TaskID]authdash.Task{}
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}, "sort": {"created"}, "order": {"asc"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page authdash.TaskPage
		if err := Call(ctx, base, token, http.MethodGet, "/api/tasks?"+q.Encode(), "", &page); err != nil {
			return nil, err
		}
		for _, task := range page.Items {
			all[task.ID] = task
		}
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

// Metric sums the samples of a metric whose line starts with prefix (name
// and, optionally, the start of its labels) on one admin listener.
func Metric(t testing.TB, base, prefix string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", base, err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
