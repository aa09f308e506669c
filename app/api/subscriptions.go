package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

func (s *Server) subscriptionJSON(r *http.Request, sub hook.Subscription) apijson.Subscription {
	return apijson.SubscriptionJSON(sub, s.svc.Subscriptions.SecretsSet(r.Context(), sub))
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	list := s.svc.Subscriptions.List(r.URL.Query().Get("endpoint"))
	out := apijson.SubscriptionList{Subscriptions: []apijson.Subscription{}}
	for _, sub := range list {
		out.Subscriptions = append(out.Subscriptions, s.subscriptionJSON(r, sub))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) {
	var c hook.SubscriptionChange
	if !readJSON(w, r, &c) {
		return
	}
	sub, err := s.svc.Subscriptions.Create(r.Context(), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.subscriptionJSON(r, sub))
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.svc.Subscriptions.Get(r.PathValue("sid"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subscriptionJSON(r, sub))
}

func (s *Server) patchSubscription(w http.ResponseWriter, r *http.Request) {
	var c hook.SubscriptionChange
	if !readJSON(w, r, &c) {
		return
	}
	sub, err := s.svc.Subscriptions.Update(r.Context(), r.PathValue("sid"), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subscriptionJSON(r, sub))
}

// deleteSubscription unregisters at the provider first; a provider that cannot be reached stops it
// (502), so nothing stays registered unknown to Hooktray.
func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Subscriptions.Delete(r.Context(), r.PathValue("sid")); err != nil {
		s.failProvider(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) subscriptionAction(do func(ctx context.Context, id string) (hook.Subscription, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sub, err := do(r.Context(), r.PathValue("sid"))
		if err != nil {
			s.failProvider(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.subscriptionJSON(r, sub))
	}
}

// failProvider answers a provider's refusal as 502 with its sentence, other errors as usual.
func (s *Server) failProvider(w http.ResponseWriter, err error) {
	var fe *hook.FieldError
	if errors.Is(err, hook.ErrNotFound) || errors.As(err, &fe) {
		s.fail(w, err)
		return
	}
	writeError(w, http.StatusBadGateway, err.Error())
}

// testSubscription asks the provider for a test delivery and answers the event it produced.
func (s *Server) testSubscription(w http.ResponseWriter, r *http.Request) {
	ev, err := s.svc.Subscriptions.Test(r.Context(), r.PathValue("sid"))
	if err != nil {
		s.failProvider(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.EventJSON(ev, -1))
}

// diagralKeys creates a Diagral system's API key from the account's e-mail and password, which
// are used for that only and never stored.
func (s *Server) diagralKeys(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseURL  string `json:"base_url"`
		Email    string `json:"email"`
		Password string `json:"password"`
		SerialID string `json:"serial_id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Email == "" || req.Password == "" || req.SerialID == "" {
		writeJSON(w, http.StatusBadRequest, apijson.Error{Error: "give email, password and serial_id", Field: "email"})
		return
	}
	key, secret, err := s.svc.Subscriptions.DiagralKeys(r.Context(), req.BaseURL, req.Email, req.Password, req.SerialID)
	if err != nil {
		s.failProvider(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"api_key": key, "secret_key": secret})
}
