package mongo_test

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// TestFailOutOfDisk: MongoDB refusing a write for a full disk is
// unavailable (503, retry), not an internal error.
func TestFailOutOfDisk(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want authdash.ErrorCode
	}{
		{"WriteError", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 14031, Message: "Out of disk space"}}}, authdash.CodeUnavailable},
		{"CommandError", mongo.CommandError{Code: 14031, Name: "OutOfDiskSpace"}, authdash.CodeUnavailable},
		{"OtherServerError", mongo.CommandError{Code: 2, Name: "BadValue"}, authdash.CodeInternal},
		{"Foreign", errors.New("boom"), authdash.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authdash.ErrorCodeOf(mongostore.Fail(nil, tt.err)); got != tt.want {
				t.Errorf("code %q, want %q", got, tt.want)
			}
		})
	}
}
