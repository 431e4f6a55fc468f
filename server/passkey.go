package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/wire"
)

// Passkeys' routes (README "Passkeys"): the profile's list, and the two
// ceremonies, each a begin (the options for navigator.credentials) and a
// finish (its answer).

func passkeyJSON(p authdash.Passkey) wire.Passkey {
	w := wire.Passkey{ID: auth.PasskeyID(p.ID), Name: p.Name, CreatedAt: p.CreatedAt,
		BackupEligible: p.BackupEligible, BackupState: p.BackupState}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt
		w.LastUsedAt = &t
	}
	return w
}

func credentialRequired(raw []byte) error {
	if len(raw) == 0 || string(raw) == "null" {
		return required("credential", "The passkey's answer is required.")
	}
	return nil
}

// handleListPasskeys lists the signed-in user's passkeys.
func handleListPasskeys(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		keys, err := svc.Passkeys(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		out := wire.PasskeyList{Items: []wire.Passkey{}}
		for _, k := range keys {
			out.Items = append(out.Items, passkeyJSON(k))
		}
		encode(w, http.StatusOK, out)
		return nil
	})
}

// handleBeginPasskey answers with the options to create a passkey.
func handleBeginPasskey(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		if err := account.perUser(ctx, "passkey", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		creation, err := svc.BeginPasskeyRegistration(ctx, authdash.UserFrom(ctx))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, creation)
		return nil
	})
}

// handleFinishPasskey keeps the passkey the browser created (201).
func handleFinishPasskey(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.PasskeyRegistration
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := credentialRequired(req.Credential); err != nil {
			return err
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "passkey", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		p, err := svc.FinishPasskeyRegistration(ctx, authdash.UserFrom(ctx), req.Name, req.Credential)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, passkeyJSON(*p))
		return nil
	})
}

// handleRenamePasskey renames one of the user's passkeys.
func handleRenamePasskey(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		id, err := auth.ParsePasskeyID(chi.URLParam(r, "id"))
		if err != nil {
			return err
		}
		var req wire.PasskeyRename
		if err := decode(r, &req); err != nil {
			return err
		}
		p, err := svc.RenamePasskey(r.Context(), authdash.UserFrom(r.Context()), id, req.Name)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, passkeyJSON(*p))
		return nil
	})
}

// handleDeletePasskey removes one of the user's passkeys (204).
func handleDeletePasskey(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		id, err := auth.ParsePasskeyID(chi.URLParam(r, "id"))
		if err != nil {
			return err
		}
		if err := svc.DeletePasskey(r.Context(), authdash.UserFrom(r.Context()), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleBeginPasskeyLogin answers with the options to sign in with a
// passkey; the body is optional ({} or none for a passkey alone).
func handleBeginPasskeyLogin(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.PasskeyLoginBegin
		if r.ContentLength != 0 {
			if err := decode(r, &req); err != nil {
				return err
			}
		}
		assertion, err := svc.BeginPasskeyLogin(r.Context(), req.MFAToken)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, assertion)
		return nil
	})
}

// handleFinishPasskeyLogin signs in with the passkey's answer: the grant a
// login gives. Unlike a code, a signature cannot be guessed, and each answer
// spends its challenge, so there is no per-account limit of guesses here
// (the per-IP one holds).
func handleFinishPasskeyLogin(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		var req wire.PasskeyLogin
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := credentialRequired(req.Credential); err != nil {
			return err
		}
		g, err := svc.FinishPasskeyLogin(r.Context(), req.MFAToken, req.Credential, r.UserAgent())
		if err != nil {
			return err
		}
		writeGrant(w, http.StatusOK, g, inBody, ck)
		return nil
	})
}
