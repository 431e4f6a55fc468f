package app

import "testing"

func TestNewestOffer(t *testing.T) {
	tests := []struct {
		name  string
		items []toast
		want  int
	}{
		{"OKNone", nil, 0},
		{"OKOnlyMessages", []toast{{ID: 3, Text: "Saved."}}, 0},
		{"OKTheLastOffer", []toast{{ID: -1, Offer: 1}, {ID: -4, Offer: 4}, {ID: 2, Text: "Saved."}}, -4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newestOffer(tt.items); got != tt.want {
				t.Errorf("newestOffer(%v) = %d, want %d", tt.items, got, tt.want)
			}
		})
	}
}
