package authdash

import "context"

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	originKey
	clientIPKey
)

// WithUser returns ctx carrying the authenticated user and session. Only the
// HTTP and WebSocket edges set and read it; stores take the owner explicitly.
func WithUser(ctx context.Context, id UserID, sid SessionID) context.Context {
	ctx = context.WithValue(ctx, userKey, id)
	return context.WithValue(ctx, sessionKey, sid)
}

// UserFrom returns the authenticated user in ctx, or "".
func UserFrom(ctx context.Context) UserID {
	id, _ := ctx.Value(userKey).(UserID)
	return id
}

// SessionFrom returns the session of the authenticated user in ctx, or "".
func SessionFrom(ctx context.Context) SessionID {
	id, _ := ctx.Value(sessionKey).(SessionID)
	return id
}

// WithOrigin returns ctx carrying the client ID of the tab making a request.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey, origin)
}

// OriginFrom returns the client ID in ctx, or "".
func OriginFrom(ctx context.Context) string {
	o, _ := ctx.Value(originKey).(string)
	return o
}

// WithClientIP returns ctx carrying the address a request came from, as the
// HTTP edge read it (behind trusted proxies, from X-Forwarded-For), for the
// sign-in activity.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

// ClientIPFrom returns the client's address in ctx, or "".
func ClientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey).(string)
	return ip
}
