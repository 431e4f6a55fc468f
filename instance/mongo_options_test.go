package instance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	mongostore "github.com/authdash/authdash/store/mongo"
)

func TestMongoOptions(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    mongostore.Options
		wantErr []string // variables the error must name
	}{
		{"Defaults", nil, mongostore.Options{}, nil},
		{"All", map[string]string{
			"MONGO_DATABASE": "prod", "MONGO_MAX_POOL_SIZE": "50", "MONGO_CONNECT_TIMEOUT": "3s",
			"MONGO_SERVER_SELECTION_TIMEOUT": "2s", "MONGO_OP_TIMEOUT": "750ms", "MONGO_RETRY": "false",
			"MONGO_WRITE_CONCERN": "2", "MONGO_READ_PREFERENCE": "primaryPreferred",
		}, mongostore.Options{
			Database: "prod", MaxPoolSize: 50, ConnectTimeout: 3 * time.Second, ServerSelectionTimeout: 2 * time.Second,
			OpTimeout: 750 * time.Millisecond, NoRetryReads: true, NoRetryWrites: true,
			WriteConcern: "2", ReadPreference: "primaryPreferred",
		}, nil},
		{"ErrEveryBadVariable", map[string]string{
			"MONGO_MAX_POOL_SIZE": "0", "MONGO_OP_TIMEOUT": "5", "MONGO_CONNECT_TIMEOUT": "-1s", "MONGO_RETRY": "sometimes",
			"MONGO_WRITE_CONCERN": "0", "MONGO_READ_PREFERENCE": "fastest",
		}, mongostore.Options{}, []string{
			"MONGO_MAX_POOL_SIZE", "MONGO_OP_TIMEOUT", "MONGO_CONNECT_TIMEOUT", "MONGO_RETRY",
			"MONGO_WRITE_CONCERN", "MONGO_READ_PREFERENCE",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mongoOptions(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, v := range tt.wantErr {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error does not name %s:\n%v", v, err)
				}
			}
		})
	}
}
