package mongo

import (
	"context"
	"errors"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mailDoc is a message in the mailOutbox collection. Due is when it may next be claimed:
// a claim moves it to the end of its lease, a failure to the retry time.
type mailDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Kind      string        `bson:"kind"`
	To        string        `bson:"to"`
	Subject   string        `bson:"subject"`
	Text      string        `bson:"text"`
	HTML      string        `bson:"html"`
	Link      string        `bson:"link"`
	Due       time.Time     `bson:"due"`
	Expires   *time.Time    `bson:"expires,omitempty"`
	Attempts  int           `bson:"attempts"`
	LastError string        `bson:"lastError"`
}

func (d *mailDoc) mail() authdash.Mail {
	m := authdash.Mail{ID: authdash.MailID(d.ID.Hex()), Kind: d.Kind, To: d.To, Subject: d.Subject,
		Text: d.Text, HTML: d.HTML, Link: d.Link, Due: utc(d.Due), Attempts: d.Attempts, LastError: d.LastError}
	if d.Expires != nil {
		m.Expires = utc(*d.Expires)
	}
	return m
}

func errMailNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "Message not found.") }

// EnqueueMail implements authdash.MailOutbox: one insert.
func (db *DB) EnqueueMail(ctx context.Context, m authdash.Mail) (authdash.MailID, error) {
	d := mailDoc{ID: bson.NewObjectID(), Kind: m.Kind, To: m.To, Subject: m.Subject, Text: m.Text,
		HTML: m.HTML, Link: m.Link, Due: authdash.Millis(m.Due)}
	if !m.Expires.IsZero() {
		e := authdash.Millis(m.Expires)
		d.Expires = &e
	}
	if _, err := db.outbox.InsertOne(ctx, d); err != nil {
		return "", db.fail(ctx, "enqueue mail", err)
	}
	return authdash.MailID(d.ID.Hex()), nil
}

// ClaimMail implements authdash.MailOutbox: one findOneAndUpdate per message (the earliest
// due one), each atomic on its document, so racing claims never share a message; a round
// trip finding nothing ends the claim.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]authdash.Mail, error) {
	until := authdash.Millis(now.Add(lease))
	filter := bson.D{{Key: "due", Value: bson.D{{Key: "$lte", Value: authdash.Millis(now)}}}}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "due", Value: until}}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	}
	opts := options.FindOneAndUpdate().
		SetSort(bson.D{{Key: "due", Value: 1}, {Key: "_id", Value: 1}}).
		SetReturnDocument(options.After)
	var out []authdash.Mail
	for len(out) < n {
		var d mailDoc
		err := db.outbox.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return nil, db.fail(ctx, "claim mail", err)
		}
		out = append(out, d.mail())
	}
	return out, nil
}

// RetryMail implements authdash.MailOutbox.
func (db *DB) RetryMail(ctx context.Context, id authdash.MailID, next time.Time, reason string) error {
	oid, ok := objectID(string(id))
	if !ok {
		return db.fail(ctx, "retry mail", errMailNotFound())
	}
	res, err := db.outbox.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "due", Value: authdash.Millis(next)}, {Key: "lastError", Value: reason}}}})
	return db.updatedOne(ctx, "retry mail", res, err, errMailNotFound)
}

// DeleteMail implements authdash.MailOutbox.
func (db *DB) DeleteMail(ctx context.Context, id authdash.MailID) error {
	oid, ok := objectID(string(id))
	if !ok {
		return db.fail(ctx, "delete mail", errMailNotFound())
	}
	res, err := db.outbox.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	return db.deletedOne(ctx, "delete mail", res, err, errMailNotFound)
}
