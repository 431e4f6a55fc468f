package realtime_test

import (
	"testing"

	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/realtime/brokertest"
)

func TestLocalBroker(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) realtime.Broker { return realtime.NewLocalBroker() })
}
