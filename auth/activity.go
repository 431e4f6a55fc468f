package auth

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/authdash/authdash"
)

// The sign-in activity (GET /api/me/activity): every attempt on an account,
// kept SignInRetention, and a notice by mail when a sign-in comes from a
// device the account has not used before.

// SignIns returns the user's last sign-in events, newest first.
func (s *Service) SignIns(ctx context.Context, user authdash.UserID) ([]authdash.SignInEvent, error) {
	return s.store.SignIns(ctx, user, authdash.MaxSignInsListed)
}

// recordSignIn notes an attempt on u's account from the request in ctx and,
// for a success from a new device, mails u a notice. A failure is logged,
// never returned: the sign-in itself has happened (or has been refused).
func (s *Service) recordSignIn(ctx context.Context, u *authdash.User, method authdash.SignInMethod, outcome authdash.SignInOutcome, reason, userAgent string) {
	ip := authdash.ClientIPFrom(ctx)
	device := authdash.DeviceName(userAgent)
	e := authdash.SignInEvent{At: s.cfg.Now(), IP: ip, Device: device, Method: method, Outcome: outcome, Reason: reason,
		DeviceKey: device + "|" + network(ip)}
	// The request may be cancelled the moment its answer is written.
	ctx = context.WithoutCancel(ctx)
	isNew, err := s.store.RecordSignIn(ctx, u.ID, e)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in not recorded", slog.String("user", string(u.ID)), slog.Any("err", err))
		return
	}
	if isNew {
		s.mail(ctx, AccountMail{Kind: MailNewSignIn, To: u.Email, Name: u.Name, Device: device, IP: ip, At: e.At})
	}
}

// network is the part of an address that stays while a device moves about
// one network: an IPv4 /24, an IPv6 /48 (a site; its /64s are handed out
// afresh by many providers).
func network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ip
	}
	return p.String()
}
