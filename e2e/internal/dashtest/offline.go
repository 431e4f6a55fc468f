package dashtest

import (
	"context"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// SetOffline cuts the tab off the network or restores it: the page
// (navigator.onLine and the offline event follow) and its browser
// context's service workers, through which the page's fetches go (network
// emulation of the page alone does not cut those).
func SetOffline(b *browsertest.Tab, offline bool) {
	b.T.Helper()
	emulate := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		sw := offline
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &sw,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	})
	b.Do(fmt.Sprintf("offline %v", offline), emulate, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	ctx, cancel := context.WithTimeout(b.Ctx, browsertest.Timeout)
	defer cancel()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		b.T.Fatal(err)
	}
	var bc cdp.BrowserContextID
	me := chromedp.FromContext(b.Ctx).Target.TargetID
	for _, ti := range targets {
		if ti.TargetID == me {
			bc = ti.BrowserContextID
		}
	}
	for _, ti := range targets {
		if ti.Type != "service_worker" || ti.BrowserContextID != bc {
			continue
		}
		if b.Workers == nil {
			b.Workers = map[target.ID]context.Context{}
		}
		wctx, ok := b.Workers[ti.TargetID]
		if !ok {
			var cancel context.CancelFunc
			wctx, cancel = chromedp.NewContext(b.Ctx, chromedp.WithTargetID(ti.TargetID))
			b.T.Cleanup(cancel)
			// Attached for as long as the tab (the first Run's context).
			if err := chromedp.Do(wctx); err != nil {
				b.T.Fatalf("attach to the service worker: %v", err)
			}
			b.Workers[ti.TargetID] = wctx
		}
		ectx, ecancel := context.WithTimeout(wctx, browsertest.Timeout)
		err := chromedp.Do(ectx, emulate)
		ecancel()
		if err != nil {
			b.T.Fatalf("service worker offline %v: %v", offline, err)
		}
	}
}
