package mongo

import (
	"context"
	"errors"
	"slices"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A search is a literal, case-insensitive substring of the title or of the
// description. A regular expression cannot use an index for a substring,
// so alone it reads every live task of the owner's (a collection scan
// within the owner), however few match. Each task therefore carries the
// distinct trigrams (three runes) of its title key and of its description
// key, in titleGrams and descGrams, each under a multikey index after owner
// and deleted. A term of three runes or more is looked for only in the
// tasks whose trigrams of that field hold every trigram of the term ($all,
// which the server answers by an index range on one of them), and the
// literal regular expression then confirms it on those few. Shorter terms,
// whose trigrams do not exist, read the owner's tasks in page order as
// before: matching so much, they fill a page quickly.
//
// docs/ARCHITECTURE.md ("Search on MongoDB") says what a real MongoDB does
// with this and what it costs; TestSearchUsesGrams checks the query and
// the indexes on the MongoDB-wire test server.

// maxTermGrams bounds how many of a long term's trigrams the filter names:
// a dozen spread over the term narrow as well as all of them, and each is
// one more value for the server to check.
const maxTermGrams = 12

// fieldGrams returns the distinct trigrams of a key (already folded as the
// search folds: authdash.TitleKey, strings.ToLower), sorted.
func fieldGrams(key string) []string {
	if !utf8.ValidString(key) || utf8.RuneCountInString(key) < 3 {
		return []string{}
	}
	// Substrings of key, sorted and made distinct: no map, no copies.
	out := make([]string, 0, len(key))
	i := 0 // the byte offsets of three runes in a row: i, j, k
	_, n1 := utf8.DecodeRuneInString(key)
	j := n1
	_, n2 := utf8.DecodeRuneInString(key[j:])
	k := j + n2
	for k < len(key) {
		_, n3 := utf8.DecodeRuneInString(key[k:])
		out = append(out, key[i:k+n3])
		i, j, k = j, k, k+n3
	}
	slices.Sort(out)
	return slices.Clip(slices.Compact(out))
}

// termGrams returns up to maxTermGrams distinct trigrams of the lower-cased
// term, spread over it, or nil if it has fewer than three runes.
func termGrams(term string) []string {
	all := fieldGrams(term)
	if len(all) <= maxTermGrams {
		if len(all) == 0 {
			return nil
		}
		return all
	}
	picked := make([]string, 0, maxTermGrams)
	for i := range maxTermGrams {
		picked = append(picked, all[i*(len(all)-1)/(maxTermGrams-1)])
	}
	return picked
}

// gramsMigration names the marker, in the migrations collection, that
// every task made before titleGrams and descGrams existed has them.
const gramsMigration = "taskGrams"

// gramTasks gives every task stored before the search's trigrams existed
// its trigrams, in batches, then records that it is done so that later
// starts do not look again. Safe to run by several instances at once: they
// compute the same values, and each update asks for the field's absence.
func (db *DB) gramTasks(ctx context.Context) error {
	err := db.migrations.FindOne(ctx, bson.D{{Key: "_id", Value: gramsMigration}}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return db.fail(ctx, "gram tasks", err)
	}
	const batch = 500
	lacking := bson.D{{Key: "titleGrams", Value: bson.D{{Key: "$exists", Value: false}}}}
	for {
		cur, err := db.tasks.Find(ctx, lacking, options.Find().SetLimit(batch).
			SetProjection(bson.D{{Key: "titleKey", Value: 1}, {Key: "descKey", Value: 1}}))
		if err != nil {
			return db.fail(ctx, "gram tasks", err)
		}
		var docs []struct {
			ID       bson.ObjectID `bson:"_id"`
			TitleKey string        `bson:"titleKey"`
			DescKey  string        `bson:"descKey"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			return db.fail(ctx, "gram tasks", err)
		}
		if len(docs) == 0 {
			break
		}
		models := make([]mongo.WriteModel, len(docs))
		for i, d := range docs {
			models[i] = mongo.NewUpdateOneModel().
				SetFilter(append(bson.D{{Key: "_id", Value: d.ID}}, lacking...)).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{
					{Key: "titleGrams", Value: fieldGrams(d.TitleKey)},
					{Key: "descGrams", Value: fieldGrams(d.DescKey)},
				}}})
		}
		if _, err := db.tasks.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return db.fail(ctx, "gram tasks", err)
		}
		db.log.Info("mongo: gave tasks their search trigrams", "tasks", len(docs))
	}
	_, err = db.migrations.UpdateOne(ctx, bson.D{{Key: "_id", Value: gramsMigration}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return db.fail(ctx, "gram tasks", err)
	}
	return nil
}

// searchFilter is the part of FindTasks' filter that finds the term
// (lower-cased): through the trigram indexes when it has trigrams, and
// always confirmed as a literal by a regular expression.
func searchFilter(term string) bson.D {
	re := bson.Regex{Pattern: literal(term)}
	grams := termGrams(term)
	if grams == nil {
		return bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "titleKey", Value: re}},
			bson.D{{Key: "descKey", Value: re}},
		}}}
	}
	all := bson.D{{Key: "$all", Value: grams}}
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "titleGrams", Value: all}, {Key: "titleKey", Value: re}},
		bson.D{{Key: "descGrams", Value: all}, {Key: "descKey", Value: re}},
	}}}
}
