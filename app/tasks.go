package app

import (
	"slices"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/tasklist"
)

// reload loads the query the page asks for (its URL) again, as deep as
// the list shows it (tasklist.ReloadQuery), and the stats.
func (c *controller) reload(ctx app.Context, session int) {
	c.mu.Lock()
	q := c.want
	first := c.list.ReloadQuery(q)
	c.mu.Unlock()
	c.loadAs(ctx, session, q, first)
	c.loadStats(ctx, session)
}

// load replaces the list with the first page of q.
func (c *controller) load(ctx app.Context, session int, q authdash.TaskQuery) {
	c.loadAs(ctx, session, q, tasklist.New(q).Query())
}

// loadAs replaces the list with a new list of q, filled from the answer to
// first: q's first page, or (reload) that page asked for more tasks.
func (c *controller) loadAs(ctx app.Context, session int, q, first authdash.TaskQuery) {
	c.mu.Lock()
	if c.session != session {
		c.mu.Unlock()
		return
	}
	c.loading++
	gen := c.loading
	if gen == 1 {
		c.during = nil
	}
	next := tasklist.New(q)
	c.mu.Unlock()
	c.publishLoading(ctx, next.Query())

	page, err := c.client.ListTasks(ctx, first)

	c.mu.Lock()
	if c.session != session || c.loading != gen {
		// Signed out meanwhile, or a newer query superseded this one.
		if c.session == session && c.loading == gen {
			c.loading = 0
		}
		c.mu.Unlock()
		return
	}
	c.loading = 0
	if err != nil {
		c.mu.Unlock()
		c.publishTasks(ctx, authdash.ErrorMessageOf(err))
		return
	}
	next.Reset(page)
	for _, ev := range c.during {
		next.Apply(ev)
	}
	c.during = nil
	c.list = next
	c.mu.Unlock()
	c.publishTasks(ctx, "")
}

func (c *controller) publishLoading(ctx app.Context, q authdash.TaskQuery) {
	if c.showingCached() {
		return
	}
	c.mu.Lock()
	v := c.viewLocked("")
	c.mu.Unlock()
	v.Query, v.Loading = q, true
	setState(ctx, stTasks, v)
}

func (c *controller) viewLocked(errMsg string) tasksView {
	if c.list == nil {
		return tasksView{}
	}
	_, more := c.list.NextQuery()
	return tasksView{
		Query:   c.list.Query(),
		Items:   slices.Clone(c.list.Items()),
		HasMore: more,
		Loading: c.loading != 0,
		Loaded:  true,
		Err:     errMsg,
		Deleted: c.list.Deleted(),
	}
}

// publishTasks shows the list and keeps the offline copy current.
func (c *controller) publishTasks(ctx app.Context, errMsg string) {
	if c.showingCached() {
		// Changes wait to be sent: the kept list with them stays shown.
		c.publishCached(ctx)
		return
	}
	c.mu.Lock()
	v := c.viewLocked(errMsg)
	signedIn := c.stop != nil
	c.mu.Unlock()
	setState(ctx, stTasks, v)
	if signedIn && errMsg == "" {
		c.saveOffline(ctx)
	}
}

// saveOffline keeps what the app shows in local storage, for opening
// offline: the user, the stats and the first tasks of the list.
func (c *controller) saveOffline(ctx app.Context) {
	c.mu.Lock()
	if c.stop == nil || c.list == nil {
		c.mu.Unlock()
		return
	}
	items := c.list.Items()
	oc := offlineCopy{User: c.user, Query: c.list.Query(), Items: slices.Clone(items[:min(len(items), 50)]), Stats: c.stats}
	c.mu.Unlock()
	_ = ctx.LocalStorage().Set(offlineKey, oc)
}

func (c *controller) scheduleStats(ctx app.Context, session int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.statsTimer != nil {
		return
	}
	c.statsTimer = time.AfterFunc(statsDelay, func() {
		c.mu.Lock()
		c.statsTimer = nil
		c.mu.Unlock()
		c.loadStats(ctx, session)
	})
}

func (c *controller) loadStats(ctx app.Context, session int) {
	st, err := c.client.Stats(ctx)
	if err == nil && c.current(session) {
		c.mu.Lock()
		c.stats = st
		c.mu.Unlock()
		setState(ctx, stStats, st)
		c.saveOffline(ctx)
	}
}

func (c *controller) query(ctx app.Context, a app.Action) {
	q, _ := a.Value.(authdash.TaskQuery)
	q.Cursor = ""
	q.Normalize()
	if err := q.Validate(); err != nil {
		c.publishTasks(ctx, authdash.ErrorMessageOf(err)+" "+fieldText(err))
		return
	}
	if c.queryCached(ctx, &q, false) {
		return
	}
	c.mu.Lock()
	c.want = q
	session, ok := c.session, c.list != nil
	same := ok && c.loading == 0 && c.list.Query() == q
	c.mu.Unlock()
	if ok && !same {
		c.load(ctx, session, q)
	}
}

func (c *controller) more(ctx app.Context, _ app.Action) {
	if c.queryCached(ctx, nil, true) {
		return
	}
	c.mu.Lock()
	if c.list == nil || c.loading != 0 {
		c.mu.Unlock()
		return
	}
	list, session := c.list, c.session
	q, ok := list.NextQuery()
	c.mu.Unlock()
	if !ok {
		return
	}
	page, err := c.client.ListTasks(ctx, q)
	c.mu.Lock()
	if c.session != session || c.list != list {
		c.mu.Unlock()
		return
	}
	if err == nil {
		list.Append(page)
	}
	c.mu.Unlock()
	c.publishTasks(ctx, authdash.ErrorMessageOf(err))
}
