package sqlite

import (
	"context"
	"sync"
	"time"

	"github.com/authdash/authdash"
)

// A search weighs its term's trigrams before it reads a task (weighGrams,
// and for a common term countMatches of them all): probes of the search
// index that cost as much as the page itself (about 45 % of a search's
// time in BenchmarkFindTasksGrown). What they find only chooses the plan,
// never the answer, and changes as slowly as the owner's tasks do, so it
// is kept per owner and term for planTTL: the pages after the first, the
// same search in another tab and the refreshes the live view makes skip
// the probes. A plan at most planTTL old costs at worst what a plan chosen
// on counts that old costs; each path is bounded anyway (findTasks).
//
// The cache is the process's own and holds no state a request depends on
// for its answer, so replicas stay stateless.

const (
	planTTL  = 5 * time.Second
	maxPlans = 4096
)

// searchPlan is what weighing a term found.
type searchPlan struct {
	rare  string   // a MATCH expression for the term's few tasks, "" if it has none (weighGrams)
	grams []string // the tokens of the trigrams weighed
	// all counts the tasks holding every token, up to gramCap; -1 until
	// a search needs it.
	all int
	// gramCap is the cap the counts were taken with (tests change it),
	// long whether long grams were weighed.
	gramCap int
	long    bool
	expires time.Time
}

// plans is the cache of search plans by owner and term.
type plans struct {
	mu sync.Mutex
	m  map[string]*searchPlan
}

func planKey(owner authdash.UserID, term string) string { return string(owner) + "\x00" + term }

// get returns a copy of the plan for owner and term if one is fresh.
func (p *plans) get(key string, gramCap int, long bool, now time.Time) (searchPlan, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sp, ok := p.m[key]
	if !ok || sp.gramCap != gramCap || sp.long != long || !now.Before(sp.expires) {
		return searchPlan{}, false
	}
	return *sp, true
}

// put keeps sp for key. When the cache is full, expired plans go, and if
// that frees nothing, all of them: a burst of distinct terms costs their
// weighing again, never memory.
func (p *plans) put(key string, sp searchPlan, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]*searchPlan)
	}
	if _, ok := p.m[key]; !ok && len(p.m) >= maxPlans {
		for k, v := range p.m {
			if !now.Before(v.expires) {
				delete(p.m, k)
			}
		}
		if len(p.m) >= maxPlans {
			clear(p.m)
		}
	}
	p.m[key] = &sp
}

// plan returns the plan of a search of term (lower-cased) by owner,
// weighing the term's trigrams if no fresh plan is kept.
func (db *DB) plan(ctx context.Context, owner authdash.UserID, term string) (searchPlan, error) {
	key, now := planKey(owner, term), time.Now()
	long := db.longReady.Load()
	if sp, ok := db.plans.get(key, db.gramCap, long, now); ok {
		return sp, nil
	}
	rare, grams, err := db.weighGrams(ctx, owner, term, long)
	if err != nil {
		return searchPlan{}, err
	}
	sp := searchPlan{rare: rare, grams: grams, all: -1, gramCap: db.gramCap, long: long, expires: now.Add(planTTL)}
	db.plans.put(key, sp, now)
	return sp, nil
}

// countAll returns how many tasks hold all of sp's tokens, up to gramCap,
// counting them once per plan.
func (db *DB) countAll(ctx context.Context, owner authdash.UserID, term string, sp *searchPlan) (int, error) {
	if sp.all >= 0 {
		return sp.all, nil
	}
	n, err := db.countMatches(ctx, matchAll(sp.grams...), db.gramCap)
	if err != nil {
		return 0, err
	}
	sp.all = n
	db.plans.put(planKey(owner, term), *sp, time.Now())
	return n, nil
}
